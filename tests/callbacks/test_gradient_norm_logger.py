"""GradientNormLogger: CSV/TensorBoard/history rows that match an independent GradientTape."""

import csv
import glob

import keras
import numpy as np
import pytest
import tensorflow as tf
from small_models import dense_regressor, regression_data

from kerasopt.callbacks import GradientNormLogger


def _tape_norms(model, x, y):
    """Per-layer and global gradient norms from a plain GradientTape, in float64."""
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
    grads = tape.gradient(loss, model.trainable_variables)
    norms = {}
    for variable, grad in zip(model.trainable_variables, grads, strict=True):
        layer = variable.path.split("/")[-2]
        norms[layer] = norms.get(layer, 0.0) + float(np.sum(np.square(grad.numpy(), dtype="f8")))
    norms = {layer: np.sqrt(sq) for layer, sq in norms.items()}
    return {"global": np.sqrt(sum(n**2 for n in norms.values())), **norms}


class _TapeRecorder(keras.callbacks.Callback):
    """Computes the norms independently, at the same steps, right after the logger."""

    def __init__(self, x, y, every):
        super().__init__()
        self.x, self.y, self.every, self.step, self.rows = x, y, every, 0, []

    def on_train_batch_end(self, batch, logs=None):
        if self.step % self.every == 0:
            self.rows.append(_tape_norms(self.model, self.x, self.y))
        self.step += 1


def test_csv_history_and_norms_match_an_independent_tape(tmp_path):
    x, y = regression_data()
    path = tmp_path / "logs" / "norms.csv"
    logger = GradientNormLogger((x[:16], y[:16]), every_n_steps=3, csv_path=path)
    recorder = _TapeRecorder(x[:16], y[:16], every=3)
    model = dense_regressor()
    model.fit(x, y, epochs=2, batch_size=8, callbacks=[logger, recorder], verbose=0)

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "epoch", "global", "hidden", "out"]
    # 16 steps (0..15), logged every 3rd: 0, 3, 6, 9, 12, 15; steps 9+ are in epoch 1.
    assert [int(r[0]) for r in rows[1:]] == [0, 3, 6, 9, 12, 15]
    assert [int(r[1]) for r in rows[1:]] == [0, 0, 0, 1, 1, 1]
    values = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert logger.history["step"] == [0, 3, 6, 9, 12, 15]
    np.testing.assert_allclose(logger.history["global"], values[:, 0], rtol=1e-12)
    assert len(recorder.rows) == 6
    for expected, row in zip(recorder.rows, values, strict=True):
        got = dict(zip(["global", "hidden", "out"], row, strict=True))
        for column, value in expected.items():
            assert got[column] == pytest.approx(value, rel=1e-5)
    # Global is the norm over all layers; the norms change as training moves the weights.
    np.testing.assert_allclose(values[:, 0], np.linalg.norm(values[:, 1:], axis=1), rtol=1e-6)
    assert len(set(values[:, 0])) == 6


