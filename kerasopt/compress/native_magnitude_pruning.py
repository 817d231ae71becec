"""`MagnitudePruning`: the callback that moves pruning masks along a sparsity schedule."""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import keras

from kerasopt.compress.sparsity_mask import (
    PruningMask,
    m_by_n_mask,
    magnitude_mask,
    parse_structure,
)
from kerasopt.compress.sparsity_schedules import PruningSchedule
from kerasopt.compress.sparsity_table import kernel_layers
from kerasopt.core.errors import InvalidTypeError, InvalidValueError


def pruning_masks(model: keras.Model) -> list[tuple]:
    """`(layer, PruningMask)` for every kernel of `model` that carries a pruning mask.

    Example:

    >>> import keras
    >>> from kerasopt.compress.native_pruning import prepare_for_pruning
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="fc")])
    >>> [layer.name for layer, mask in pruning_masks(prepare_for_pruning(model))]
    ['fc']
    """
    pairs = []
    for layer in kernel_layers(model):
        constraint = getattr(layer.kernel, "constraint", None)
        if isinstance(constraint, PruningMask):
            pairs.append((layer, constraint))
    return pairs


class MagnitudePruning(keras.callbacks.Callback):
    """Zeroes the smallest-magnitude kernel weights of each layer, following a schedule.

    Before every optimizer step that `schedule.should_update` selects, each kernel that
    carries a `PruningMask` gets a new mask: the `schedule(step)` fraction of its
    smallest |w| set to zero (per layer), or with `structure="m:n"` the m largest |w| of
    every n consecutive weights along the input axis kept (the schedule then only times
    the updates). Between updates the masks hold inside the compiled step, through the
    constraint. Build the model with `prepare_for_pruning` before `compile`: constraints
    must exist when the train function is traced.

    With `layer_sparsity={name: final}`, the named layers follow the schedule's progress
    scaled to their own final sparsity: at step s a named layer's mask zeroes
    `schedule(s) / schedule_final * final` of its kernel, where `schedule_final` is the
    schedule's `target_sparsity` (`ConstantSparsity` and `PolynomialSparsity`; another
    `PruningSchedule` subclass gets `schedule(end_step)`). A named layer therefore
    reaches `final` exactly when the schedule reaches its target, and a `final` of 0
    keeps the layer dense. Layers not named follow the schedule itself. Per-layer
    sparsities typically come from
    `kerasopt.compress.pruning_sensitivity.allocate_sparsity`.

    The step is `model.optimizer.iterations`, read at every epoch start, so a fit that
    is interrupted, saved to `.keras` (masks included) and continued resumes the
    schedule where it stopped.

    Args:
        schedule: A `PruningSchedule` such as `PolynomialSparsity` or `ConstantSparsity`.
        structure: `"m:n"` (e.g. `"2:4"`) for structured masks, or `None` for
            unstructured magnitude pruning. Defaults to `None`.
        layer_sparsity: `{layer_name: final_sparsity}` (each in [0, 1)) for layers that
            should end at their own sparsity instead of the schedule's target; names
            must be layers carrying a `PruningMask`. Not with `structure`. Defaults to
            `None`.

    Example:

    ```python
    import keras
    import numpy as np
    from kerasopt.compress.native_magnitude_pruning import MagnitudePruning
    from kerasopt.compress.native_pruning import prepare_for_pruning, strip_pruning
    from kerasopt.compress.sparsity_schedules import PolynomialSparsity

    x, y = np.random.rand(256, 16), np.random.randint(0, 4, 256)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(4, "softmax")])
    pruned = prepare_for_pruning(model)
    pruned.compile("adam", "sparse_categorical_crossentropy")
    schedule = PolynomialSparsity(0.0, 0.8, begin_step=0, end_step=16, frequency=4)
    pruned.fit(x, y, epochs=3, callbacks=[MagnitudePruning(schedule)], verbose=0)
    final = strip_pruning(pruned)
    ```
    """

    def __init__(
        self,
        schedule: PruningSchedule,
        structure: str | None = None,
        layer_sparsity: Mapping[str, float] | None = None,
    ):
        super().__init__()
        if not isinstance(schedule, PruningSchedule):
            raise InvalidTypeError(
                "MagnitudePruning expects a PruningSchedule (ConstantSparsity or "
                f"PolynomialSparsity). Received: schedule={schedule!r}. Pass e.g. "
                "ConstantSparsity(0.8, frequency=100)."
            )
        self.schedule = schedule
        self.structure = structure
        self._m_by_n = parse_structure(structure)
        self.layer_sparsity = _check_layer_sparsity(layer_sparsity, structure)
        self._schedule_final = _final_sparsity(schedule) if self.layer_sparsity else None
        self.step = None
        self.last_update = None
        self._masks = []
        self._epoch_iterations = 0
        self._epoch_offset = None

    def on_train_begin(self, logs=None):
        self._masks = pruning_masks(self.model)
        if not self._masks:
            raise InvalidValueError(
                f"MagnitudePruning found no PruningMask on model {self.model.name!r}: "
                "its kernels have no pruning constraint. Call "
                "model = prepare_for_pruning(model) before compile() and fit()."
            )
        if getattr(self.model, "optimizer", None) is None:
            raise InvalidValueError(
                f"MagnitudePruning needs a compiled model; model {self.model.name!r} has no "
                "optimizer. Call model.compile(...) before fit()."
            )
        self._check_layer_names()
        if self._m_by_n is not None:
            m, n = self._m_by_n
            bad = [layer.name for layer, mask in self._masks if mask.shape[-2] % n]
            if bad:
                raise InvalidValueError(
                    f"structure='{m}:{n}' groups the input axis in blocks of {n}, but layers "
                    f"{bad} have an input axis that is not a multiple of {n}. Rebuild with "
                    f"prepare_for_pruning(model, skip_layers={tuple(bad)!r})."
                )
        self._read_step()

    def _check_layer_names(self) -> None:
        masked = [layer.name for layer, _ in self._masks]
        unknown = sorted(set(self.layer_sparsity) - set(masked))
        if unknown:
            raise InvalidValueError(
                f"MagnitudePruning got layer_sparsity for {unknown}, which carry no "
                f"PruningMask in model {self.model.name!r}. Layers being pruned: {masked}. "
                "Fix the names, or do not skip those layers in prepare_for_pruning."
            )

    def layer_target(self, name: str, sparsity: float) -> float:
        """The sparsity of layer `name` when the schedule asks for `sparsity`."""
        if name not in self.layer_sparsity:
            return sparsity
        return sparsity / self._schedule_final * self.layer_sparsity[name]

    def _read_step(self):
        self._epoch_iterations = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        self._epoch_offset = None
        self.step = self._epoch_iterations

    def on_epoch_begin(self, epoch, logs=None):
        self._read_step()

    def on_train_batch_begin(self, batch, logs=None):
        # Counting in Python avoids a device read per step; the first batch index seen
        # anchors the count (a fit resumed mid-epoch does not start at batch 0).
        if self._epoch_offset is None:
            self._epoch_offset = self._epoch_iterations - int(batch)
        self.step = self._epoch_offset + int(batch)
        span = self.model.steps_per_execution
        span = span if isinstance(span, int) and span > 0 else 1
        due = [s for s in range(self.step, self.step + span) if self.schedule.should_update(s)]
        if due:
            self.update_masks(due[-1])

    def update_masks(self, step: int) -> None:
        """Recomputes every mask for schedule step `step` and zeroes the pruned weights."""
        sparsity = 1.0 - self._m_by_n[0] / self._m_by_n[1] if self._m_by_n else None
        if sparsity is None:
            sparsity = float(self.schedule(step))
        for layer, constraint in self._masks:
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            if self._m_by_n is not None:
                mask = m_by_n_mask(kernel, *self._m_by_n)
            else:
                mask = magnitude_mask(kernel, self.layer_target(layer.name, sparsity))
            constraint.assign_mask(mask)
            layer.kernel.assign(kernel * mask)
        self.last_update = (int(step), sparsity)


