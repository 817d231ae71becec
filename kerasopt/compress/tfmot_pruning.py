"""`prune_with_tfmot`: magnitude pruning by TF-MOT for a Keras 3 model, and what it missed.

TF-MOT only takes `tf_keras` models, so the model is carried over by the bridge, wrapped
with `prune_low_magnitude` layer by layer, fine-tuned with `UpdatePruningStep`, stripped,
and carried back into a fresh Keras 3 clone. The user's model is only read.

TF-MOT does not always prune what it is asked to, and says nothing: its 2:4 mask pads a
group shorter than 4 with zeros and keeps every real weight, so a Conv2D with one input
channel stays dense while `is_pruned_m_by_n` reports it 2:4 sparse; `DepthwiseConv2D`
and `Bidirectional` have no prunable weights in its registry. `dense_layers_left` finds
such layers in any model, and `prune_with_tfmot` warns with its findings.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import keras
import numpy as np

from kerasopt.compress._tf_keras_finetune import (
    check_finetune_arguments,
    finetune,
    wrap_in_tf_keras,
)
from kerasopt.compress._tfmot import tfmot
from kerasopt.compress.bridge import from_tf_keras
from kerasopt.core.errors import InvalidValueError

SCHEDULES = ("polynomial", "constant")
STRUCTURES = (None, "2:4")
#: Weights TF-MOT's registry prunes, by tf_keras layer class (RNNs through their cell).
PRUNABLE_LAYERS = ("Conv1D", "Conv2D", "SeparableConv2D", "Dense", "Embedding", "LSTM", "GRU")
#: Fraction of the fine-tuning steps over which sparsity ramps up; the rest recovers.
PRUNING_FRACTION = 0.5
_KERNEL_NAMES = ("kernel", "depthwise_kernel", "pointwise_kernel", "embeddings", "recurrent_kernel")


def prune_with_tfmot(
    model: keras.Model,
    data,
    *,
    sparsity: float = 0.8,
    schedule: str = "polynomial",
    structure: str | None = None,
    skip_layers: Sequence[str] = (),
    epochs: int = 2,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    verbose: int = 0,
) -> keras.Model:
    """Prunes a Keras 3 model with TF-MOT's `prune_low_magnitude` while fine-tuning it.

    Each prunable layer (`PRUNABLE_LAYERS`, minus `skip_layers`) is wrapped; the model is
    fine-tuned on `data.x_train` with sparse categorical cross-entropy and Adam,
    validated on `data.x_val`, stripped, and returned as a new Keras 3 model whose
    pruned weights are exact zeros. The loss takes probabilities when the last layer
    ends in softmax, logits otherwise. "polynomial" ramps sparsity from 0 to `sparsity`
    (cubic `PolynomialDecay`) over the first `PRUNING_FRACTION` (half) of the steps and
    leaves the rest to recover; "constant" prunes to `sparsity` from the first step.
    With `structure="2:4"` TF-MOT keeps the 2 largest of every 4 weights along the
    input-channel axis, fixed once at step 1, so `sparsity` and `schedule` are not used.
    Layers TF-MOT leaves dense are named in a warning; call
    `dense_layers_left(result, structure)` to get them as a value.

    Recovery needs steps: on digits (1293 training samples) the defaults give 82 steps
    and 0.72-0.75 test accuracy at 80 % sparsity against 0.94 dense, while
    `batch_size=16, learning_rate=5e-3` (164 steps) gives 0.89-0.93 over five seeds.

    Args:
        model: A built Keras 3 Sequential or Functional classifier that `to_tf_keras`
            supports. It is not changed.
        data: A `DatasetSplits` (anything with `x_train`, `y_train`, `x_val`, `y_val`)
            with integer labels.
        sparsity: Final fraction of zeros in each pruned weight, in (0, 1). Defaults to
            `0.8`.
        schedule: `"polynomial"` or `"constant"`. Defaults to `"polynomial"`.
        structure: `None` for unstructured pruning or `"2:4"`. Defaults to `None`.
        skip_layers: Names of layers to leave unpruned. Defaults to `()`.
        epochs: Fine-tuning epochs. Defaults to `2`.
        batch_size: Fine-tuning batch size. Defaults to `32`.
        learning_rate: Adam learning rate. Defaults to `1e-3`.
        verbose: Verbosity passed to `fit`. Defaults to `0`.

    Returns:
        A new, uncompiled Keras 3 model with `model`'s architecture and pruned weights.

    Example:

    >>> from kerasopt.compress.tfmot_pruning import dense_layers_left, prune_with_tfmot
    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import build_cnn
    >>> data = load_dataset("digits")
    >>> model = build_cnn(data.input_shape, 10, input_max=16, filters=(8, 16))
    >>> pruned = prune_with_tfmot(model, data, sparsity=0.8, epochs=2)
    >>> dense_layers_left(pruned, structure=None)
    {}
    """
    _check_arguments(model, sparsity, schedule, structure, skip_layers, epochs, batch_size)
    if learning_rate <= 0:
        raise InvalidValueError(
            f"prune_with_tfmot needs learning_rate > 0. Received: {learning_rate=}."
        )
    steps = epochs * math.ceil(len(data.y_train) / batch_size)
    if steps < 4:
        raise InvalidValueError(
            f"prune_with_tfmot needs at least 4 fine-tuning steps to prune; {len(data.y_train)} "
            f"samples with {batch_size=} and {epochs=} give {steps}. Raise epochs or lower "
            "batch_size."
        )
    sparsity_api = tfmot().sparsity.keras
    params = {"pruning_schedule": _schedule(sparsity_api, schedule, sparsity, steps)}
    if structure == "2:4":
        params["sparsity_m_by_n"] = (2, 4)
    pruned = wrap_in_tf_keras(
        model,
        lambda layer: sparsity_api.prune_low_magnitude(layer, **params),
        PRUNABLE_LAYERS,
        skip_layers,
    )
    finetune(
        pruned,
        model,
        data,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        callbacks=[sparsity_api.UpdatePruningStep()],
        verbose=verbose,
    )
    result = from_tf_keras(sparsity_api.strip_pruning(pruned), like=model)
    left = dense_layers_left(result, structure=structure, skip_layers=skip_layers)
    if left:
        details = "; ".join(f"{name!r}: {reason}" for name, reason in left.items())
        warnings.warn(
            f"TF-MOT left {len(left)} layer(s) of {model.name!r} dense ({details}). Prune "
            "them with backend='native', or list them in skip_layers to accept it.",
            stacklevel=2,
        )
    return result


def dense_layers_left(
    model: keras.Model, structure: str | None = None, skip_layers: Sequence[str] = ()
) -> dict[str, str]:
    """Names the layers whose kernels do not have the sparsity `structure` asks for.

    With `structure=None` a layer is left dense when one of its kernels (`kernel`,
    `depthwise_kernel`, `pointwise_kernel`, `embeddings`, `recurrent_kernel`) holds no
    zero at all. With `"2:4"` the kernel is cut, along the input-channel axis (axis -2),
    into groups of 4: a layer is left dense when a whole group keeps more than 2
    non-zero weights, or when it has fewer than 4 input channels, so no group exists
    and TF-MOT's zero padding keeps every weight.

    Args:
        model: A Keras 3 model, usually the result of `prune_with_tfmot`.
        structure: `None` or `"2:4"`. Defaults to `None`.
        skip_layers: Names of layers not to check. Defaults to `()`.

    Returns:
        A dict from layer name to the reason it counts as dense; empty when every
        checked layer is pruned as asked.

    Example:

    >>> import keras
    >>> from kerasopt.compress.tfmot_pruning import dense_layers_left
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3)])
    >>> list(dense_layers_left(model, structure="2:4"))
    ['conv2d']
    """
    if structure not in STRUCTURES:
        raise InvalidValueError(f"Expected structure in {STRUCTURES}. Received: {structure=}.")
    left = {}
    for layer in model.layers:
        if layer.name in skip_layers:
            continue
        reasons = []
        for weight in layer.weights:
            if weight.name not in _KERNEL_NAMES:
                continue
            values = keras.ops.convert_to_numpy(weight)
            if structure is None:
                if np.count_nonzero(values == 0) == 0:
                    reasons.append(f"{weight.name} has no zero weights")
                continue
            channels = values.shape[-2]
            if channels < 4:
                reasons.append(
                    f"{weight.name} has {channels} input channel(s), fewer than one group "
                    "of 4: TF-MOT's 2:4 mask pads the group with zeros and keeps every "
                    "weight"
                )
                continue
            whole = np.moveaxis(values, -2, -1)[..., : channels // 4 * 4]
            kept = np.count_nonzero(whole.reshape(-1, 4), axis=-1)
            if np.any(kept > 2):
                reasons.append(
                    f"{weight.name} has {int(np.sum(kept > 2))} of {kept.size} groups of 4 "
                    "with more than 2 non-zero weights"
                )
        if reasons:
            left[layer.name] = "; ".join(reasons)
    return left


def _schedule(sparsity_api, schedule: str, sparsity: float, steps: int):
    pruning_steps = max(1, int(steps * PRUNING_FRACTION))
    frequency = max(1, pruning_steps // 10)
    if schedule == "constant":
        return sparsity_api.ConstantSparsity(sparsity, begin_step=0, frequency=frequency)
    # The final sparsity is reached only on a pruning turn, so end_step is one.
    end_step = max(frequency, pruning_steps // frequency * frequency)
    return sparsity_api.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=sparsity,
        begin_step=0,
        end_step=end_step,
        frequency=frequency,
    )


def _check_arguments(model, sparsity, schedule, structure, skip_layers, epochs, batch_size):
    if not 0.0 < sparsity < 1.0:
        raise InvalidValueError(f"prune_with_tfmot needs 0 < sparsity < 1. Received: {sparsity=}.")
    if schedule not in SCHEDULES:
        raise InvalidValueError(f"Expected schedule in {SCHEDULES}. Received: {schedule=}.")
    if structure not in STRUCTURES:
        raise InvalidValueError(
            f"Expected structure in {STRUCTURES} (None: unstructured). Received: "
            f"{structure=}. Other m:n patterns need backend='native'."
        )
    check_finetune_arguments("prune_with_tfmot", model, skip_layers, epochs, batch_size)
    if structure == "2:4":
        rank3 = [layer.name for layer in model.layers if type(layer).__name__ == "Conv1D"]
        if sorted(set(rank3) - set(skip_layers)):
            raise InvalidValueError(
                f"TF-MOT's 2:4 pruning takes rank-2 and rank-4 kernels only; Conv1D layer(s) "
                f"{rank3} have rank-3 kernels. Add them to skip_layers, or use "
                "backend='native'."
            )
