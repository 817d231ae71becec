"""Stochastic weight averaging (SWA) as a Keras 3 callback."""

import warnings

import keras
import numpy as np

from kerasopt.core.validation import check_int


@keras.saving.register_keras_serializable(package="kerasopt")
class SWA(keras.callbacks.Callback):
    """Averages the model's weights over the last epochs and re-estimates BatchNorm statistics.

    Izmailov et al., 2018, "Averaging Weights Leads to Wider Optima and Better
    Generalization" (https://arxiv.org/abs/1803.05407). From epoch `start_epoch` on, the
    trainable weights are snapshotted at the end of every `swa_freq`-th epoch and kept as a
    running (equal-weight) average. When `fit` ends the model's trainable weights are set to
    that average. Because BatchNormalization moving statistics belong to the last weights,
    not the averaged ones, they are then re-estimated with one forward pass in training mode
    over `bn_data` (cumulative average over its batches, as `torch.optim.swa_utils.update_bn`
    does). Pair it with a constant or cyclical learning rate for the averaged epochs, e.g.
    via `keras.callbacks.LearningRateScheduler`.

    The average restarts at every `fit` call. Callbacks are not stored in `.keras` files;
    `get_config`/`from_config` round-trip every argument except `bn_data`, which must be
    passed again. Put `SWA` after callbacks that also rewrite weights at the end of training
    (e.g. `EarlyStopping(restore_best_weights=True)`) or they will undo each other.

    Args:
        start_epoch: 0-based index of the first epoch whose end-of-epoch weights are
            averaged (Keras' `epoch` argument in callbacks; the progress bar shows it + 1).
        swa_freq: Average every `swa_freq`-th epoch from `start_epoch` on. Defaults to `1`.
        bn_data: Inputs for re-estimating BatchNormalization statistics: a NumPy array or
            tensor of inputs `x`, a tuple `(x, y)` of arrays, or an iterable of batches (a
            `tf.data.Dataset`, `keras.utils.PyDataset`, generator, list) whose elements are
            `x` or `(x, y[, sample_weight])`. `None` skips re-estimation (a warning is
            issued if the model has BatchNormalization layers). Defaults to `None`.
        bn_batch_size: Batch size used to split array `bn_data`. Defaults to `32`.
        bn_steps: Maximum number of batches drawn from `bn_data` (required for endless
            datasets such as `dataset.repeat()`); `None` uses all. Defaults to `None`.

    Example:

    ```python
    import keras
    import numpy as np
    from kerasopt.optimizers import SWA

    x, y = np.random.rand(256, 4), np.random.rand(256, 1)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=10, callbacks=[SWA(start_epoch=5, bn_data=x)], verbose=0)
    ```
    """

    def __init__(self, start_epoch, swa_freq=1, bn_data=None, bn_batch_size=32, bn_steps=None):
        super().__init__()
        check_int("SWA", "start_epoch", start_epoch, 0)
        check_int("SWA", "swa_freq", swa_freq, 1)
        check_int("SWA", "bn_batch_size", bn_batch_size, 1)
        if bn_steps is not None:
            check_int("SWA", "bn_steps", bn_steps, 1)
        self.start_epoch = start_epoch
        self.swa_freq = swa_freq
        self.bn_data = bn_data
        self.bn_batch_size = bn_batch_size
        self.bn_steps = bn_steps
        self.average_weights = None
        self.n_averaged = 0

    def on_train_begin(self, logs=None):
        self.average_weights = None
        self.n_averaged = 0

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_epoch or (epoch - self.start_epoch) % self.swa_freq:
            return
        # float64 keeps the running mean exact enough over hundreds of snapshots.
        weights = [np.asarray(v.numpy(), dtype=np.float64) for v in self.model.trainable_weights]
        if self.average_weights is None:
            self.average_weights = weights
        else:
            n = self.n_averaged
            self.average_weights = [
                a + (w - a) / (n + 1) for a, w in zip(self.average_weights, weights, strict=True)
            ]
        self.n_averaged += 1

    def on_train_end(self, logs=None):
        self.finalize()

    def finalize(self, bn_data=None):
        """Sets the model's trainable weights to the average, then re-estimates BatchNorm.

        Called automatically when `fit` ends. `bn_data` overrides the constructor's.
        """
        if self.n_averaged == 0:
            warnings.warn(
                f"SWA collected no weights: training ended before start_epoch={self.start_epoch}. "
                "The model keeps its last weights; lower start_epoch or train longer.",
                stacklevel=2,
            )
            return
        for variable, average in zip(
            self.model.trainable_weights, self.average_weights, strict=True
        ):
            variable.assign(average.astype(variable.dtype))
        bn_data = self.bn_data if bn_data is None else bn_data
        bn_layers = [
            layer
            for layer in self.model._flatten_layers()  # The only walk that reaches nested layers.
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        if bn_layers and bn_data is None:
            warnings.warn(
                "SWA averaged the weights but got no bn_data, so BatchNormalization moving "
                "statistics still belong to the last weights. Pass SWA(..., bn_data=x_train).",
                stacklevel=2,
            )
        elif bn_layers:
            self._update_bn(bn_layers, bn_data)

    def _update_bn(self, bn_layers, data):
        momenta = [layer.momentum for layer in bn_layers]
        try:
            for i, x in enumerate(self._batches(data), start=1):
                # momentum (i-1)/i turns the moving average into the cumulative mean over
                # batches, and at i=1 discards the stale statistics.
                for layer in bn_layers:
                    layer.momentum = (i - 1) / i
                self.model(x, training=True)
        finally:
            for layer, momentum in zip(bn_layers, momenta, strict=True):
                layer.momentum = momentum

    def _batches(self, data):
        if isinstance(data, tuple) and data and hasattr(data[0], "shape"):
            data = data[0]
        if hasattr(data, "shape"):
            starts = range(0, int(data.shape[0]), self.bn_batch_size)
            batches = (data[s : s + self.bn_batch_size] for s in starts)
        else:
            batches = (b[0] if isinstance(b, (tuple, list)) else b for b in data)
        for step, batch in enumerate(batches):
            if self.bn_steps is not None and step >= self.bn_steps:
                return
            yield batch

    def get_config(self):
        return {
            "start_epoch": self.start_epoch,
            "swa_freq": self.swa_freq,
            "bn_batch_size": self.bn_batch_size,
            "bn_steps": self.bn_steps,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