def _check_layer_sparsity(layer_sparsity, structure) -> dict[str, float]:
    if layer_sparsity is None:
        return {}
    if not isinstance(layer_sparsity, Mapping):
        raise InvalidTypeError(
            "MagnitudePruning expects layer_sparsity as a mapping {layer_name: sparsity}. "
            f"Received: layer_sparsity={layer_sparsity!r}. Pass e.g. {{'dense': 0.9}}."
        )
    if layer_sparsity and structure is not None:
        raise InvalidValueError(
            f"MagnitudePruning: structure={structure!r} fixes every layer's sparsity at "
            f"1 - m/n, so layer_sparsity={dict(layer_sparsity)!r} cannot apply. Pass one "
            "of them; leave the layers that must stay dense out with skip_layers."
        )
    checked = {}
    for name, value in layer_sparsity.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise InvalidValueError(
                f"MagnitudePruning expects each layer_sparsity value in [0, 1). Received: "
                f"layer_sparsity[{name!r}]={value!r}. Pass e.g. 0.9 for 90 % zeros."
            )
        checked[str(name)] = float(value)
    return checked


def _final_sparsity(schedule: PruningSchedule) -> float:
    """The sparsity the schedule ends at: its `target_sparsity`, else `schedule(end_step)`."""
    final = getattr(schedule, "target_sparsity", None)
    if final is None and schedule.end_step is not None:
        final = schedule(schedule.end_step)
    if final is None or not final > 0:
        raise InvalidValueError(
            "MagnitudePruning scales each layer_sparsity by the schedule's progress "
            f"(schedule(step) / final sparsity), so it needs a schedule ending above 0. "
            f"Received: {schedule!r} (final sparsity {final!r}). Give the schedule a "
            "target_sparsity > 0, or an end_step."
        )
    return float(final)
