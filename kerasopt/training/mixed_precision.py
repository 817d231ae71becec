"""Mixed precision for models built in float32: `resolve_precision` and `with_precision`.

Keras' `"mixed_bfloat16"` policy computes in bfloat16 and keeps float32 variables. On a
CPU with bfloat16 matrix units (Intel AMX, AVX512-BF16), oneDNN runs convolutions and
matmuls natively. What that saves grows with the channel counts, because the
elementwise work around them (BatchNormalization, ReLU) does not shrink: training steps
of 128 Fashion-MNIST images, the four models interleaved on this project's 2-core AMX
machine, took 0.92-0.94x the float32 time for the 16/32/64 residual CNN, 0.88x for
20/40/80, 0.66-0.79x for a 32/64 CNN with a 128-unit dense head and 0.50-0.66x for
64/128/256. A CPU without such units emulates bfloat16 and gets slower, which is what
`"auto"` guards against.

`train(config=TrainConfig(precision=...))` trains a mixed-precision copy of the model
(`with_precision`) and copies its float32 weights back, so the model a caller holds,
saves and converts to TFLite stays float32.
"""

from __future__ import annotations

import os

from kerasopt.core.validation import check_option, invalid_value

#: What `TrainConfig.precision` accepts.
PRECISIONS = ("float32", "mixed_bfloat16", "auto")

#: `/proc/cpuinfo` flags of native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_has_bfloat16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes in bfloat16 natively (AMX or AVX512-BF16; Linux only).

    Example:

    >>> from kerasopt.training.mixed_precision import cpu_has_bfloat16
    >>> isinstance(cpu_has_bfloat16(), bool)
    True
    """
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[-1].split())
                    return any(flag in flags for flag in BFLOAT16_CPU_FLAGS)
    except OSError:
        pass
    return False


def resolve_precision(precision: str, *, cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The policy `precision` stands for: `"auto"` is `"mixed_bfloat16"` on a bfloat16 CPU.

    `"auto"` picks float32 when a GPU is visible: mixed precision there wants
    `"mixed_float16"` and loss scaling, which kerasopt has not measured.

    Example:

    >>> from kerasopt.training.mixed_precision import resolve_precision
    >>> resolve_precision("float32")
    'float32'
    """
    check_option(
        "TrainConfig",
        "precision",
        precision,
        PRECISIONS,
        fix="Use 'auto' to train in bfloat16 where the CPU computes it natively.",
    )
    if precision != "auto":
        return precision
    if not cpu_has_bfloat16(cpuinfo) or tf_sees_gpu():
        return "float32"
    return "mixed_bfloat16"


def tf_sees_gpu() -> bool:
    """Whether TensorFlow has a GPU to train on."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def with_precision(model, precision: str):
    """`model` itself for float32, else a copy whose layers compute under `precision`.

    The layers that produce the model's outputs stay float32, as Keras' mixed precision
    guide advises for a softmax; the layers of a nested model (a backbone) are rebuilt
    too. The copy starts from `model`'s weights; its variables are
    float32, so `model.set_weights(copy.get_weights())` brings the training back.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> from kerasopt.training.mixed_precision import with_precision
    >>> model = build_cnn((8, 8), 10, input_max=16, filters=(8, 16))
    >>> copy = with_precision(model, "mixed_bfloat16")
    >>> copy.get_layer("block0_conv0").compute_dtype, copy.layers[-1].compute_dtype
    ('bfloat16', 'float32')
    """
    import keras

    policy = resolve_precision(precision)
    if policy == "float32":
        return model
    outputs = {id(tensor._keras_history[0]) for tensor in model.outputs}

    def clone(layer):
        config = layer.get_config()
        config["dtype"] = "float32" if id(layer) in outputs else policy
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    except (ValueError, TypeError) as error:
        raise invalid_value(
            "with_precision",
            "a Functional or Sequential model whose layers can be rebuilt from their config",
            f"model={model.name!r} ({type(error).__name__}: {str(error).splitlines()[0]})",
            "Train it with TrainConfig(precision='float32').",
        ) from error
    copy.set_weights(model.get_weights())
    return copy
