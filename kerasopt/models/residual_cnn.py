"""`build_residual_cnn`: a compact residual CNN with a global-average-pooling head."""

from __future__ import annotations

import math
from collections.abc import Sequence

from kerasopt.core.validation import (
    check_float,
    check_fraction,
    check_option,
    check_positive_int,
    invalid_value,
)
from kerasopt.models.image_inputs import check_image_shape, image_inputs


def build_residual_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    input_max: float = 255.0,
    widths: Sequence[int] = (20, 40, 80),
    stem_convs: int = 1,
    blocks: int | Sequence[int] = 1,
    dropout: float = 0.2,
    l2: float = 0.0,
    bn_momentum: float = 0.99,
    head: str = "pool",
    block: str = "conv",
    name: str = "residual_cnn",
):
    """Builds a phone-sized residual CNN whose preprocessing lives inside the model.

    The stem is `stem_convs` x (Conv2D 3x3 -> BatchNorm -> ReLU) with `widths[0]` filters
    at full resolution. Each later width is a stage: 2x2 max pooling, then one residual
    block (two 3x3 convs with BatchNorm; a 1x1 projection on the shortcut when the width
    changes). The head is GlobalAveragePooling (or Flatten) -> Dropout -> softmax.

    Compared with `build_cnn`'s Flatten -> Dense head, which holds most of that model's
    weights (400k of 0.48 M on 28x28 inputs), the pooled head costs `widths[-1]` x
    `num_classes` weights, so the bytes go to convolutions. Convolutions run at full
    resolution only in the stem, where one input channel makes them cheap: on 2 CPU
    cores `widths=(20, 40, 80)` trains about twice as fast per epoch as `build_cnn`'s
    default at a quarter of its weights (`kerasopt.models.count_macs`).

    Like `build_cnn`, the model takes raw pixels (`(H, W)` or `(H, W, C)`, values
    0..`input_max`), adds a missing channel axis and rescales to [0, 1] itself, and
    uses only layers that full-integer int8 TFLite supports.

    Args:
        input_shape: Shape of one raw sample, with or without a channel axis.
        num_classes: Number of output classes.
        input_max: Largest raw pixel value (16 for digits). Defaults to `255.0`.
        widths: Filters of the stem, then of each pooled stage. Defaults to
            `(20, 40, 80)` (113k weights, about 120 KB as int8 TFLite).
        stem_convs: Conv layers of the stem. Defaults to `1`.
        blocks: Residual blocks per pooled stage: one int for every stage, or one per
            stage (`len(widths) - 1` of them). Blocks after a stage's first keep its
            width, so their shortcuts are identities. On Fashion-MNIST (16/32/64, 15
            epochs), `(2, 1)` scored 0.9384 against 0.9366 for a step 1.56x as long:
            what the same time spent on epochs buys. Defaults to `1`.
        dropout: Dropout before the classifier, in `[0, 1)`. Defaults to `0.2`.
        l2: L2 penalty on the kernels; 0 disables (prefer AdamW's weight decay).
            Defaults to `0.0`.
        bn_momentum: Momentum of the BatchNorm moving statistics. With few steps (a
            search's short trials) 0.9 lets them catch up with the weights; at 0.99, 376
            steps on Fashion-MNIST left validation accuracy at 0.16-0.24 against 0.83
            in training. Defaults to `0.99`.
        head: `"pool"` (GlobalAveragePooling: `widths[-1]` x `num_classes` weights) or
            `"flatten"` (Flatten: keeps where in the image each feature is, at
            `H/2**stages` x `W/2**stages` times the weights). On Fashion-MNIST (2-conv
            stem, no dropout, 15 epochs), (16, 32, 64) scored 0.9340 flattened against
            0.9267 pooled, while (8, 16, 32) scored 0.9132 either way: below about
            50 KB of int8 the pooled head is the better buy. Defaults to `"pool"`.
        block: `"conv"` (two 3x3 convolutions per stage) or `"separable"` (each 3x3
            convolution becomes a MobileNet-style depthwise 3x3 -> BatchNorm -> ReLU ->
            pointwise 1x1 pair: about `9 + width` weights per output channel instead of
            `9 x width`, so a stage can be several times wider for the same bytes; on
            2 CPU cores its training step is slower per weight). The stem stays a full
            convolution. On Fashion-MNIST, 15 epochs, (16, 64, 96) separable with one
            stem conv and the pooled head (33,866 weights) scored 0.9190 as int8 at
            64,600 bytes: on the conv line, not above it (8/16/32 Flatten: 0.9130 at
            50 KB; 12/24/48: 0.9270 at 84 KB), because every depthwise and pointwise
            layer adds per-channel scales and biases to the file (31 KB beyond the
            weights against 15 KB for the conv model). Defaults to `"conv"`.
        name: Model name. Defaults to `"residual_cnn"`.

    Example:

    >>> from kerasopt.models import build_residual_cnn
    >>> model = build_residual_cnn((28, 28), 10, widths=(8, 16, 32))
    >>> model.output_shape
    (None, 10)
    """
    import keras

    owner = "build_residual_cnn"
    input_shape = check_image_shape(owner, input_shape, num_classes)
    if not isinstance(widths, (tuple, list)) or not widths:
        raise invalid_value(
            owner,
            "widths to be a non-empty sequence",
            f"{widths=}",
            "Pass e.g. widths=(20, 40, 80).",
        )
    widths = tuple(check_positive_int(owner, "widths[i]", w) for w in widths)
    if min(input_shape[:2]) // 2 ** (len(widths) - 1) < 1:
        raise invalid_value(
            owner,
            f"at most {int(math.log2(min(input_shape[:2]))) + 1} widths for a "
            f"{input_shape[0]}x{input_shape[1]} input (each pools by 2 after the first)",
            f"{widths=}",
            "Pass fewer widths.",
        )
    stem_convs = check_positive_int(owner, "stem_convs", stem_convs)
    blocks = _stage_blocks(owner, blocks, len(widths) - 1)
    dropout = check_fraction(owner, "dropout", dropout, closed="left")
    input_max = check_float(owner, "input_max", input_max, 0, closed="neither")
    l2 = check_float(owner, "l2", l2, 0)
    bn_momentum = check_fraction(owner, "bn_momentum", bn_momentum, closed="neither")
    head = check_option(owner, "head", head, ("pool", "flatten"))
    block = check_option(owner, "block", block, ("conv", "separable"))

    regularizer = keras.regularizers.L2(l2) if l2 else None

    def conv_bn(x, filters, kernel, label):
        x = keras.layers.Conv2D(
            filters,
            kernel,
            padding="same",
            use_bias=False,
            kernel_regularizer=regularizer,
            name=f"{label}_conv",
        )(x)
        return keras.layers.BatchNormalization(momentum=bn_momentum, name=f"{label}_bn")(x)

    def block_conv(x, filters, label):
        """A 3x3 convolution with BatchNorm: full, or depthwise -> BN -> ReLU -> pointwise."""
        if block == "conv":
            return conv_bn(x, filters, 3, label)
        x = keras.layers.DepthwiseConv2D(
            3,
            padding="same",
            use_bias=False,
            depthwise_regularizer=regularizer,
            name=f"{label}_depthwise",
        )(x)
        x = keras.layers.BatchNormalization(momentum=bn_momentum, name=f"{label}_depthwise_bn")(x)
        x = keras.layers.ReLU(name=f"{label}_depthwise_relu")(x)
        return conv_bn(x, filters, 1, label)

    inputs, x = image_inputs(input_shape, input_max)
    for index in range(stem_convs):
        x = conv_bn(x, widths[0], 3, f"stem{index}")
        x = keras.layers.ReLU(name=f"stem{index}_relu")(x)
    for stage, (width, count) in enumerate(zip(widths[1:], blocks, strict=True), start=1):
        x = keras.layers.MaxPooling2D(name=f"stage{stage}_pool")(x)
        for index in range(count):
            # The first block keeps the names models saved before `blocks` existed.
            label = f"stage{stage}" if index == 0 else f"stage{stage}_block{index + 1}"
            shortcut = x
            y = block_conv(x, width, f"{label}_a")
            y = keras.layers.ReLU(name=f"{label}_a_relu")(y)
            y = block_conv(y, width, f"{label}_b")
            if shortcut.shape[-1] != width:
                shortcut = conv_bn(shortcut, width, 1, f"{label}_projection")
            x = keras.layers.Add(name=f"{label}_add")([shortcut, y])
            x = keras.layers.ReLU(name=f"{label}_relu")(x)
    if head == "pool":
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_regularizer=regularizer, name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def _stage_blocks(owner: str, blocks, stages: int) -> tuple[int, ...]:
    """`blocks` as one positive count per pooled stage."""
    if isinstance(blocks, (tuple, list)):
        if len(blocks) != stages:
            raise invalid_value(
                owner,
                f"one block count per pooled stage ({stages})",
                f"{blocks=}",
                f"Pass {stages} counts, or one int for every stage.",
            )
        return tuple(check_positive_int(owner, "blocks[i]", count) for count in blocks)
    return (check_positive_int(owner, "blocks", blocks),) * stages
