import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from kerasopt.cli import main
from kerasopt.training import StrategyError, TrainConfig, check_strategy, train

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}

# TensorFlow fixes its devices when its runtime starts, so two logical CPU devices need a
# process of their own (pytest's has started TensorFlow already).
MIRRORED = textwrap.dedent(
    """
    import dataclasses, json, sys
    from kerasopt.training import StrategyError, TrainConfig, make_strategy, split_cpu, train
    from kerasopt.training.distribution import in_scope

    devices = split_cpu(2)
    import keras
    import numpy as np
    from kerasopt.data import load_dataset
    from kerasopt.models import build_cnn

    keras.utils.set_random_seed(0)
    data = load_dataset("digits")
    data = dataclasses.replace(data, x_train=data.x_train[:640], y_train=data.y_train[:640])
    small = dict(input_max=16, filters=(8,), dense_units=32, bn_momentum=0.99)
    model = build_cnn(data.input_shape, 10, **small)  # outside any scope: cloned into it
    before = model.get_weights()
    config = TrainConfig(epochs=3, batch_size=16, augment=None, early_stopping_patience=None)
    result = train(model, data, config, sys.argv[1], strategy="mirrored", verbose=0)
    strategy = make_strategy("mirrored")
    with strategy.scope():
        inside = build_cnn(data.input_shape, 10, **small)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    conv = keras.Model(model.input, model.get_layer("block0_conv0").output)
    variance = conv.predict(data.x_train, verbose=0).var(axis=(0, 1, 2))
    moving = model.get_layer("block0_bn0").moving_variance.numpy()
    try:
        split_cpu(3)
        late = None
    except StrategyError as error:
        late = str(error)
    print(json.dumps({
        "devices": devices,
        "replicas": result.replicas,
        "global_batch_size": result.global_batch_size,
        "strategy": result.strategy,
        "epochs_run": result.epochs_run,
        "val_accuracy": model.evaluate(data.x_val, data.y_val, verbose=0)[1],
        "weights_changed": any(not np.allclose(a, b) for a, b in zip(before, model.get_weights())),
        "in_scope": [in_scope(model, strategy), in_scope(inside, strategy)],
        "late": late,
        "recalibrated": result.batch_norm_recalibrated,
        "variance_ratio": (moving / variance).tolist(),
    }))
    """
)

# Plain Keras, not kerasopt: this is what `--strategy multiworker` would run, and what
# keras-team/keras#20585 reports broken.
WORKER = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf
    import keras

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((64, 8), dtype="float32")
    y = np.arange(64) % 4
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=1, verbose=0)
    print("TRAINED", strategy.num_replicas_in_sync)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "name, match",
    [
        ("mirror", r"Unknown strategy 'mirror'\. .* Did you mean 'mirrored'\?"),
        ("multiworker", r"'multiworker' is not supported: .*PerReplica.*keras/issues/20585"),
    ],
    ids=["unknown", "multiworker"],
)
def test_unusable_strategies_are_refused_before_anything_is_written(tmp_path, name, match):
    with pytest.raises(StrategyError, match=match):
        check_strategy(name)
    with pytest.raises(StrategyError, match=match):
        train(object(), None, TrainConfig(epochs=1), tmp_path / "train", strategy=name)
    assert check_strategy("mirrored") == "mirrored" and check_strategy(None) is None
    assert not (tmp_path / "train").exists()


@pytest.mark.parametrize(
    "name, match",
    [("mirror", "Did you mean 'mirrored'?"), ("multiworker", "keras/issues/20585")],
    ids=["unknown", "multiworker"],
)
def test_cli_refuses_a_bad_strategy_in_one_line(tmp_path, capsys, name, match):
    out = tmp_path / "run"
    assert main(["run", "digits", "--strategy", name, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("kerasopt run: error: ") and match in error
    assert len(error.splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_mirrored_on_two_logical_cpu_devices(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED, str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    assert (report["replicas"], report["global_batch_size"]) == (2, 32)
    assert report["strategy"] == "mirrored" and report["epochs_run"] == 3
    # The caller's model, built outside the scope, got the trained weights back.
    assert report["weights_changed"] and report["val_accuracy"] > 0.3  # chance is 0.1
    assert report["in_scope"] == [False, True]
    # 60 steps at momentum 0.99 would leave 0.55 of the initial variance (1.0): the
    # statistics are re-estimated on the training split after the distributed fit.
    assert report["recalibrated"] == 2  # block0_bn0 and block0_bn1
    assert all(0.8 < ratio < 1.25 for ratio in report["variance_ratio"])
    assert "split_cpu(3) came after TensorFlow started (2 logical CPU" in report["late"]
    assert (tmp_path / "run" / "checkpoints" / "best.keras").is_file()


@pytest.mark.slow
def test_multiworker_on_two_local_workers_fails_as_upstream_reports(tmp_path):
    """Two workers on 127.0.0.1 through TF_CONFIG. The day this trains, lift the refusal."""
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", WORKER],
                env={**ENV, "TF_CONFIG": json.dumps(config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        if worker.returncode == 0 and "TRAINED 2" in stdout:
            pytest.fail(
                "MultiWorkerMirroredStrategy trains on this Keras/TensorFlow: remove the "
                "refusal in kerasopt/training/distribution.py (check_strategy)."
            )
        assert worker.returncode != 0
        assert "Attempt to convert a value (PerReplica:" in stderr, stderr[-3000:]
        assert "with an unsupported type (<class 'tensorflow.python.distribute" in stderr
