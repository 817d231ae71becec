"""Federated learning: partitions, FedProx's proximal term, the client's training, checks.

The one real Flower simulation (Ray) runs in tests/cli/test_federated_command.py.
"""

import sys

import keras
import numpy as np
import pytest

from kerasopt.core.errors import InvalidValueError, MissingDependencyError
from kerasopt.models import build_cnn
from kerasopt.strategies import (
    ProximalModel,
    class_histograms,
    federated,
    label_skew,
    parse_partition,
    partition,
    require_flower,
)
from kerasopt.strategies.federated_client import local_train, write_client_files

LABELS = np.repeat(np.arange(10), 60)  # 600 samples, 10 balanced classes


def tiny_cnn():
    return build_cnn((8, 8), 10, input_max=16, filters=(4,), dense_units=16, dropout=0.0)


def tiny_dense():
    return keras.Sequential(
        [keras.Input((8, 8)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )


def assert_disjoint_cover(parts, n):
    joined = np.concatenate(parts)
    assert len(joined) == n and np.array_equal(np.sort(joined), np.arange(n))


@pytest.mark.parametrize("scheme", ["iid", "dirichlet:0.5"], ids=["iid", "dirichlet"])
def test_partitions_are_disjoint_cover_and_seeded(scheme):
    parts = partition(LABELS, 7, scheme, seed=3)
    assert_disjoint_cover(parts, len(LABELS))
    assert min(len(p) for p in parts) >= 10
    same = partition(LABELS, 7, scheme, seed=3)
    other = partition(LABELS, 7, scheme, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(parts, same, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(parts, other, strict=True))


def test_iid_shards_are_equal_sized():
    sizes = [len(p) for p in partition(LABELS, 7, "iid")]
    assert max(sizes) - min(sizes) <= 1


def test_dirichlet_skew_grows_as_alpha_shrinks():
    def skew(scheme):
        parts = partition(LABELS, 5, scheme, seed=0)
        return label_skew(class_histograms(LABELS, parts, 10))

    skews = [skew(s) for s in ("dirichlet:100", "dirichlet:1", "dirichlet:0.1")]
    assert skews == sorted(skews) and skews[0] < 0.1 and skews[-1] > 0.5
    assert skew("iid") < 0.1


def test_class_histograms_count_each_clients_labels():
    parts = partition(LABELS, 4, "dirichlet:0.5", seed=0)
    histograms = class_histograms(LABELS, parts, 10)
    assert histograms.shape == (4, 10) and histograms.sum() == len(LABELS)
    assert histograms.sum(0).tolist() == [60] * 10
    assert histograms[2].tolist() == np.bincount(LABELS[parts[2]], minlength=10).tolist()


@pytest.mark.parametrize(
    "spec", ["dirichlet", "dirichlet:-1", "dirichlet:abc", "noniid", 0.5], ids=str
)
def test_bad_partition_spec_names_the_accepted_forms(spec):
    match = r"expected partition 'iid' or 'dirichlet:ALPHA' .* Pass partition='iid' or"
    with pytest.raises(InvalidValueError, match=match):
        parse_partition(spec)


def test_too_few_samples_for_the_clients_is_refused():
    with pytest.raises(InvalidValueError, match=r"Received: clients=61\. Pass clients <= 60"):
        partition(LABELS, 61, "iid")


def test_a_dirichlet_split_that_starves_a_client_is_refused():
    with pytest.raises(InvalidValueError, match=r"Pass a larger alpha .*fewer clients"):
        partition(LABELS, 30, "dirichlet:0.01", seed=0)


def test_proximal_loss_adds_mu_half_squared_distance():
    model = tiny_cnn()
    proximal = ProximalModel(model, mu=0.5)
    proximal.compile(loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(0, 16, (8, 8, 8)).astype("float32")
    y = np.arange(8) % 10
    assert float(proximal.proximal_term()) == pytest.approx(0.0, abs=1e-7)  # at the anchor
    kernel = model.trainable_weights[0]
    kernel.assign(kernel.numpy() + 0.1)
    expected = 0.5 * 0.5 * 0.1**2 * kernel.numpy().size
    assert float(proximal.proximal_term()) == pytest.approx(expected, rel=1e-4)
    with_term = float(proximal.compute_loss(x=x, y=y, y_pred=proximal(x)))
    proximal.mu.assign(0.0)
    without = float(proximal.compute_loss(x=x, y=y, y_pred=proximal(x)))
    assert with_term - without == pytest.approx(expected, rel=1e-4)


def test_proximal_term_pulls_local_weights_toward_the_global_ones(tmp_path, digits):
    x, y = digits.x_train[:64], digits.y_train[:64]
    write_client_files(tmp_path, [(x / 16.0, y)], tiny_dense)
    keras.utils.set_random_seed(0)
    start = tiny_dense().get_weights()
    config = {"local-epochs": 3, "batch-size": 16, "learning-rate": 0.05, "seed": 0}

    def distance(mu):
        weights, metrics = local_train(str(tmp_path), 0, start, {**config, "proximal-mu": mu})
        assert metrics["num-examples"] == 64 and np.isfinite(metrics["train-loss"])
        return sum(float(np.sum((w - s) ** 2)) for w, s in zip(weights, start, strict=True))

    free, pulled = distance(0.0), distance(10.0)
    assert pulled < 0.5 * free


def test_a_client_traces_its_train_step_once_over_rounds(tmp_path, digits, monkeypatch):
    # The optimizer's slots and the metrics' variables exist before the first fit, so
    # the step is not traced a second time to create them, nor again in a later round.
    x, y = digits.x_train[:64], digits.y_train[:64]
    write_client_files(tmp_path, [(x / 16.0, y)], tiny_dense)
    traces = []
    step = ProximalModel.train_step

    def counted(self, data):
        traces.append(1)
        return step(self, data)

    monkeypatch.setattr(ProximalModel, "train_step", counted)
    start = tiny_dense().get_weights()
    config = {"local-epochs": 2, "batch-size": 16, "learning-rate": 0.05, "seed": 0}
    first, _ = local_train(str(tmp_path), 0, start, {**config, "server-round": 1})
    second, _ = local_train(str(tmp_path), 0, start, {**config, "server-round": 1})
    assert len(traces) == 1
    for a, b in zip(first, second, strict=True):  # a round starts from the same state
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def stem_statistics(model, x):
    """Per-channel mean and variance of what `stem_bn` normalises, over `x`."""
    stem = keras.Model(model.input, model.get_layer("stem_conv").output)
    features = stem.predict(x, verbose=0)
    return features.mean(axis=(0, 1, 2)), features.var(axis=(0, 1, 2))


def test_client_sends_batch_norm_statistics_of_its_trained_weights(tmp_path, digits):
    # At momentum 0.99 two epochs of 3 steps would leave the moving variance near its
    # initial 1.0; the client re-estimates it on its shard after training.
    from small_models import residual_cnn

    x, y = digits.x_train[:96], digits.y_train[:96]
    write_client_files(tmp_path, [(x, y)], residual_cnn)
    keras.utils.set_random_seed(0)
    model = residual_cnn()
    config = {"local-epochs": 2, "batch-size": 32, "learning-rate": 0.01, "seed": 0}
    weights, _ = local_train(str(tmp_path), 0, model.get_weights(), config)
    model.set_weights(weights)
    mean, variance = stem_statistics(model, x)
    bn = model.get_layer("stem_bn")
    np.testing.assert_allclose(bn.moving_variance.numpy(), variance, rtol=0.15)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, atol=0.05 * np.sqrt(variance.max()))
    assert bn.momentum == pytest.approx(0.99)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "fedsgd"}, r"expected strategy to be one of 'fedavg', .*strategy='fedsgd'"),
        ({"partition": "dirichlet:0"}, r"Received: partition='dirichlet:0'\. Pass partition="),
        ({"clients": 200}, r"Received: clients=200\. Pass clients <= 129"),
        ({"clients": 1}, r"expected clients >= 2 .* Pass e\.g\. clients=10"),
        ({"rounds": 0}, r"rounds=0"),
    ],
    ids=["unknown_strategy", "bad_partition", "too_many_clients", "one_client", "no_rounds"],
)
def test_bad_arguments_raise_before_anything_is_written(digits, tmp_path, kwargs, match):
    out = tmp_path / "out"
    with pytest.raises(InvalidValueError, match=match):
        federated(digits, **{"clients": 2, "rounds": 1, **kwargs}, out_dir=out)
    assert not out.exists()


