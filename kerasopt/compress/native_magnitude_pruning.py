"""`MagnitudePruning`: the callback that moves pruning masks along a sparsity schedule."""

from __future__ import annotations

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

    The step is `model.optimizer.iterations`, read at every epoch start, so a fit that
    is interrupted, saved to `.keras` (masks included) and continued resumes the
    schedule where it stopped.

    Args:
        schedule: A `PruningSchedule` such as `PolynomialSparsity` or `ConstantSparsity`.
        structure: `"m:n"` (e.g. `"2:4"`) for structured masks, or `None` for
            unstructured magnitude pruning. Defaults to `None`.

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

    def __init__(self, schedule: PruningSchedule, structure: str | None = None):
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
                mask = magnitude_mask(kernel, sparsity)
            constraint.assign_mask(mask)
            layer.kernel.assign(kernel * mask)
        self.last_update = (int(step), sparsity)
