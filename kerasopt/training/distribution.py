"""`make_strategy`: `tf.distribute` strategies for `train` and `kerasopt run --strategy`.

`"mirrored"` is `tf.distribute.MirroredStrategy` over every GPU, or without GPUs over
every logical CPU device (`split_cpu(n)` makes `n` of them, for tests and for trying the
path on a laptop). `"multiworker"` is refused on the versions kerasopt pins: Keras 3's
TensorFlow trainer fails in `fit` with MultiWorkerMirroredStrategy (keras-team/keras#20585);
`MULTIWORKER_ERROR` quotes the error, measured with two workers on 127.0.0.1, and the test
that reproduces it fails the day an upgrade fixes it.
"""

from __future__ import annotations

from kerasopt.core.errors import KerasoptError
from kerasopt.core.suggestions import did_you_mean

STRATEGIES = ("mirrored", "multiworker")

#: What `model.fit` raises on every worker with Keras 3.15.1 / TensorFlow 2.21.0, from
#: `keras/src/backend/tensorflow/trainer.py` `_maybe_symbolic_build`, which calls
#: `strategy.reduce("MEAN", first_batch)`; MultiWorkerMirroredStrategy's collective reduce
#: cannot take the (x, y) tuple.
MULTIWORKER_ERROR = (
    "ValueError: Attempt to convert a value (PerReplica:{...}) with an unsupported type "
    "(<class 'tensorflow.python.distribute.values.PerReplica'>) to a Tensor."
)
MULTIWORKER_ISSUE = "https://github.com/keras-team/keras/issues/20585"


class StrategyError(KerasoptError, ValueError):
    """An unknown or unsupported distribution strategy, or devices set up too late."""


def check_strategy(name) -> str | None:
    """`name` if kerasopt can train with it (`None`: no strategy); one line otherwise.

    Example:

    >>> check_strategy("mirrored")
    'mirrored'
    """
    if name is None:
        return None
    if _is_strategy(name):
        import tensorflow as tf

        if isinstance(name, tf.distribute.MultiWorkerMirroredStrategy):
            raise StrategyError(_multiworker_message())
        return name
    if name not in STRATEGIES:
        raise StrategyError(
            f"Unknown strategy {name!r}. Expected one of {list(STRATEGIES)}, a "
            f"tf.distribute.Strategy, or None.{did_you_mean(name, STRATEGIES)}"
        )
    if name == "multiworker":
        raise StrategyError(_multiworker_message())
    return name


def _multiworker_message() -> str:
    return (
        "strategy 'multiworker' is not supported: Keras 3.15 on TensorFlow 2.21 fails in "
        f"model.fit with MultiWorkerMirroredStrategy ({MULTIWORKER_ERROR} - "
        f"{MULTIWORKER_ISSUE}). Use --strategy mirrored on one machine (all its GPUs, "
        "or logical CPU devices), or one process per machine without --strategy."
    )


def _is_strategy(value) -> bool:
    return type(value).__module__.startswith("tensorflow") and hasattr(value, "scope")


def split_cpu(num_devices: int) -> list[str]:
    """Splits the CPU into `num_devices` logical devices for `MirroredStrategy`.

    TensorFlow fixes its devices when its runtime starts (the first op, tensor or
    `tf.config.list_logical_devices` call), so call this first in the process, before
    loading data or building a model; importing `keras` or `kerasopt` is fine. The
    devices share the same cores: this exercises the distributed path, it does not add
    compute.

    Args:
        num_devices: Logical CPU devices, >= 1.

    Returns:
        The logical CPU device names.

    Example:

    >>> from kerasopt.training import make_strategy, split_cpu  # doctest: +SKIP
    >>> split_cpu(2)  # doctest: +SKIP
    ['/device:CPU:0', '/device:CPU:1']
    >>> make_strategy("mirrored").num_replicas_in_sync  # doctest: +SKIP
    2
    """
    import tensorflow as tf

    if not isinstance(num_devices, int) or isinstance(num_devices, bool) or num_devices < 1:
        raise StrategyError(f"split_cpu needs num_devices >= 1. Received: {num_devices!r}.")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
        )
    except RuntimeError as error:
        current = len(tf.config.list_logical_devices("CPU"))
        if current == num_devices:
            return [d.name for d in tf.config.list_logical_devices("CPU")]
        raise StrategyError(
            f"split_cpu({num_devices}) came after TensorFlow started ({current} logical CPU "
            "device(s) already). Call it first in the process, before any data or model."
        ) from error
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def make_strategy(name, devices: list[str] | None = None):
    """The `tf.distribute.Strategy` for `name`, or `None` for `None`.

    Args:
        name: `"mirrored"`, a `tf.distribute.Strategy` (returned as it is), or `None`.
            `"multiworker"` raises `StrategyError` with the upstream error (see the
            module docstring).
        devices: Devices to mirror over. Defaults to every GPU, or without one every
            logical CPU device (`split_cpu`).

    Example:

    >>> from kerasopt.training import make_strategy
    >>> make_strategy(None) is None
    True
    """
    name = check_strategy(name)
    if name is None or _is_strategy(name):
        return name
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if devices is None:
        devices = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    # NCCL, the default all-reduce, needs GPUs; on CPUs reduce through one device.
    cross_device_ops = None if gpus else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=cross_device_ops)


def strategy_name(strategy) -> str | None:
    """`"mirrored"` for a MirroredStrategy, the class name for others, `None` for none."""
    if strategy is None:
        return None
    name = type(strategy).__name__
    return "mirrored" if name == "MirroredStrategy" else name


def in_scope(model, strategy) -> bool:
    """Whether `model`'s variables were created under `strategy.scope()`."""
    return all(
        getattr(variable.value, "_distribute_strategy", None) is strategy
        for variable in model.weights
    )


def replicate(model, strategy):
    """`model` itself when built under `strategy.scope()`, else a copy built there.

    The copy is `keras.models.clone_model` with the same weights; `train` copies its
    trained weights back, so the caller's model ends up trained either way.
    """
    import keras

    if in_scope(model, strategy):
        return model
    try:
        with strategy.scope():
            copy = keras.models.clone_model(model)
            copy.set_weights(model.get_weights())
    except Exception as error:  # noqa: BLE001 - clone_model fails for some subclassed models
        raise StrategyError(
            f"Model {model.name!r} was built outside strategy.scope() and cannot be "
            f"rebuilt there ({type(error).__name__}: {str(error).splitlines()[0]}). Build "
            "it inside `with strategy.scope():` and pass that strategy."
        ) from error
    return copy
