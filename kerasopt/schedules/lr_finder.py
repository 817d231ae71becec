"""`find_lr`: the learning-rate range test (Smith, 2017; popularised by fast.ai)."""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.validation import check_number


@dataclasses.dataclass(frozen=True)
class LRFinderResult:
    """Outcome of `find_lr`.

    Attributes:
        learning_rates: Learning rate of each recorded step, increasing geometrically.
        losses: Smoothed (bias-corrected moving-average) training loss at each step.
        suggestion: Learning rate where the smoothed loss falls fastest against log(lr).
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    suggestion: float


def find_lr(
    model,
    x,
    y,
    *,
    optimizer=None,
    loss=None,
    min_lr: float = 1e-6,
    max_lr: float = 1.0,
    steps: int = 100,
    batch_size: int = 32,
    smoothing: float = 0.98,
    plot_path=None,
) -> LRFinderResult:
    """Run the learning-rate range test and suggest a learning rate.

    Trains `model` for up to `steps` batches while the learning rate grows geometrically
    from `min_lr` to `max_lr`, recording a bias-corrected moving average of the loss, and
    stops once that exceeds 4x the best seen (or the loss turns NaN). The suggestion is the
    rate at the steepest negative slope of the curve against log(lr) between the first
    tenth of the test and the minimum (`suggest_learning_rate`), clipped to
    `[min_lr, max_lr]`. Batches are shuffled with NumPy's global RNG:
    `keras.utils.set_random_seed` makes runs repeatable.

    The model's weights are restored afterwards. Training uses a fresh copy of `optimizer`
    (else of the compiled optimizer, else SGD), so the model's optimizer state and compile
    settings are untouched. Single-output models only.

    Args:
        model: A built or buildable Keras model. Need not be compiled if `loss` is given.
        x: Inputs, an array (or a nested structure of arrays) with samples first.
        y: Targets, an array with samples first.
        optimizer: Optimizer name or instance to copy. Defaults to `None` (the model's).
        loss: Loss name, function or instance. Defaults to `None` (the compiled loss).
        min_lr: First learning rate tried. Defaults to `1e-6`.
        max_lr: Last learning rate tried. Defaults to `1.0`.
        steps: Number of batches (and learning rates) to try. Defaults to `100`.
        batch_size: Samples per batch. Defaults to `32`.
        smoothing: Moving-average factor for the loss, in `[0, 1)`. Defaults to `0.98`.
        plot_path: Where to save a PNG of loss against learning rate. Defaults to `None`.

    Example:

    >>> import keras, numpy as np
    >>> from kerasopt.schedules import find_lr
    >>> x = np.random.normal(size=(512, 2)).astype("float32")
    >>> y = (x.sum(axis=1) > 0).astype("float32")
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="sgd", loss="binary_crossentropy")
    >>> result = find_lr(model, x, y, plot_path="lr_finder.png")
    >>> model.compile(optimizer=keras.optimizers.SGD(result.suggestion), loss="binary_crossentropy")
    """
    check_number("find_lr", "min_lr", min_lr, 0, closed="neither", example=1e-7)
    fix = f"Pass a max_lr above {min_lr=}, e.g. max_lr=1.0."
    check_number("find_lr", "max_lr", max_lr, min_lr, closed="neither", fix=fix)
    check_number("find_lr", "steps", steps, 2, integer=True, example=100)
    check_number("find_lr", "batch_size", batch_size, 1, integer=True, example=32)
    check_number("find_lr", "smoothing", smoothing, 0, 1, closed="left", example=0.05)
    if loss is None and model.loss is None:
        raise InvalidValueError(
            "find_lr requires a loss, got loss=None and a model that is not compiled. "
            "Compile the model first or pass loss=..., e.g. loss='binary_crossentropy'."
        )
    n = len(keras.tree.flatten(x)[0])
    if n == 0 or n != len(y):
        raise InvalidValueError(
            f"find_lr requires as many targets as inputs (at least one), got {n} inputs and "
            f"{len(y)} targets. Pass matching x and y."
        )
    import tensorflow as tf  # GradientTape: fit() would need the model recompiled.

    loss_fn = keras.losses.get(loss if loss is not None else model.loss)
    source = keras.optimizers.get(optimizer or getattr(model, "optimizer", None) or "sgd")
    source = getattr(source, "inner_optimizer", source)  # unwrap a mixed-precision LossScale
    opt = type(source).from_config({**source.get_config(), "learning_rate": float(min_lr)})
    bs = min(batch_size, n)
    per_epoch = n // bs
    order = np.concatenate(
        [np.random.permutation(n)[: per_epoch * bs] for _ in range(math.ceil(steps / per_epoch))]
    )
    batches = order[: steps * bs].reshape(steps, bs)
    if not model.built:
        model(keras.tree.map_structure(lambda a: np.asarray(a)[:1], x))
    original_weights = model.get_weights()

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            pred = model(xb, training=True)
            # Keras' Loss classes do this alignment; plain loss functions ("mse") do not.
            if len(yb.shape) == len(pred.shape) - 1 and pred.shape[-1] == 1:
                yb = keras.ops.expand_dims(yb, -1)
            value = keras.ops.mean(loss_fn(yb, pred)) + sum(model.losses)
        grads = tape.gradient(value, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return value

    lrs = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    recorded_lrs, losses, average, best = [], [], 0.0, math.inf
    try:
        opt.build(model.trainable_variables)
        for i, (lr, idx) in enumerate(zip(lrs, batches, strict=True)):
            opt.learning_rate = float(lr)
            xb = keras.tree.map_structure(lambda a, idx=idx: np.asarray(a)[idx], x)
            raw = float(train_step(xb, np.asarray(y)[idx]))
            if not math.isfinite(raw):
                break
            average = smoothing * average + (1 - smoothing) * raw
            smoothed = average / (1 - smoothing ** (i + 1))
            recorded_lrs.append(float(lr))
            losses.append(smoothed)
            best = min(best, smoothed)
            if smoothed > 4 * best:
                break
    finally:
        model.set_weights(original_weights)
    if not losses:
        raise InvalidValueError(
            f"find_lr got a non-finite loss on the first batch at lr={min_lr}. "
            "Check x and y for NaN or inf values, or lower min_lr."
        )
    rates, curve = np.asarray(recorded_lrs), np.asarray(losses)
    suggestion = suggest_learning_rate(rates, curve)
    result = LRFinderResult(rates, curve, float(np.clip(suggestion, min_lr, max_lr)))
    if plot_path is not None:
        _plot(result, plot_path)
    return result


def _plot(result: LRFinderResult, path) -> None:
    # An explicit Agg canvas instead of matplotlib.use("Agg"): switching the global backend
    # would silently turn off inline plots in the caller's notebook.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(result.learning_rates, result.losses)
    ax.axvline(result.suggestion, color="tab:red", linestyle="--", label="suggestion")
    ax.set(xscale="log", xlabel="learning rate", ylabel="smoothed loss", title="LR range test")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def suggest_learning_rate(rates: np.ndarray, curve: np.ndarray) -> float:
    """The rate where the smoothed loss falls fastest on its way down to its minimum.

    The first tenth of the test is skipped: there the moving average has seen only a few
    batches and its swings look like steep descents (a digits CNN's test otherwise
    suggested its very first rate, 1e-6). Points after the minimum are diverging, so
    they are skipped too. With fewer than 3 points left, a tenth of the rate at the
    lowest loss.

    Example:

    >>> rates = np.geomspace(1e-5, 1.0, 50)
    >>> curve = 2.0 - np.tanh(np.log10(rates) + 2.5)  # falls fastest at lr ~ 3e-3
    >>> 1e-3 < suggest_learning_rate(rates, curve) < 1e-2
    True
    """
    best = int(np.argmin(curve))
    start = min(len(curve) // 10, max(best - 2, 0))
    if best - start < 2:
        return float(rates[best] / 10)
    window = slice(start, best + 1)
    slopes = np.gradient(curve[window], np.log(rates[window]))
    return float(rates[window][int(np.argmin(slopes))])
