"""`PruningMask`: a kernel constraint that keeps pruned weights exactly zero.

Keras applies a variable's constraint after every optimizer update, inside the compiled
train step. Re-masking only when the masks change is not enough: Adam's moment estimates
keep moving a zeroed weight, so pruned weights grow back between mask updates. The mask
lives in a non-trainable `keras.Variable`, so updating it needs no retracing, and is
written into the constraint's config (bit-packed), so a `.keras` file saved mid-pruning
restores it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from kerasopt.core.errors import InvalidValueError


def parse_structure(structure: str | None) -> tuple[int, int] | None:
    """Parses an m:n structure such as `"2:4"` (keep 2 of every 4) into `(m, n)`.

    Example:

    >>> parse_structure("2:4")
    (2, 4)
    """
    if structure is None:
        return None
    try:
        m, n = (int(part) for part in str(structure).split(":"))
    except ValueError:
        m = n = 0
    if not 0 < m < n:
        raise InvalidValueError(
            f"Expected structure as 'm:n' with 0 < m < n (keep m of every n consecutive "
            f"weights along the input axis). Received: structure={structure!r}. Pass e.g. "
            "structure='2:4', or None for unstructured pruning."
        )
    return m, n


def magnitude_mask(kernel: np.ndarray, sparsity: float) -> np.ndarray:
    """A 0/1 float32 mask zeroing the `round(sparsity * size)` smallest-|w| weights.

    At least one weight is kept. The count is exact even when magnitudes tie (already
    pruned weights are all zero), unlike a threshold.

    Example:

    >>> magnitude_mask(np.array([0.1, -3.0, 0.5, 2.0]), 0.5).tolist()
    [0.0, 1.0, 0.0, 1.0]
    """
    flat = np.abs(np.asarray(kernel, dtype="float64")).ravel()
    n_prune = min(int(round(float(sparsity) * flat.size)), flat.size - 1)
    mask = np.ones(flat.size, dtype="float32")
    if n_prune > 0:
        mask[np.argpartition(flat, n_prune - 1, kind="introselect")[:n_prune]] = 0.0
    return mask.reshape(np.shape(kernel))


def m_by_n_mask(kernel: np.ndarray, m: int, n: int) -> np.ndarray:
    """A 0/1 float32 mask keeping the `m` largest |w| in every `n` consecutive weights.

    Groups run along the input axis (axis -2: `in` of a Dense `(in, out)` kernel, input
    channels of a Conv `(..., in, out)` kernel), whose length must be a multiple of `n`.

    Example:

    >>> m_by_n_mask(np.array([[1.0], [-4.0], [3.0], [0.5]]), 2, 4).ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    kernel = np.asarray(kernel, dtype="float64")
    if kernel.ndim < 2 or kernel.shape[-2] % n:
        raise InvalidValueError(
            f"An {m}:{n} mask groups the input axis (axis -2) in blocks of {n}; it needs a "
            f"kernel whose axis -2 is a multiple of {n}. Received: kernel.shape="
            f"{kernel.shape}. Skip this layer (skip_layers=...) or use structure=None."
        )
    moved = np.moveaxis(np.abs(kernel), -2, -1)
    groups = moved.reshape(*moved.shape[:-1], moved.shape[-1] // n, n)
    # A stable sort keeps the earlier weight of a tie, so every group keeps exactly m.
    order = np.argsort(-groups, axis=-1, kind="stable")
    keep = np.zeros(groups.shape, dtype="float32")
    np.put_along_axis(keep, order[..., :m], 1.0, axis=-1)
    return np.moveaxis(keep.reshape(moved.shape), -1, -2)


def _pack(mask: np.ndarray) -> str | None:
    if mask.all():
        return None
    return base64.b64encode(np.packbits(mask.astype(bool).ravel()).tobytes()).decode("ascii")


def _unpack(packed: str, shape: tuple[int, ...]) -> np.ndarray:
    bits = np.frombuffer(base64.b64decode(packed.encode("ascii")), dtype="uint8")
    size = int(np.prod(shape))
    return np.unpackbits(bits, count=size).astype("float32").reshape(shape)


@keras.saving.register_keras_serializable(package="kerasopt")
class PruningMask(keras.constraints.Constraint):
    """Multiplies a kernel by a 0/1 mask after every optimizer update.

    Attach it as a layer's `kernel_constraint` before the model is built (the pruning
    helpers do this through `prepare_for_pruning`): Keras then applies it inside the
    compiled train step, so pruned weights stay exactly zero whatever the optimizer's
    moments say. `MagnitudePruning` changes the mask with `assign_mask`; the compiled
    step reads the variable, so nothing is retraced. A constraint the layer already had
    runs first, then the mask.

    Args:
        shape: Shape of the kernel the mask covers.
        mask: Initial mask: an array of 0/1 of `shape`, or the packed string written by
            `get_config`; `None` keeps every weight. Defaults to `None`.
        constraint: The layer's previous kernel constraint (instance, name or config),
            applied before the mask. Defaults to `None`.

    Example:

    ```python
    import keras
    from kerasopt.compress.sparsity_mask import PruningMask

    layer = keras.layers.Dense(8, kernel_constraint=PruningMask((4, 8)))
    layer.build((None, 4))
    ```
    """

    def __init__(self, shape: Sequence[int], mask=None, constraint=None):
        self.shape = tuple(int(d) for d in shape)
        if not self.shape or min(self.shape) < 1:
            raise InvalidValueError(
                f"PruningMask needs the kernel's shape (positive sizes). Received: "
                f"shape={shape!r}. Pass layer.kernel.shape."
            )
        if mask is None:
            values = np.ones(self.shape, dtype="float32")
        elif isinstance(mask, str):
            values = _unpack(mask, self.shape)
        else:
            values = self._check_mask(mask)
        self.constraint = keras.constraints.get(constraint)
        self.mask = keras.Variable(values, trainable=False, dtype="float32", name="pruning_mask")

    def _check_mask(self, mask) -> np.ndarray:
        values = np.asarray(keras.ops.convert_to_numpy(mask), dtype="float32")
        if values.shape != self.shape:
            raise InvalidValueError(
                f"PruningMask covers a kernel of shape {self.shape}; received a mask of "
                f"shape {values.shape}. Pass a mask computed from this kernel."
            )
        if not np.isin(values, (0.0, 1.0)).all():
            raise InvalidValueError(
                "PruningMask expects a mask of 0s and 1s. Received values "
                f"{sorted(set(np.unique(values).tolist()))[:5]}. Threshold it, e.g. "
                "(abs(kernel) > t).astype('float32')."
            )
        return values

    def __call__(self, w):
        if self.constraint is not None:
            w = self.constraint(w)
        mask = self.mask
        if keras.backend.standardize_dtype(w.dtype) != "float32":
            mask = ops.cast(mask, w.dtype)
        return w * mask

    def assign_mask(self, mask) -> None:
        """Replaces the mask (0/1 values of the kernel's shape); no retracing needed."""
        self.mask.assign(self._check_mask(mask))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            {
                "shape": list(self.shape),
                "mask": _pack(keras.ops.convert_to_numpy(self.mask)),
                "constraint": keras.constraints.serialize(self.constraint),
            }
        )
        return config