def test_missing_flower_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "flwr.simulation", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "kerasopt\[federated\]"'):
        require_flower()


def hand_made_report():
    from kerasopt.export import DeploymentMetrics
    from kerasopt.strategies import FederatedReport, MemberRow, RoundRow

    def row(role, accuracy):
        tflite = DeploymentMetrics("int8", "test", 360, accuracy, 1.0, 1000, 900, 9.0, True)
        return MemberRow(role, 250, accuracy, tflite)

    accuracies = [0.5, 0.93, 0.96, 0.95]
    rounds = [RoundRow(i + 1, 3, a, 0.1, 3000, 3000) for i, a in enumerate(accuracies)]
    settings = {"strategy": "fedprox", "partition": "dirichlet:0.5", "clients": 3}
    return FederatedReport(
        settings=settings,
        dataset={"name": "digits", "sizes": {"test": 360}},
        clients=[{"samples": 40, "classes": [40] + [0] * 9}] * 3,
        label_skew=0.4,
        initial_accuracy=0.1,
        rounds=rounds,
        federated=row("federated", 0.95),
        central=row("central", 0.97),
        seconds={"simulation": 10.0},
    )


def test_report_names_the_first_round_at_each_milestone_bytes_and_gap(tmp_path):
    report = hand_made_report()
    assert report.first_round_at(0.9) == 2 and report.first_round_at(0.95) == 3
    assert report.first_round_at(0.99) is None
    assert report.bytes_per_round == 6000 and report.gap == pytest.approx(0.02)
    data = report.to_dict()
    assert data["first_round_at"] == {"0.9": 2, "0.95": 3} and data["bytes_total"] == 24000
    assert "gap central - federated +2.00 points" in report.summary()
    report.write(tmp_path)
    assert (tmp_path / "rounds.png").read_bytes()[:4] == b"\x89PNG"
    assert "| 3 " in (tmp_path / "report.md").read_text()


