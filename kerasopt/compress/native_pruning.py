"""Native Keras 3 magnitude pruning: prepare a copy, fine-tune it sparse, strip it.

No TF-MOT: masks are `PruningMask` kernel constraints, which Keras applies after every
optimizer update inside the compiled step, and `MagnitudePruning` moves them along a
sparsity schedule. The user's model is never modified: `prepare_for_pruning` and
`strip_pruning` rebuild the model from its config with `keras.models.clone_model` and
copy the weights.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import keras

from kerasopt.compress.accuracy_budget import StageFineTuning
from kerasopt.compress.distillation import output_kind
from kerasopt.compress.fine_tuning import fine_tune
from kerasopt.compress.native_magnitude_pruning import MagnitudePruning
from kerasopt.compress.sparsity_mask import PruningMask, parse_structure
from kerasopt.compress.sparsity_schedules import (
    ConstantSparsity,
    PolynomialSparsity,
    PruningSchedule,
)
from kerasopt.compress.sparsity_table import kernel_layers
from kerasopt.core.errors import InvalidTypeError, InvalidValueError

PRUNABLE_LAYERS = ("Conv1D", "Conv2D", "DepthwiseConv2D", "Dense")
SCHEDULES = ("polynomial", "constant")


def _is_prunable(layer) -> bool:
    return isinstance(layer, tuple(getattr(keras.layers, name) for name in PRUNABLE_LAYERS))


def _constraint_key(layer) -> str:
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return "depthwise_constraint"
    return "kernel_constraint"


def _check_model(model, owner: str) -> None:
    if not isinstance(model, keras.Model):
        raise InvalidTypeError(
            f"{owner} expects a keras.Model. Received: {type(model).__name__}. Pass a "
            "Functional or Sequential Keras 3 model."
        )
    if not model.built or not model.weights:
        raise InvalidValueError(
            f"{owner} needs a built model with weights; model {model.name!r} is not built. "
            "Call the model on data or give it a keras.Input first."
        )


def _clone(model, clone_function, owner: str) -> keras.Model:
    try:
        return keras.models.clone_model(model, clone_function=clone_function, recursive=True)
    except (ValueError, TypeError) as error:
        raise InvalidValueError(
            f"{owner} rebuilds the model from its config and could not clone model "
            f"{model.name!r} ({error}). Use a Functional or Sequential model; subclassed "
            "models need get_config()."
        ) from error


def prepare_for_pruning(
    model: keras.Model, skip_layers: Sequence[str] = (), structure: str | None = None
) -> keras.Model:
    """A copy of `model` whose prunable kernels carry a `PruningMask` constraint.

    Conv1D, Conv2D, DepthwiseConv2D and Dense kernels are masked (the final classifier
    included) unless named in `skip_layers`. The copy is rebuilt from the config, so
    the constraints exist before `compile`, and gets the same weights; `model` itself is
    left untouched. Compile and fit the copy with a `MagnitudePruning` callback.

    Args:
        model: A built Functional or Sequential model.
        skip_layers: Names of prunable layers to leave dense. Defaults to `()`.
        structure: `"m:n"` if the masks will be m:n structured; layers whose input axis
            is not a multiple of n are then refused by name. Defaults to `None`.

    Example:

    ```python
    import keras
    from kerasopt.compress.native_pruning import prepare_for_pruning

    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, name="fc")])
    pruned = prepare_for_pruning(model)
    pruned.get_layer("fc").kernel_constraint  # a PruningMask
    ```
    """
    _check_model(model, "prepare_for_pruning")
    if isinstance(skip_layers, str):
        skip_layers = (skip_layers,)
    prunable = [layer for layer in kernel_layers(model) if _is_prunable(layer)]
    names = [layer.name for layer in prunable]
    unknown = [name for name in skip_layers if name not in names]
    if unknown:
        raise InvalidValueError(
            f"skip_layers names {unknown}, which match no prunable layer of model "
            f"{model.name!r}. Prunable layers ({', '.join(PRUNABLE_LAYERS)}): {names}."
        )
    targets = [layer for layer in prunable if layer.name not in skip_layers]
    if not targets:
        raise InvalidValueError(
            f"Nothing to prune in model {model.name!r}: prunable layers {names}, "
            f"skip_layers={list(skip_layers)}. Skip fewer layers."
        )
    m_by_n = parse_structure(structure)
    if m_by_n is not None:
        bad = [layer.name for layer in targets if layer.kernel.shape[-2] % m_by_n[1]]
        if bad:
            raise InvalidValueError(
                f"structure={structure!r} needs each kernel's input axis to be a multiple "
                f"of {m_by_n[1]}; layers {bad} are not. Pass "
                f"skip_layers={tuple(skip_layers) + tuple(bad)!r} to leave them dense."
            )
    target_ids = {id(layer) for layer in targets}

    def clone_function(layer):
        config = layer.get_config()
        if id(layer) in target_ids and not isinstance(layer.kernel.constraint, PruningMask):
            key = _constraint_key(layer)
            config[key] = PruningMask(layer.kernel.shape, constraint=config.get(key))
        return layer.__class__.from_config(config)

    clone = _clone(model, clone_function, "prepare_for_pruning")
    clone.set_weights(model.get_weights())
    return clone


def strip_pruning(model: keras.Model) -> keras.Model:
    """A copy of `model` without `PruningMask` constraints, pruned weights set to zero.

    The result has the architecture of the model before `prepare_for_pruning` (a
    layer's own kernel constraint is restored) and contains no kerasopt object, so it
    loads without importing kerasopt and converts to TFLite as any Keras model. It is
    not compiled.

    Args:
        model: A model from `prepare_for_pruning`, pruned or not.

    Example:

    ```python
    import keras
    from kerasopt.compress.native_pruning import prepare_for_pruning, strip_pruning

    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8)])
    clean = strip_pruning(prepare_for_pruning(model))
    ```
    """
    _check_model(model, "strip_pruning")
    values = []
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable)
        constraint = getattr(variable, "constraint", None)
        if isinstance(constraint, PruningMask):
            value = value * keras.ops.convert_to_numpy(constraint.mask)
        values.append(value)

    def clone_function(layer):
        config = layer.get_config()
        constraint = getattr(getattr(layer, "kernel", None), "constraint", None)
        if isinstance(constraint, PruningMask):
            config[_constraint_key(layer)] = keras.constraints.serialize(constraint.constraint)
        return layer.__class__.from_config(config)

    clone = _clone(model, clone_function, "strip_pruning")
    clone.set_weights(values)
    return clone


def build_sparsity_schedule(
    schedule, sparsity: float, total_steps: int, steps_per_epoch: int
) -> PruningSchedule:
    """`schedule` if it is a `PruningSchedule`, else the named one (`"constant"` or
    `"polynomial"`) reaching `sparsity` over a fit of `total_steps` steps."""
    if isinstance(schedule, PruningSchedule):
        return schedule
    if schedule == "constant":
        return ConstantSparsity(sparsity, begin_step=0, frequency=steps_per_epoch)
    if schedule == "polynomial":
        # Reach the target halfway, in about ten updates, and let the second half recover
        # the accuracy lost to the last cuts.
        end_step = max(1, total_steps // 2)
        frequency = max(1, end_step // 10)
        return PolynomialSparsity(0.0, sparsity, 0, end_step, frequency=frequency)
    raise InvalidValueError(
        f"prune_native expects schedule in {list(SCHEDULES)} or a PruningSchedule. "
        f"Received: schedule={schedule!r}."
    )


def _check_fit_arguments(data, sparsity, epochs, batch_size, learning_rate) -> None:
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidValueError(
                f"prune_native requires an int {name} >= 1. Received: {name}={value!r}."
            )
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, numbers.Real)
        or not learning_rate > 0
    ):
        raise InvalidValueError(
            f"prune_native requires learning_rate > 0. Received: {learning_rate=}. Use a "
            "fine-tuning rate such as 1e-3."
        )
    if not isinstance(sparsity, numbers.Real) or not 0 <= sparsity < 1:
        raise InvalidValueError(
            "prune_native requires 0 <= sparsity < 1 (the fraction of each kernel set to "
            f"zero). Received: {sparsity=}. Pass e.g. sparsity=0.8."
        )
    missing = [
        k for k in ("x_train", "y_train", "x_val", "y_val") if getattr(data, k, None) is None
    ]
    if missing:
        raise InvalidValueError(
            "prune_native needs data with x_train, y_train, x_val and y_val; "
            f"{type(data).__name__} lacks {missing}. Pass kerasopt.data.load_dataset(...)."
        )


def prune_native(
    model: keras.Model,
    data,
    *,
    sparsity: float = 0.8,
    schedule: str | PruningSchedule = "polynomial",
    structure: str | None = None,
    skip_layers: Sequence[str] = (),
    epochs: int = 2,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    max_epochs: int | None = None,
    floor: float | None = None,
    teacher: keras.Model | None = None,
    verbose: int = 0,
) -> keras.Model:
    """Fine-tunes a sparse copy of a trained classifier and returns it stripped.

    Prepares a copy (`prepare_for_pruning`) and fine-tunes it (`fine_tune`: Adam with
    warmup and cosine decay, sparse cross-entropy matched to the model's output) on
    `data.x_train` / `data.y_train`, validating on `data.x_val` / `data.y_val`, with a
    `MagnitudePruning` callback; then returns `strip_pruning` of it, compiled for
    evaluation. `model` is not modified. `"polynomial"` ramps the sparsity up from 0 and
    reaches `sparsity` halfway through the first `epochs` epochs; `"constant"` prunes to
    `sparsity` at the first step. With `max_epochs`, fine-tuning goes on after `epochs`
    until the validation accuracy reaches `floor`, or `max_epochs` are spent.

    Args:
        model: A trained, built Functional or Sequential classifier.
        data: A `DatasetSplits` (or any object with `x_train`, `y_train`, `x_val`,
            `y_val`) with integer labels.
        sparsity: Fraction of each pruned kernel set to zero, in [0, 1); ignored with
            `structure`, which fixes it at 1 - m/n. Defaults to `0.8`.
        schedule: `"polynomial"`, `"constant"`, or a `PruningSchedule`. Defaults to
            `"polynomial"`.
        structure: `"m:n"` (e.g. `"2:4"`) for structured sparsity, or `None`. Defaults
            to `None`.
        skip_layers: Names of prunable layers to leave dense. Defaults to `()`.
        epochs: Fine-tuning epochs always run; the sparsity ramp ends within them.
            Defaults to `2`.
        batch_size: Samples per step. Defaults to `32`.
        learning_rate: Peak Adam learning rate. Small models pruned hard recover faster
            with a larger rate (1e-2 on the digits CNN). Defaults to `1e-3`.
        max_epochs: The epoch budget when fine-tuning until `floor`; `None` runs exactly
            `epochs`. Defaults to `None`.
        floor: Validation accuracy that ends fine-tuning after `epochs`, or `None`.
            Defaults to `None`.
        teacher: A model to distill from while fine-tuning (usually `model` itself),
            or `None`. Defaults to `None`.
        verbose: Keras `fit` verbosity. Defaults to `0`.

    Example:

    ```python
    from kerasopt.compress.native_pruning import prune_native
    from kerasopt.compress.sparsity_table import format_sparsity_table, sparsity_table
    from kerasopt.data import load_dataset
    from kerasopt.models import build_cnn
    from kerasopt.training import TrainConfig, train

    data = load_dataset("digits")
    model = build_cnn(data.input_shape, 10, input_max=16, filters=(8, 16), dense_units=32)
    train(model, data, TrainConfig(epochs=6))
    sparse = prune_native(model, data, sparsity=0.8)
    print(format_sparsity_table(sparsity_table(sparse)))
    ```
    """
    return fine_tune_sparse(
        model,
        data,
        sparsity=sparsity,
        schedule=schedule,
        structure=structure,
        skip_layers=skip_layers,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_epochs=max_epochs,
        floor=floor,
        teacher=teacher,
        verbose=verbose,
    )[0]


def fine_tune_sparse(
    model: keras.Model,
    data,
    *,
    sparsity: float,
    schedule: str | PruningSchedule = "polynomial",
    structure: str | None = None,
    skip_layers: Sequence[str] = (),
    epochs: int = 2,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    max_epochs: int | None = None,
    floor: float | None = None,
    teacher: keras.Model | None = None,
    layer_sparsity: dict[str, float] | None = None,
    stop_early: bool = True,
    verbose: int = 0,
) -> tuple[keras.Model, StageFineTuning]:
    """`prune_native`, also returning the `StageFineTuning` record of the fit.

    `layer_sparsity` (`{layer: final sparsity}`, e.g. from `allocate_sparsity`) gives
    the named layers their own targets, reached along the same schedule; `stop_early`
    is `fine_tune`'s.
    """
    _check_model(model, "prune_native")
    _check_fit_arguments(data, sparsity, epochs, batch_size, learning_rate)
    max_epochs = epochs if max_epochs is None else max_epochs
    steps_per_epoch = math.ceil(len(data.y_train) / batch_size)
    schedule = build_sparsity_schedule(
        schedule, sparsity, epochs * steps_per_epoch, steps_per_epoch
    )
    pruned = prepare_for_pruning(model, skip_layers=skip_layers, structure=structure)
    record = fine_tune(
        pruned,
        data,
        min_epochs=epochs,
        max_epochs=max_epochs,
        learning_rate=learning_rate,
        floor=floor,
        callbacks=[MagnitudePruning(schedule, structure=structure, layer_sparsity=layer_sparsity)],
        teacher=teacher,
        batch_size=batch_size,
        stop_early=stop_early,
        verbose=verbose,
    )
    stripped = strip_pruning(pruned)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=output_kind(model) == "logits")
    stripped.compile(keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
    return stripped, record
