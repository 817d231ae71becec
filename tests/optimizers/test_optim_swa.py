"""SWA callback: weight averaging, BatchNorm re-estimation and config round-trip."""

import keras
import numpy as np
import pytest

from kerasopt.optimizers import SWA


class _Snapshots(keras.callbacks.Callback):
    """Records the trainable weights at every epoch end and the BN stats before SWA runs."""

    def __init__(self):
        super().__init__()
        self.weights = []
        self.bn_before_swa = None

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([v.numpy().copy() for v in self.model.trainable_weights])

    def on_train_end(self, logs=None):
        bn = [layer for layer in self.model.layers if "batch_normalization" in layer.name]
        if bn:
            self.bn_before_swa = (bn[0].moving_mean.numpy(), bn[0].moving_variance.numpy())


def _data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=[5.0, -2.0, 10.0], scale=[2.0, 0.5, 3.0], size=(n, 3)).astype("float32")
    y = (x @ np.array([[0.3], [-1.0], [0.1]], "float32")).astype("float32")
    return x, y


def _model(batch_norm):
    layers = [keras.Input((3,))]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [keras.layers.Dense(4), keras.layers.Dense(1)]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", jit_compile=False)
    return model


@pytest.mark.parametrize(
    "start_epoch, swa_freq, averaged", [(1, 1, [1, 2, 3, 4]), (1, 2, [1, 3])], ids=["f1", "f2"]
)
def test_weights_are_the_average_of_snapshots(start_epoch, swa_freq, averaged):
    x, y = _data()
    x = (x - x.mean(0)) / x.std(0)  # No BN here: keep SGD stable on raw features.
    model, snapshots = _model(batch_norm=False), _Snapshots()
    swa = SWA(start_epoch=start_epoch, swa_freq=swa_freq)
    model.fit(x, y, epochs=5, batch_size=32, callbacks=[snapshots, swa], verbose=0)
    assert swa.n_averaged == len(averaged)
    for i, variable in enumerate(model.trainable_weights):
        expected = np.mean([snapshots.weights[e][i] for e in averaged], axis=0)
        np.testing.assert_allclose(variable.numpy(), expected, atol=1e-6)
    # The average differs from the last weights, or the test would prove nothing.
    assert not np.allclose(model.trainable_weights[0].numpy(), snapshots.weights[-1][0])


def test_batchnorm_statistics_are_re_estimated():
    x, y = _data(n=256)
    model, snapshots = _model(batch_norm=True), _Snapshots()
    swa = SWA(start_epoch=0, bn_data=x, bn_batch_size=64)
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[snapshots, swa], verbose=0)
    bn = model.layers[0]
    mean_before, var_before = snapshots.bn_before_swa
    # Momentum 0.99 over 16 steps leaves the stats far from the data's: re-estimation shows.
    assert not np.allclose(mean_before, x.mean(0), rtol=0.1)
    # Equal batches, so the cumulative mean of batch means is the data mean.
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(bn.moving_variance.numpy(), x.var(0), rtol=0.05)
    assert bn.momentum == 0.99


def test_finalize_accepts_an_iterable_of_batches_and_bn_steps():
    x, y = _data(n=96)
    model = _model(batch_norm=True)
    swa = SWA(start_epoch=0, bn_steps=2)
    with pytest.warns(UserWarning, match="got no bn_data"):
        model.fit(x, y, epochs=1, batch_size=32, callbacks=[swa], verbose=0)
    batches = [(x[:32], y[:32]), (x[32:64], y[32:64]), (x[64:] + 100.0, y[64:])]
    swa.finalize(bn_data=batches)
    # bn_steps=2: the shifted third batch is never seen.
    np.testing.assert_allclose(model.layers[0].moving_mean.numpy(), x[:64].mean(0), rtol=1e-4)


def test_no_snapshot_warns_and_keeps_weights():
    x, y = _data(n=32)
    model, snapshots = _model(batch_norm=False), _Snapshots()
    with pytest.warns(UserWarning, match=r"SWA collected no weights.*start_epoch=5"):
        model.fit(x, y, epochs=2, callbacks=[snapshots, SWA(start_epoch=5)], verbose=0)
    np.testing.assert_array_equal(model.trainable_weights[0].numpy(), snapshots.weights[-1][0])


def test_config_round_trip():
    swa = SWA(start_epoch=3, swa_freq=2, bn_data=np.zeros((4, 3)), bn_batch_size=16, bn_steps=10)
    config = swa.get_config()
    assert config == {"start_epoch": 3, "swa_freq": 2, "bn_batch_size": 16, "bn_steps": 10}
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(swa))
    assert type(restored) is SWA
    assert restored.get_config() == config
    assert restored.bn_data is None  # Data is not part of the config; pass it again.
    assert keras.saving.get_registered_name(SWA) == "kerasopt>SWA"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"start_epoch": -1},
            r"SWA: expected start_epoch to be an integer >= 0\. Received: start_epoch=-1",
        ),
        ({"start_epoch": 1.5}, r"Received: start_epoch=1\.5"),
        (
            {"start_epoch": 0, "swa_freq": 0},
            r"SWA: expected swa_freq to be an integer >= 1\. Received: swa_freq=0",
        ),
        (
            {"start_epoch": 0, "bn_batch_size": 0},
            r"SWA: expected bn_batch_size to be an integer >= 1\. Received: bn_batch_size=0",
        ),
        (
            {"start_epoch": 0, "bn_steps": 0},
            r"SWA: expected bn_steps to be an integer >= 1\. Received: bn_steps=0",
        ),
    ],
    ids=["start-negative", "start-float", "freq", "batch_size", "bn_steps"],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SWA(**kwargs)