def test_fedadam_averages_running_statistics_and_sends_float32(monkeypatch):
    from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict
    from flwr.supercore.task_identity import TaskIdentity

    from kerasopt.strategies.federated_simulation import _strategy

    for name, value in (("_task_id", 1), ("_run_id", 1), ("_node_id", 0)):
        monkeypatch.setattr(TaskIdentity, name, value)  # what run_simulation sets

    class TwoNodes:
        def get_node_ids(self):
            return [1, 2]

    counts = {"down": [], "up": [], "sampled": [], "errors": [], "ends": []}
    strategy = _strategy("fedadam", 2, 2, 0.0, counts, averaged=["1"])
    start = ArrayRecord([np.zeros(3, "float32"), np.ones(3, "float32")])
    messages = list(strategy.configure_train(1, start, ConfigRecord(), TwoNodes()))
    replies = []
    for message, (weight, statistic) in zip(messages, [(1.0, 3.0), (3.0, 5.0)], strict=True):
        arrays = ArrayRecord([np.full(3, weight, "float32"), np.full(3, statistic, "float32")])
        content = RecordDict({"arrays": arrays, "metrics": MetricRecord({"num-examples": 10})})
        replies.append(Message(content, reply_to=message))
    arrays, _ = strategy.aggregate_train(1, replies)
    weight, statistic = arrays["0"].numpy(), arrays["1"].numpy()
    assert weight.dtype == statistic.dtype == np.float32
    np.testing.assert_allclose(statistic, 4.0)  # the plain mean of 3 and 5
    assert 0 < weight[0] < 0.1  # an Adam step of about eta, not the mean (2.0)
    assert counts["sampled"] == [2] and counts["down"] == [2 * start.count_bytes()]
    assert counts["up"] == [sum(r.content["arrays"].count_bytes() for r in replies)]
