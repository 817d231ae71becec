"""Ensembles: members trained three ways, combined into one model, exported as int8."""

import math

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.models import build_cnn
from kerasopt.strategies import (
    WeightedAverage,
    WeightedVote,
    combine_members,
    ensemble,
    samme_alpha,
    train_members,
)


def tiny_cnn():
    return build_cnn((8, 8), 10, input_max=16, filters=(8,), dense_units=32, dropout=0.0)


@pytest.fixture(scope="module")
def small_digits():
    from kerasopt.data import load_dataset

    return load_dataset("digits").subsample_train(300, seed=0)


@pytest.fixture(scope="module")
def two_members():
    keras.utils.set_random_seed(1)
    return [tiny_cnn(), tiny_cnn()]


def test_average_equals_the_mean_of_the_members(two_members, small_digits):
    x = small_digits.x_test[:32]
    combined = combine_members(two_members)
    outputs = [m.predict(x, verbose=0) for m in two_members]
    assert len(combined.inputs) == 1 and len(combined.outputs) == 1
    np.testing.assert_allclose(combined.predict(x, verbose=0), np.mean(outputs, 0), atol=1e-6)
    weighted = combine_members(two_members, combiner="weighted_average", weights=[3.0, 1.0])
    expected = 0.75 * outputs[0] + 0.25 * outputs[1]
    np.testing.assert_allclose(weighted.predict(x, verbose=0), expected, atol=1e-6)


def test_weighted_vote_is_samme_on_hand_made_votes():
    first = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]], "float32")
    second = np.array([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1]], "float32")
    votes = WeightedVote([3.0, 1.0])([first, second]).numpy()
    np.testing.assert_allclose(votes, [[0.75, 0.0, 0.25], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize("combiner", ["average", "weighted_average", "weighted_vote"])
def test_combined_model_round_trips_a_keras_file_in_safe_mode(two_members, tmp_path, combiner):
    weights = None if combiner == "average" else [0.5, 2.0]
    model = combine_members(two_members, combiner=combiner, weights=weights)
    model.save(tmp_path / "ensemble.keras")
    loaded = keras.saving.load_model(tmp_path / "ensemble.keras", safe_mode=True)
    x = np.random.default_rng(0).uniform(0, 16, (8, 8, 8)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("layer_class", [WeightedAverage, WeightedVote], ids=["avg", "vote"])
def test_combining_layers_round_trip_get_config(layer_class):
    layer = layer_class([1.0, 2.5], name="combine")
    clone = layer_class.from_config(layer.get_config())
    assert clone.member_weights == [1.0, 2.5] and clone.name == "combine"


def test_samme_alpha_on_a_hand_made_error():
    assert samme_alpha(0.25, 3) == pytest.approx(math.log(3) + math.log(2))
    assert samme_alpha(0.9, 10) == pytest.approx(0.0)  # chance level for K=10


def test_adaboost_member_weights_follow_samme(small_digits):
    trained = train_members(small_digits, tiny_cnn, method="adaboost", members=2, epochs=3)
    assert len(trained.models) == 2 and all(0 < e < 0.9 for e in trained.errors)
    expected = [samme_alpha(error, 10) for error in trained.errors]
    assert trained.weights == pytest.approx(expected)


def test_snapshot_members_differ(small_digits):
    trained = train_members(small_digits, tiny_cnn, method="snapshot", members=2, epochs=1)
    first, second = (m.get_weights() for m in trained.models)
    assert trained.weights is None and len(trained.models) == 2
    assert any(not np.allclose(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    ("method", "members", "match"),
    [
        ("bagging", 1, r"expected members >= 2 .* Received: members=1\. Pass e\.g\. members=5"),
        ("boosting", 3, r"expected method to be one of .* Received: method='boosting'"),
        ("bagging", 301, r"expected members <= the 300 training samples.*members=301"),
    ],
    ids=["one_member", "unknown_method", "more_members_than_samples"],
)
def test_bad_arguments_raise_before_anything_is_written(
    small_digits, tmp_path, method, members, match
):
    out = tmp_path / "out"
    with pytest.raises(InvalidValueError, match=match):
        ensemble(small_digits, method=method, members=members, out_dir=out)
    assert not out.exists()
