"""Few-shot meta-learning: episodes, the Reptile outer step, and the fair comparison."""

import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError
from kerasopt.strategies import (
    EpisodeSampler,
    TaskAdapter,
    augment_classes,
    check_fewshot,
    confidence_interval,
    evaluate_initializations,
    fewshot,
    meta_step_size,
    reptile_meta_train,
    reptile_update,
    split_classes,
    with_new_head,
)

WAYS, SHOTS, QUERIES = 3, 2, 4


@pytest.fixture(scope="module")
def pool():
    """60 samples of 6 classes; sample i holds the value i, so rows can be read back."""
    x = np.arange(60, dtype="float32").reshape(60, 1) * np.ones((1, 4), "float32")
    return x, np.arange(60) % 6


def test_episode_has_k_classes_s_support_q_query_disjoint(pool):
    x, y = pool
    sampler = EpisodeSampler(x, y, ways=WAYS, shots=SHOTS, queries=QUERIES, seed=3)
    for index in range(10):
        episode = sampler.episode(index)
        assert len(set(episode.classes.tolist())) == WAYS
        support, query = episode.support_x[:, 0].astype(int), episode.query_x[:, 0].astype(int)
        assert not set(support) & set(query)
        assert np.bincount(episode.support_y).tolist() == [SHOTS] * WAYS
        assert np.bincount(episode.query_y).tolist() == [QUERIES] * WAYS
        # label j means the episode's j-th class, in the support and the query set alike
        assert (y[support] == episode.classes[episode.support_y]).all()
        assert (y[query] == episode.classes[episode.query_y]).all()


def test_episodes_are_seeded_and_labels_permuted(pool):
    x, y = pool
    first = EpisodeSampler(x, y, ways=WAYS, shots=SHOTS, queries=QUERIES, seed=3)
    again = EpisodeSampler(x, y, ways=WAYS, shots=SHOTS, queries=QUERIES, seed=3)
    other = EpisodeSampler(x, y, ways=WAYS, shots=SHOTS, queries=QUERIES, seed=4)
    np.testing.assert_array_equal(first.episode(5).query_x, again.episode(5).query_x)
    assert not np.array_equal(first.episode(5).support_x, other.episode(5).support_x)
    orders = {tuple(first.episode(i).classes.tolist()) for i in range(20)}
    assert len(orders) > 10  # class order (= labels) changes between episodes


def test_dihedral_augmentation_makes_eight_classes_of_rotations_and_mirrors():
    x = np.arange(2 * 9).reshape(2, 3, 3)
    ax, ay = augment_classes(x, np.array([0, 1]))
    assert sorted(ay.tolist()) == list(range(16))
    np.testing.assert_array_equal(ax[ay == 0 * 8 + 1][0], np.rot90(x[0]))
    np.testing.assert_array_equal(ax[ay == 1 * 8 + 4][0], x[1][:, ::-1])
    same, labels = augment_classes(x, np.array([0, 1]), "none")
    assert same is x or np.array_equal(same, x)


def test_class_split_default_and_choices():
    assert split_classes(10, 5) == ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    assert split_classes(10, 3, test_classes=[7, 8, 9])[0] == [0, 1, 2, 3, 4, 5, 6]
    with pytest.raises(InvalidValueError, match=r"in both"):
        split_classes(10, 3, meta_classes=[0, 1, 2, 3], test_classes=[3, 4, 5])


def test_one_reptile_outer_step_moves_by_epsilon_times_the_adaptation():
    import keras

    from kerasopt.models import build_cnn

    keras.utils.set_random_seed(0)
    model = build_cnn((4, 4), 2, input_max=1, filters=(2,), dense_units=4, dropout=0.0)
    adapter = TaskAdapter(model, learning_rate=1e-2)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(20, 4, 4)).astype("float32"), np.arange(20) % 4
    sampler = EpisodeSampler(x, y, ways=2, shots=3, seed=1)
    init = model.get_weights()
    task = sampler.episode(0)
    adapted = adapter.adapt(init, task.support_x, task.support_y, steps=3)
    assert any(not np.allclose(a, w) for a, w in zip(adapted, init, strict=True))
    result = reptile_meta_train(adapter, sampler, init, iterations=1, inner_steps=3, meta_step=0.3)
    for new, w, a in zip(result.weights, init, adapted, strict=True):
        np.testing.assert_allclose(new - w, 0.3 * (a - w), rtol=1e-5, atol=1e-7)
    assert reptile_update([np.zeros(2)], [np.full(2, 4.0)], 0.25)[0].tolist() == [1.0, 1.0]