def test_crash_mid_run_leaves_a_valid_csv(tmp_path):
    class Crash(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 5:
                raise RuntimeError("simulated crash")

    x, y = regression_data()
    path = tmp_path / "norms.csv"
    logger = GradientNormLogger((x[:16], y[:16]), every_n_steps=2, csv_path=path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        dense_regressor().fit(x, y, epochs=1, batch_size=8, callbacks=[logger, Crash()], verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [0, 2, 4]
    assert all(float(r["global"]) > 0 for r in rows)


def test_tensorboard_scalars(tmp_path):
    x, y = regression_data()
    logger = GradientNormLogger((x[:16], y[:16]), every_n_steps=4, log_dir=tmp_path / "tb")
    dense_regressor().fit(x, y, epochs=1, batch_size=8, callbacks=[logger], verbose=0)
    tags = {}
    for event_file in glob.glob(str(tmp_path / "tb" / "events.*")):
        for event in tf.compat.v1.train.summary_iterator(event_file):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    assert tags == {f"gradient_norm/{c}": [0, 4] for c in ("global", "hidden", "out")}


def test_probe_has_no_side_effects_and_names_nested_layers_in_order(digits):
    from kerasopt.models import build_cnn

    inner = build_cnn(digits.input_shape, 10, input_max=16, filters=(4,), dense_units=8)
    model = keras.Sequential([keras.Input(digits.input_shape), inner])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=False)
    model.fit(digits.x_train[:64], digits.y_train[:64], epochs=1, verbose=0)
    logger = GradientNormLogger((digits.x_train[:32], digits.y_train[:32]), every_n_steps=1)
    logger.set_model(model)
    logger.on_train_begin()
    assert logger.columns[3:] == ["block0_conv0", "block0_bn0", "block0_conv1", "block0_bn1"] + [
        "dense",
        "probabilities",
    ]
    state = [v.numpy().copy() for v in model.non_trainable_variables + model.metrics_variables]
    first, second = logger.log_step(0), logger.log_step(1)
    after = [v.numpy() for v in model.non_trainable_variables + model.metrics_variables]
    for a, b in zip(state, after, strict=True):  # BN statistics, dropout seeds, metrics.
        np.testing.assert_array_equal(a, b)
    assert first["global"] == second["global"] > 0  # Same weights, same batch: same norms.


def test_steps_continue_across_fits_and_the_csv_is_appended(tmp_path):
    x, y = regression_data(32)
    path = tmp_path / "norms.csv"
    logger = GradientNormLogger((x[:8], y[:8]), every_n_steps=2, csv_path=path)
    model = dense_regressor()
    for _ in range(2):
        model.fit(x, y, epochs=1, batch_size=8, callbacks=[logger], verbose=0)
    with open(path, newline="") as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["0", "2", "4", "6"]

    appended = GradientNormLogger((x[:8], y[:8]), every_n_steps=2, csv_path=path, append=True)
    model.fit(x, y, epochs=1, batch_size=8, callbacks=[appended], verbose=0)
    with open(path, newline="") as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["0", "2", "4", "6", "0", "2"]

    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="solo")])
    other.compile(optimizer="sgd", loss="mse")
    mismatch = GradientNormLogger((x[:8], y[:8]), csv_path=path, append=True)
    with pytest.raises(ValueError, match=r"cannot append to .*norms\.csv.*header"):
        other.fit(x, y, epochs=1, callbacks=[mismatch], verbose=0)


def test_config_round_trip(tmp_path):
    x, y = regression_data(8)
    logger = GradientNormLogger((x, y), every_n_steps=5, csv_path=tmp_path / "a.csv")
    config = logger.get_config()
    assert config == {
        "every_n_steps": 5,
        "csv_path": str(tmp_path / "a.csv"),
        "log_dir": None,
        "append": False,
    }
    restored = GradientNormLogger.from_config(config, sample_data=(x, y))
    assert restored.get_config() == config
    with pytest.raises(ValueError, match=r"from_config needs the sample batch"):
        GradientNormLogger.from_config(config)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sample_data": "batch"}, TypeError, r"sample_data to be a tuple.*Received: a str"),
        (
            {"every_n_steps": 0},
            ValueError,
            r"every_n_steps to be an integer >= 1\. Received: every_n_steps=0",
        ),
        ({"every_n_steps": 2.5}, ValueError, r"Received: every_n_steps=2\.5"),
        ({"csv_path": 3}, TypeError, r"csv_path to be a path .* Received: csv_path=3 \(int\)"),
        ({"log_dir": ["tb"]}, TypeError, r"log_dir to be a path .* Received: log_dir=\['tb'\]"),
        ({"append": "yes"}, TypeError, r"append to be a bool\. Received: append='yes'"),
    ],
    ids=["data-str", "every0", "every-float", "csv-int", "logdir-list", "append-str"],
)
def test_invalid_arguments(kwargs, error, match):
    x, y = regression_data(8)
    kwargs = {"sample_data": (x, y), **kwargs}
    with pytest.raises(error, match=f"GradientNormLogger: expected .*{match}"):
        GradientNormLogger(**kwargs)
