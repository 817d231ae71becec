"""TrainingHealth: stops on NaN/Inf with a diagnosis and warns on unhealthy training."""

import logging
import math
import warnings

import keras
from keras.src.utils import io_utils

from kerasopt.callbacks._common import GradientProbe, WeightCheck, unpack_batch
from kerasopt.callbacks._diagnosis import (
    diverging_text,
    explain_nan,
    exploding_text,
    overfitting_text,
    vanishing_text,
)
from kerasopt.core.errors import KerasoptError
from kerasopt.core.validation import check_float, check_int, check_option

logger = logging.getLogger(__name__)


class TrainingDivergedError(KerasoptError, RuntimeError):
    """Raised by `TrainingHealth(on_nan="raise")`; carries `diagnosis` and the `event` dict."""

    def __init__(self, diagnosis, event):
        super().__init__(diagnosis)
        self.diagnosis = diagnosis
        self.event = event


class TrainingHealthWarning(UserWarning):
    """Category of every TrainingHealth warning, to filter them or turn them into errors."""


@keras.saving.register_keras_serializable(package="kerasopt")
class TrainingHealth(keras.callbacks.Callback):
    """Stops training with a diagnosis on NaN/Inf, and warns about unhealthy training.

    After every training batch it checks the logged loss and every weight of the model
    (one small device call), and checks the weights again before each batch, so weights
    changed between steps (by another callback) are blamed on the right layer before the
    next step spreads the NaN. When one turns NaN/Inf it writes a diagnosis naming the
    first layer, in model order, whose weights went non-finite; if the weights are
    finite but the loss is not, the first layer whose gradients on `probe_data` are
    non-finite. Keras checks `model.stop_training` after each batch, so `fit` ends on the
    faulty step. With `steps_per_execution > 1` Keras calls back once per execution.
    Each check is one `tf.function` call (0.3-0.5 ms on CPU): on a small digits CNN on
    two CPU cores the two per step added about 8% to the step time, less on larger models.

    It also warns, once each per `fit`, with a suggested fix, about: exploding gradients
    (global gradient norm on `probe_data` above `grad_norm_threshold`, or
    `grad_growth_factor` times the first check's), vanishing gradients (a layer's gradient
    norm below `vanishing_threshold` times its weight norm), a diverging loss (the logged
    loss above `divergence_factor` times the first batch's loss) and a growing
    train/validation gap (`val_loss` above its best and above a widening margin over `loss`
    for `patience` epochs while `loss` kept falling). Gradient checks run on `probe_data`
    every `check_every` steps (from step 0), in training mode but without side effects
    (BatchNorm statistics and dropout seeds are left alone); each costs about one
    training step, plus one trace per model.

    Findings go to `warnings.warn` with category `TrainingHealthWarning`: Python shows
    each one once, pytest can capture them, and
    `warnings.simplefilter("error", TrainingHealthWarning)` makes them fatal. They are also
    logged (logger `kerasopt.callbacks.training_health`, level WARNING), and a NaN/Inf
    stop prints its diagnosis the way Keras prints `EarlyStopping`'s line (stdout, or
    absl logging after `keras.config.disable_interactive_logging()`), so a
    `warnings.filterwarnings("ignore")` at the top of a notebook cannot hide why `fit`
    ended early. Each one is
    also appended to `events` as a dict with keys `kind` (`"nan"`, `"exploding_gradients"`,
    `"vanishing_gradients"`, `"diverging_loss"`, `"overfitting"`), `step`, `epoch` (both
    counted from 0 within this `fit`), `layer`, `value` and `message`; the NaN diagnosis
    is also kept in `diagnosis` (`None` while healthy). Both reset at each `fit`.

    Args:
        probe_data: A small fixed batch `(x, y)` or `(x, y, sample_weight)` for the
            gradient checks and for locating a NaN when the weights are still finite;
            `None` skips gradient checks. Defaults to `None`.
        check_every: Run the gradient checks every this many steps. Defaults to `50`.
        on_nan: `"stop"` warns and stops `fit`; `"raise"` raises `TrainingDivergedError`.
            Defaults to `"stop"`.
        grad_norm_threshold: Global gradient norm above which gradients count as
            exploding. Defaults to `1e3`.
        grad_growth_factor: Growth of the global gradient norm over the first check's that
            counts as exploding; must be > 1. Defaults to `1e2`.
        vanishing_threshold: Gradient-to-weight norm ratio of a layer below which its
            gradients count as vanishing; in (0, 1). Defaults to `1e-7`.
        divergence_factor: Loss growth over the first batch's loss that counts as
            diverging; must be > 1. Defaults to `4.0`.
        patience: Epochs of rising `val_loss` with falling `loss` before the overfitting
            warning. Defaults to `3`.

    Example:

    ```python
    import keras
    import numpy as np
    from kerasopt.callbacks import TrainingHealth

    x, y = np.random.rand(256, 4), np.random.rand(256, 1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    health = TrainingHealth(probe_data=(x[:32], y[:32]), check_every=10)
    model.fit(x, y, epochs=3, validation_split=0.2, callbacks=[health], verbose=0)
    print(health.diagnosis, health.events)
    ```
    """

    def __init__(
        self,
        probe_data=None,
        check_every=50,
        on_nan="stop",
        grad_norm_threshold=1e3,
        grad_growth_factor=1e2,
        vanishing_threshold=1e-7,
        divergence_factor=4.0,
        patience=3,
    ):
        super().__init__()
        owner = "TrainingHealth"
        self.probe_data = (
            None if probe_data is None else unpack_batch(owner, "probe_data", probe_data)
        )
        self.check_every = check_int(owner, "check_every", check_every, 1)
        self.on_nan = check_option(
            owner,
            "on_nan",
            on_nan,
            ("stop", "raise"),
            fix="Use on_nan='stop' to end fit with a warning, or 'raise' for "
            "TrainingDivergedError.",
        )
        self.grad_norm_threshold = check_float(
            owner, "grad_norm_threshold", grad_norm_threshold, 0, closed="neither", example=1e3
        )
        self.grad_growth_factor = check_float(
            owner, "grad_growth_factor", grad_growth_factor, 1, closed="neither", example=1e2
        )
        self.vanishing_threshold = check_float(
            owner, "vanishing_threshold", vanishing_threshold, 0, 1, closed="neither", example=1e-7
        )
        self.divergence_factor = check_float(
            owner, "divergence_factor", divergence_factor, 1, closed="neither", example=4.0
        )
        self.patience = check_int(owner, "patience", patience, 1)
        self.diagnosis = None
        self.events = []
        self._weights = self._probe = None

    def on_train_begin(self, logs=None):
        self.diagnosis = None
        self.events = []
        self._warned = set()
        self._epoch, self._epoch_start, self._step = 0, 0, 0
        self._first_loss = self._first_grad_norm = self._prev_loss = self._prev_gap = None
        self._best_val, self._best_epoch, self._gap_epochs = math.inf, None, 0
        # Rebuilt only if the model or its variables changed since the last fit.
        self._weights = WeightCheck.for_model(self.model, self._weights)
        if self.probe_data is not None:
            self._probe = GradientProbe.for_model(self.model, self.probe_data, self._probe)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._epoch_start = epoch, self._step

    def on_train_batch_begin(self, batch, logs=None):
        # Catches weights changed between steps (e.g. by a pruning callback) while the
        # culprit layer is still the only non-finite one, before the step spreads it.
        if self.diagnosis is None:
            bad_layers = self._weights.nonfinite_layers()
            if bad_layers:
                step = self._epoch_start + batch
                self._diagnose(step, batch, None, bad_layers, "first" if step == 0 else True)

    def on_train_batch_end(self, batch, logs=None):
        step = self._epoch_start + batch
        self._step = step + 1
        if self.diagnosis is not None:
            return
        loss = (logs or {}).get("loss")
        bad_layers = self._weights.nonfinite_layers()
        if bad_layers or (loss is not None and not math.isfinite(loss)):
            self._diagnose(step, batch, loss, bad_layers, False)
            return
        if loss is not None:
            self._check_loss(step, loss)
        if self._probe is not None and step % self.check_every == 0:
            self._check_gradients(step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        loss, val_loss = logs.get("loss"), logs.get("val_loss")
        if loss is None or val_loss is None or not math.isfinite(loss + val_loss):
            return
        gap = val_loss - loss
        # Only a real, widening gap counts: with augmentation or dropout the training loss
        # can sit above a noisy validation loss, and that is not overfitting.
        widening = gap > 0 and (self._prev_gap is None or gap > self._prev_gap)
        if val_loss < self._best_val:
            self._best_val, self._best_epoch, self._gap_epochs = val_loss, epoch, 0
        elif self._prev_loss is not None and loss < self._prev_loss and widening:
            self._gap_epochs += 1
        else:
            self._gap_epochs = 0
        self._prev_loss, self._prev_gap = loss, gap
        if self._gap_epochs >= self.patience:
            text = overfitting_text(
                epoch, self._gap_epochs, self._best_val, self._best_epoch, loss, val_loss
            )
            self._warn_once("overfitting", self._step - 1, None, val_loss - loss, text)

    def _diagnose(self, step, batch, loss, bad_layers, before_step):
        when = "before" if before_step else "at"
        where = f"{when} step {step} (epoch {self._epoch}, batch {batch}; counted from 0)"
        layer, text = explain_nan(
            where,
            loss,
            bad_layers,
            self._weights.layer_names,
            before_step=before_step,
            probe=self._probe,
            diverged=bool(self._warned & {"diverging_loss", "exploding_gradients"}),
        )
        action = "Raising" if self.on_nan == "raise" else "Training stops after this step"
        message = f"TrainingHealth: {text} {action}."
        event = self._record("nan", step, layer, loss, message)
        self.diagnosis = message
        if self.on_nan == "raise":
            raise TrainingDivergedError(message, event)
        self._report(message)
        # The line Keras would print for its own stop (EarlyStopping uses print_msg), so
        # the diagnosis shows even when warnings are ignored and logging is not set up.
        io_utils.print_msg(message)
        self.model.stop_training = True

    def _check_loss(self, step, loss):
        if self._first_loss is None:
            self._first_loss = loss
        elif self._first_loss > 0 and loss > self.divergence_factor * self._first_loss:
            text = diverging_text(step, self._epoch, loss, self._first_loss, self.divergence_factor)
            self._warn_once("diverging_loss", step, None, loss, text)

    def _check_gradients(self, step):
        probe = self._probe()
        norm, first = probe["global"], self._first_grad_norm
        if first is None and math.isfinite(norm) and norm > 0:
            self._first_grad_norm = first = norm
        largest = max(probe["layers"], key=probe["layers"].get)
        if probe["nonfinite"] or not math.isfinite(norm):
            largest = probe["nonfinite"][0] if probe["nonfinite"] else largest
            reason = f"not finite (NaN/Inf first in layer {largest!r})"
        elif norm > self.grad_norm_threshold:
            reason = f"above grad_norm_threshold={self.grad_norm_threshold:g}"
        elif first and norm > self.grad_growth_factor * first:
            reason = f"{norm / first:.3g} times the first check's {first:.4g}"
        else:
            reason = None
        if reason:
            text = exploding_text(step, self._epoch, norm, reason)
            self._warn_once("exploding_gradients", step, largest, norm, text)
        ratios = {
            name: probe["layers"][name] / max(probe["weights"][name], 1e-12)
            for name in self._probe.connected_layers
        }
        tiny = {name: r for name, r in ratios.items() if r < self.vanishing_threshold}
        if tiny:
            text = vanishing_text(step, self._epoch, tiny, self.vanishing_threshold)
            name = next(iter(tiny))
            self._warn_once("vanishing_gradients", step, name, tiny[name], text)

    def _record(self, kind, step, layer, value, message):
        event = {"kind": kind, "step": step, "epoch": self._epoch, "layer": layer}
        event.update({"value": None if value is None else float(value), "message": message})
        self.events.append(event)
        return event

    def _warn_once(self, kind, step, layer, value, text):
        if kind in self._warned:
            return
        self._warned.add(kind)
        message = f"TrainingHealth: {text}"
        self._record(kind, step, layer, value, message)
        self._report(message)

    @staticmethod
    def _report(message):
        # stacklevel=1: the caller is Keras' callback loop, not user code.
        warnings.warn(message, TrainingHealthWarning, stacklevel=1)
        logger.warning(message)

    def get_config(self):
        # probe_data is data, not configuration: pass it again after from_config.
        return {
            "check_every": self.check_every,
            "on_nan": self.on_nan,
            "grad_norm_threshold": self.grad_norm_threshold,
            "grad_growth_factor": self.grad_growth_factor,
            "vanishing_threshold": self.vanishing_threshold,
            "divergence_factor": self.divergence_factor,
            "patience": self.patience,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