def test_adapted_batch_norm_holds_the_support_sets_statistics():
    # A few steps at momentum 0.99 would leave the moving statistics at the previous
    # task's; after `adapt` inference on the support set matches training mode on it.
    import keras
    from small_models import residual_cnn

    keras.utils.set_random_seed(0)
    model = residual_cnn((8, 8), 3, input_max=1.0)
    adapter = TaskAdapter(model, learning_rate=1e-2)
    rng = np.random.default_rng(0)
    start = model.get_weights()
    for offset in (0.0, 0.5):  # a second task with other statistics replaces the first's
        x = (rng.uniform(size=(6, 8, 8)) + offset).astype("float32")
        adapter.adapt(start, x, np.arange(6) % 3, steps=2)
        stem = keras.Model(model.input, model.get_layer("stem_conv").output)
        features = stem(x).numpy()
        bn = model.get_layer("stem_bn")
        np.testing.assert_allclose(bn.moving_mean.numpy(), features.mean((0, 1, 2)), atol=1e-5)
        np.testing.assert_allclose(bn.moving_variance.numpy(), features.var((0, 1, 2)), rtol=1e-4)
        np.testing.assert_allclose(
            model(x, training=False).numpy(), model(x, training=True).numpy(), atol=1e-5
        )
    assert bn.momentum == pytest.approx(0.99)


def test_meta_step_anneals_linearly():
    steps = [meta_step_size(t, 4, 1.0, 0.2) for t in range(4)]
    np.testing.assert_allclose(steps, [1.0, 0.8, 0.6, 0.4])


class RecordingAdapter:
    """Stands in for `TaskAdapter`: records which start adapted on which support set."""

    def __init__(self):
        self.calls = []
        self.current = None

    def adapt(self, weights, x, y, *, steps):
        self.current = weights[0]
        self.calls.append((weights[0], tuple(x[:, 0].tolist()), steps))
        return weights

    def accuracy(self, x, y):
        return {"reptile": 1.0, "scratch": 0.5, "pretrained": 0.25}[self.current]


def test_the_three_methods_see_the_same_episodes(pool):
    x, y = pool
    sampler = EpisodeSampler(x, y, ways=WAYS, shots=SHOTS, queries=QUERIES, seed=0)
    starts = {name: [name] for name in ("reptile", "scratch", "pretrained")}
    adapter = RecordingAdapter()
    scores, classes = evaluate_initializations(adapter, sampler, starts, episodes=4, steps=7)
    assert len(adapter.calls) == 12 and {c[2] for c in adapter.calls} == {7}
    for index in range(4):
        calls = adapter.calls[3 * index : 3 * index + 3]
        assert [c[0] for c in calls] == ["reptile", "scratch", "pretrained"]
        assert len({c[1] for c in calls}) == 1  # one support set for all three
        assert calls[0][1] == tuple(sampler.episode(index).support_x[:, 0].tolist())
    assert [s.method for s in scores] == ["reptile", "scratch", "pretrained"]
    assert [s.mean for s in scores] == [1.0, 0.5, 0.25] and len(classes) == 4


def test_confidence_interval_and_new_head():
    assert confidence_interval([0.5, 0.7, 0.9]) == pytest.approx(1.959964 * 0.2 / np.sqrt(3))
    assert confidence_interval([0.4]) == 0.0
    with pytest.raises(ValueError, match=r"expected the pre-trained body to match"):
        with_new_head([np.ones(3), np.ones(2), np.ones(2)], [np.ones(4), np.ones(2), np.ones(2)])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ways": 6}, r"at least 2 x ways = 12 classes.*ways=6 with 10 classes.*--ways 5"),
        ({"shots": 40}, r"shots \+ queries \(15\) <= \d+, the images of class \d.*--shots \d+"),
        ({"method": "maml"}, r"method to be one of 'reptile'. Received: method='maml'"),
        ({"train_shots": 500}, r"train_shots <= \d+.*Pass --train-shots \d+ or fewer"),
    ],
    ids=["too_many_ways", "too_many_shots", "unknown_method", "too_many_train_shots"],
)
def test_bad_task_raises_before_anything_is_written(digits, tmp_path, kwargs, match):
    out = tmp_path / "out"
    task = {"ways": 5, "shots": 1, **kwargs}
    with pytest.raises(InvalidValueError, match=match):
        check_fewshot(digits, **task)
    with pytest.raises(InvalidValueError, match=match):
        fewshot(digits, **task, out_dir=out)
    assert not out.exists()
