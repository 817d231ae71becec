"""`member_student`: an ensemble's student starts from its best member's channels."""

import keras
import numpy as np
import pytest
from small_models import USER_SHAPED_MODELS

from kerasopt.compress.member_student import member_student
from kerasopt.compress.width_student import width_student
from kerasopt.core.errors import InvalidValueError
from kerasopt.data import DatasetSplits
from kerasopt.models import build_cnn
from kerasopt.strategies import combine_members


def _cnn(seed):
    keras.utils.set_random_seed(seed)
    return build_cnn(
        (8, 8), 10, input_max=16, filters=(8, 16), dense_units=16, dropout=0.0, bn_momentum=0.9
    )


@pytest.fixture(scope="module")
def ensemble(digits):
    untrained, trained = _cnn(0), _cnn(1)
    trained.compile("adam", "sparse_categorical_crossentropy")
    trained.fit(digits.x_train, digits.y_train, epochs=3, batch_size=32, verbose=0)
    return combine_members([untrained, trained])


def test_the_student_is_the_best_members_strongest_channels(ensemble, digits):
    before = [w.copy() for w in ensemble.get_weights()]
    start = member_student(ensemble, digits, 0.5)
    assert start.member == start.template == "member_1"
    scores = start.val_accuracies
    assert set(scores) == {"member_0", "member_1"} and scores["member_1"] > scores["member_0"] + 0.3
    kernel = ensemble.get_layer("member_1").get_layer("block0_conv0").kernel.numpy()
    strongest = np.sort(np.argsort(-np.abs(kernel).sum(axis=(0, 1, 2)), kind="stable")[:4])
    np.testing.assert_array_equal(
        start.model.get_layer("block0_conv0").kernel.numpy(), kernel[..., strongest]
    )
    assert start.model.name == "student" and start.model.output_shape == (None, 10)
    assert "member_1's strongest channels" in start.describe()
    copy = member_student(ensemble, digits, 1.0)
    assert copy.describe().startswith("a copy of member_1")
    for ours, theirs in zip(
        copy.model.get_weights(), ensemble.get_layer("member_1").get_weights(), strict=True
    ):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(ensemble.get_weights(), before, strict=True):
        np.testing.assert_array_equal(ours, theirs)  # the ensemble is left as it was


def test_a_member_whose_channels_cannot_be_followed_gives_fresh_weights(digits):
    def mixing(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [
                keras.Input((8, 8)),
                keras.layers.Flatten(),
                keras.layers.Dense(16, name="hidden"),
                keras.layers.Softmax(name="mixing"),  # mixes the channels
                keras.layers.Dense(10, activation="softmax"),
            ]
        )

    ensemble = combine_members([mixing(0), mixing(1)])
    with pytest.warns(UserWarning, match="'mixing'.*starts from fresh weights"):
        start = member_student(ensemble, digits, 0.5)
    assert start.member is None and start.template in ("member_0", "member_1")
    template = ensemble.get_layer(start.template)
    assert start.model.count_params() == width_student(template, 0.5).count_params()
    assert start.describe().startswith("fresh weights in member_")


def test_bad_input_is_named_with_the_fix(ensemble, digits):
    with pytest.raises(InvalidValueError, match=r"without a nested keras.Model.*report\.model"):
        member_student(_cnn(0), digits, 0.5)
    with pytest.raises(InvalidValueError, match=r"member_student: expected width in \(0, 1\]"):
        member_student(ensemble, digits, 1.5)


@pytest.mark.parametrize("build", USER_SHAPED_MODELS.values(), ids=USER_SHAPED_MODELS.keys())
def test_ensembles_of_user_shaped_models_give_a_thinned_member(build, rng):
    members = [build(), build()]
    ensemble = combine_members(members)
    shape, classes = members[0].inputs[0].shape[1:], members[0].output_shape[-1]
    x = rng.random((16, *shape)).astype("float32")
    y = rng.integers(0, classes, 16)
    data = DatasetSplits("random", x, y, x, y, x, y, num_classes=classes, split={})
    start = member_student(ensemble, data, 0.5)
    assert start.member in ("member_0", "member_1")  # its channels, not fresh weights
    assert start.model.output_shape == members[0].output_shape
    assert start.model.count_params() < 0.6 * members[0].count_params()
