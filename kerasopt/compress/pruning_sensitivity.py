"""Per-layer pruning sensitivity, and a global sparsity split that follows it.

Uniform magnitude pruning asks the same sparsity of a 9-weight stem filter and of an
8,000-weight hidden layer. `analyze_sensitivity` prunes each layer alone, one-shot, and
measures the validation accuracy lost; `allocate_sparsity` turns those curves into
per-layer sparsities meeting a global target with the smallest predicted loss, for
`MagnitudePruning(..., layer_sparsity=...)`. The measurements are one-shot (no
fine-tuning): they rank layers, they do not predict the accuracy after fine-tuning.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

import keras
import numpy as np

from kerasopt.compress.channel_pruning import ChannelPruningPlanner
from kerasopt.compress.native_pruning import PRUNABLE_LAYERS
from kerasopt.compress.sparsity_mask import magnitude_mask
from kerasopt.compress.sparsity_table import kernel_layers
from kerasopt.core.atomic import atomic_path
from kerasopt.core.errors import InvalidTypeError, InvalidValueError
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import (
    check_fraction,
    check_positive_int,
    check_type,
    check_validation_split,
    invalid_value,
)
from kerasopt.models.mirror_averaging import classifier_inside
from kerasopt.training.batch_norm_recalibration import recalibrate_batch_norm


@dataclasses.dataclass(frozen=True)
class LayerSensitivity:
    """Accuracy lost, in points, when one layer alone is pruned without fine-tuning.

    `sparsity_drops[i]` belongs to `SensitivityReport.sparsities[i]` and
    `channel_drops[j]` to `SensitivityReport.channel_fractions[j]`; a channel drop is
    `None` where `prune_channels` refused the layer, for `channel_refusal`. A layer
    whose channels meet others' at a residual merge is pruned with them, as a group:
    `channel_group` names the others, and the group's rows share its channel drops.
    """

    name: str
    kind: str
    weights: int
    sparsity_drops: tuple[float, ...]
    channel_drops: tuple[float | None, ...]
    channel_refusal: str | None = None
    channel_group: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class SensitivityReport:
    """What `analyze_sensitivity` measured: the dense accuracy and a row per layer.

    `dense_accuracy` is a fraction (0.97), drops are accuracy points (3.0 = 97 % -> 94 %),
    `samples` the validation samples evaluated and `seconds` the analysis time.

    Example:

    ```python
    report = analyze_sensitivity(model, data)
    print(report.table())
    report.plot("sensitivity.png")
    same = SensitivityReport.from_dict(json.loads(json.dumps(report.to_dict())))
    ```
    """

    dense_accuracy: float
    samples: int
    sparsities: tuple[float, ...]
    channel_fractions: tuple[float, ...]
    layers: tuple[LayerSensitivity, ...]
    seconds: float = 0.0

    def layer(self, name: str) -> LayerSensitivity:
        """The row of layer `name`."""
        for row in self.layers:
            if row.name == name:
                return row
        names = [row.name for row in self.layers]
        raise invalid_value("SensitivityReport", f"a layer in {names}", f"name={name!r}")

    def predicted_drop(self, name: str, sparsity: float) -> float:
        """Drop of layer `name` at `sparsity`: its measured curve, linear in between.

        The curve starts at 0 drop at sparsity 0; past the last measured sparsity it
        goes on with the slope of its last segment.
        """
        xs, ys = drop_curve(self, self.layer(name), max(sparsity, self.sparsities[-1]))
        return float(np.interp(sparsity, xs, ys))

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        header = ["layer", "class", "weights"]
        header += [f"{100 * s:g} %" for s in self.sparsities]
        header += [f"ch {100 * f:g} %" for f in self.channel_fractions]
        rows = []
        for row in self.layers:
            cells = [row.name, row.kind, str(row.weights)]
            cells += [f"{drop:.1f}" for drop in row.sparsity_drops]
            cells += ["-" if drop is None else f"{drop:.1f}" for drop in row.channel_drops]
            rows.append(cells)
        return header, rows

    def _notes(self) -> list[str]:
        notes = [
            f"Dense validation accuracy {100 * self.dense_accuracy:.2f} % on {self.samples} "
            "samples; cells: accuracy points lost when that layer alone is pruned, no "
            "fine-tuning (% columns: smallest-|w| weights zeroed; ch: filters/units removed)."
        ]
        refused = [row for row in self.layers if row.channel_refusal and self.channel_fractions]
        notes += [f"{row.name}: no channel pruning, {row.channel_refusal}" for row in refused]
        grouped = [row for row in self.layers if row.channel_group and self.channel_fractions]
        notes += [
            f"{row.name}: channels removed together with {', '.join(row.channel_group)} "
            "(they meet at a merge)"
            for row in grouped
        ]
        return notes

    def table(self) -> str:
        """An aligned text table, one row per layer, with the notes under it."""
        return "\n".join([text_table(*self._rows()), *self._notes()])

    def to_markdown(self) -> str:
        """The same table in GitHub-flavoured Markdown."""
        first, *refusals = self._notes()
        lines = [first, "", *markdown_table(*self._rows()), ""]
        return "\n".join([*lines, *(f"- {note}" for note in refusals)]).strip()

    def to_dict(self) -> dict:
        """Plain lists, floats and strings, ready for `json.dumps`."""
        result = dataclasses.asdict(self)
        result["sparsities"] = list(self.sparsities)
        result["channel_fractions"] = list(self.channel_fractions)
        result["layers"] = [
            {
                **dataclasses.asdict(row),
                "sparsity_drops": list(row.sparsity_drops),
                "channel_drops": list(row.channel_drops),
                "channel_group": list(row.channel_group),
            }
            for row in self.layers
        ]
        return result

    @classmethod
    def from_dict(cls, values: dict) -> SensitivityReport:
        """The report `to_dict` wrote (e.g. read back from a JSON file)."""
        layers = tuple(
            LayerSensitivity(
                **{
                    **row,
                    "sparsity_drops": tuple(row["sparsity_drops"]),
                    "channel_drops": tuple(row["channel_drops"]),
                    "channel_group": tuple(row.get("channel_group", ())),
                }
            )
            for row in values["layers"]
        )
        return cls(
            **{
                **values,
                "sparsities": tuple(values["sparsities"]),
                "channel_fractions": tuple(values["channel_fractions"]),
                "layers": layers,
            }
        )

    def plot(self, path: str | os.PathLike) -> None:
        """Accuracy drop against sparsity, one line per layer, written as a PNG."""
        # A bare Figure renders with Agg and leaves the notebook's pyplot backend alone.
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.5, 4))
        ax = fig.subplots()
        xs = [0.0, *(100 * s for s in self.sparsities)]
        for row in self.layers:
            ax.plot(xs, [0.0, *row.sparsity_drops], marker="o", ms=3, label=row.name)
        ax.set_xlabel("sparsity of that layer alone, %")
        ax.set_ylabel("validation accuracy drop, points")
        ax.set_title(f"Pruning sensitivity (dense {100 * self.dense_accuracy:.1f} %)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")


def _check_levels(name: str, values, allow_empty: bool) -> tuple[float, ...]:
    values = tuple(values)
    if not values and not allow_empty:
        raise invalid_value("analyze_sensitivity", f"at least one of {name}", f"{name}=()")
    for value in values:
        check_fraction("analyze_sensitivity", name, value, closed="neither", example=0.8)
    return tuple(sorted({float(v) for v in values}))


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:  # one-hot
        return y.argmax(axis=-1)
    return y.reshape(len(y))


class _Accuracy:
    """Top-1 accuracy of a predict function over fixed, batch-padded validation data.

    Padding the last batch to `batch_size` keeps one input shape, so a compiled predict
    function is traced once and reused for every weight change.
    """

    def __init__(self, x, y, batch_size: int):
        self.x, self.y = np.asarray(x), _labels(y)
        self.batch_size = min(batch_size, len(self.x))

    def __call__(self, predict) -> float:
        hits = 0
        for start in range(0, len(self.x), self.batch_size):
            batch = self.x[start : start + self.batch_size]
            n = len(batch)
            if n < self.batch_size:
                batch = np.concatenate([batch, np.repeat(batch[-1:], self.batch_size - n, 0)])
            out = np.asarray(keras.ops.convert_to_numpy(predict(batch)))[:n]
            guess = (out[..., 0] > 0.5).astype(int) if out.shape[-1] == 1 else out.argmax(-1)
            hits += int(np.sum(guess == self.y[start : start + n]))
        return hits / len(self.x)


def _sparsity_drops(layer, model, accuracy, dense, sparsities) -> tuple[float, ...]:
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    drops = []
    try:
        for sparsity in sparsities:
            layer.kernel.assign(kernel * magnitude_mask(kernel, sparsity))
            drops.append(100 * (dense - accuracy(model.predict_on_batch)))
    finally:
        layer.kernel.assign(kernel)
    return tuple(drops)


_CHANNEL_KINDS = ("Conv1D", "Conv2D", "Conv3D", "Dense")


def _layer_paths(model: keras.Model, prefix: str = "") -> dict[int, str]:
    """`{id(layer): name}` with layers of a nested model named `"nested/layer"`."""
    paths = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            paths.update(_layer_paths(layer, f"{prefix}{layer.name}/"))
        else:
            paths[id(layer)] = prefix + layer.name
    return paths


def _refusal(row) -> str:
    if row.status == "output":
        return "its channels are model outputs"
    if row.status == "fixed":
        return "its channels meet, at a merge, channels no Conv/Dense layer produces"
    return f"prune_channels left it {row.status!r}"


class _ChannelDrops:
    """Drops with one layer's filters/units removed (with its merge group; all else whole).

    A layer whose channels meet others' at a residual `Add` is removed with them, so the
    group is measured once and its layers share the result.
    """

    def __init__(self, model, accuracy, dense, fractions, calibration):
        self.model, self.accuracy, self.dense, self.fractions = model, accuracy, dense, fractions
        self.calibration = calibration
        self.paths = _layer_paths(model)
        self.others = [
            self.paths.get(id(layer), layer.name)
            for layer in kernel_layers(model)
            if type(layer).__name__ in _CHANNEL_KINDS
        ]
        self.groups = self._groups()
        self.measured = {}

    def _groups(self) -> dict[str, tuple[str, ...]]:
        try:
            rows = ChannelPruningPlanner(self.model).layers(0.5)
        except (InvalidValueError, InvalidTypeError):
            return {}  # each layer is then tried alone, and refused with the reason
        return {row.name: row.coupled for row in rows}

    def __call__(self, layer):
        """`(drops, refusal, group)` for `layer`."""
        name = self.paths.get(id(layer), layer.name)
        group = self.groups.get(name, ())
        key = frozenset((name, *group))
        if key not in self.measured:
            self.measured[key] = self._measure(name, type(layer).__name__, key)
        drops, refusal = self.measured[key]
        return drops, refusal, group if refusal is None else ()

    def _measure(self, name, kind, members):
        refused = (None,) * len(self.fractions)
        skip = [other for other in self.others if other not in members]
        try:
            planner = ChannelPruningPlanner(self.model, skip_layers=skip)
        except (InvalidValueError, InvalidTypeError) as error:
            return refused, str(error)
        drops = []
        for fraction in self.fractions:
            try:
                result = planner.prune(fraction)
            except (InvalidValueError, InvalidTypeError) as error:
                return refused, str(error)
            row = next((row for row in result.layers if row.name == name), None)
            if row is None:
                return refused, f"prune_channels removes no filters/units of {kind}"
            if row.status != "pruned":
                return refused, _refusal(row)
            pruned = result.model
            recalibrate_batch_norm(pruned, self.calibration, batches=16)
            drops.append(
                100 * (self.dense - self.accuracy(lambda x, m=pruned: m(x, training=False)))
            )
        return tuple(drops), None


def analyze_sensitivity(
    model: keras.Model,
    data,
    *,
    sparsities: Sequence[float] = (0.5, 0.7, 0.8, 0.9, 0.95),
    channel_fractions: Sequence[float] = (0.25, 0.5),
    samples: int | None = None,
    batch_size: int = 256,
) -> SensitivityReport:
    """Prunes each prunable layer alone, one-shot, and measures the accuracy it costs.

    For every Conv1D, Conv2D, DepthwiseConv2D and Dense kernel (nested models
    included), the `sparsity` fraction of its smallest |w| is set to zero, the
    validation accuracy measured with the model's compiled predict function (traced
    once), and the kernel restored. For each fraction of `channel_fractions`, the
    layer's filters/units are also removed with `prune_channels` (every other
    Conv/Dense layer skipped), its BatchNormalization statistics re-estimated on the
    training inputs (`data.x_train`, else `x_val`) as `compress_model` does, and the
    smaller model evaluated. Layers whose channels
    meet at a residual merge are removed together and share one measurement
    (`channel_group`); a layer `prune_channels` refuses (an output layer, channels
    added to the model input...) gets `None` and the reason. Nothing is fine-tuned and
    `model` keeps its weights.

    Args:
        model: A trained, built single-output classifier (probabilities or logits).
        data: A `DatasetSplits`, or any object with `x_val` and `y_val` (integer or
            one-hot labels).
        sparsities: Sparsities to measure, each in (0, 1). Defaults to
            `(0.5, 0.7, 0.8, 0.9, 0.95)`.
        channel_fractions: Fractions of filters/units to remove, each in (0, 1); `()`
            skips channel pruning. Defaults to `(0.25, 0.5)`.
        samples: Evaluate on the first `samples` validation samples only; `None` uses
            them all. Defaults to `None`.
        batch_size: Samples per predict call. Defaults to `256`.

    Returns:
        A `SensitivityReport`: `dense_accuracy`, one `LayerSensitivity` row per layer,
        `table()`, `to_markdown()`, `to_dict()` and `plot(path)`.

    Example:

    ```python
    from kerasopt.compress.pruning_sensitivity import allocate_sparsity, analyze_sensitivity
    from kerasopt.data import load_dataset
    from kerasopt.models import build_cnn
    from kerasopt.training import TrainConfig, train

    data = load_dataset("digits")
    model = build_cnn(data.input_shape, 10, input_max=16, filters=(8, 16), dense_units=32)
    train(model, data, TrainConfig(epochs=4))
    report = analyze_sensitivity(model, data)
    print(report.table())
    layer_sparsity = allocate_sparsity(report, 0.8)
    ```
    """
    owner = "analyze_sensitivity"
    check_type(owner, "model", model, keras.Model, expected="a keras.Model")
    model = classifier_inside(model, owner)
    if not model.built or not model.weights or len(model.outputs or ()) != 1:
        raise invalid_value(
            owner,
            "a built model with weights and one output",
            f"model {model.name!r} (built={model.built}, outputs={len(model.outputs or ())})",
            "Give the model a keras.Input; wrap a multi-output model to return one output.",
        )
    check_validation_split(owner, data)
    sparsities = _check_levels("sparsities", sparsities, allow_empty=False)
    fractions = _check_levels("channel_fractions", channel_fractions, allow_empty=True)
    batch_size = check_positive_int(owner, "batch_size", batch_size)
    count = len(data.y_val)
    if samples is not None:
        count = min(count, check_positive_int(owner, "samples", samples))
    layers = [layer for layer in kernel_layers(model) if type(layer).__name__ in PRUNABLE_LAYERS]
    if not layers:
        raise invalid_value(
            owner, f"a model with {', '.join(PRUNABLE_LAYERS)} layers", f"model {model.name!r}"
        )

    start = time.perf_counter()
    accuracy = _Accuracy(data.x_val[:count], data.y_val[:count], batch_size)
    dense = accuracy(model.predict_on_batch)
    channel_drops = None
    if fractions:
        calibration = getattr(data, "x_train", None)
        calibration = data.x_val if calibration is None else calibration
        channel_drops = _ChannelDrops(model, accuracy, dense, fractions, calibration)
    rows = []
    for layer in layers:
        drops = _sparsity_drops(layer, model, accuracy, dense, sparsities)
        channel, refusal, group = (), None, ()
        if channel_drops is not None:
            channel, refusal, group = channel_drops(layer)
        size = int(np.prod(layer.kernel.shape))
        kind = type(layer).__name__
        rows.append(LayerSensitivity(layer.name, kind, size, drops, channel, refusal, group))
    seconds = time.perf_counter() - start
    return SensitivityReport(dense, count, sparsities, fractions, tuple(rows), seconds)


def drop_curve(
    report: SensitivityReport, row: LayerSensitivity, end: float, *, channels: bool = False
):
    """`(levels, drops)` from `(0, 0)` through the measurements, cut or extended to `end`.

    The levels are `report.sparsities` and the row's sparsity drops, or with `channels`
    `report.channel_fractions` and its channel drops.
    """
    levels = report.channel_fractions if channels else report.sparsities
    xs = np.array([0.0, *levels])
    ys = np.array([0.0, *(row.channel_drops if channels else row.sparsity_drops)])
    if end > xs[-1]:
        slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
        return np.append(xs, end), np.append(ys, ys[-1] + slope * (end - xs[-1]))
    inside = xs < end
    return np.append(xs[inside], end), np.append(ys[inside], np.interp(end, xs, ys))
