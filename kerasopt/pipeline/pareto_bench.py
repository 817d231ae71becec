"""`run_pareto_bench`: int8 accuracy against int8 size, kerasopt's recipe beside the plain path.

A phone developer picks a point on the accuracy-vs-size curve. This trains the
scenario's residual CNN at several widths with the scenario's recipe, and, as the peer
line, the CNN of keras.io's "Simple MNIST convnet" at several widths with that
example's own training (Adam, no augmentation, the same epochs); every model is
converted to full-integer int8 TFLite the same way and scored on LiteRT over the test
split. With `channels`, the widest residual CNN is also compressed by `compress_model`
(channel pruning, fine-tuned within its accuracy budget) at each fraction: a third line,
the points compression reaches from one trained model. With `recipe_widths` and
`recipe_filters`, the small residual CNNs and the plain path's own CNN are also trained
with kerasopt's recipe for small models (`small_model_recipe`), which underfit under
the scenario's; the plain CNN gives the points below the residual CNN's smallest file,
where its fixed part outweighs its weights.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

from kerasopt.compress import compress_model
from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import check_fraction, check_positive_int, invalid_value
from kerasopt.export import measure_int8
from kerasopt.models import build_residual_cnn, count_macs
from kerasopt.models.image_inputs import check_image_shape, image_inputs
from kerasopt.scenarios import Scenario, get_scenario
from kerasopt.training import train

#: Stem widths of kerasopt's points: `widths=(w, 2w, 4w)`; with the Flatten head of
#: fashion_mnist's recipe, 21/45/79/121/173 KB as int8 (names stripped).
RESIDUAL_WIDTHS = (4, 8, 12, 16, 20)
#: Filters of the peer's two convolutions; keras.io's example uses (32, 64).
PLAIN_PATH_FILTERS = ((8, 16), (16, 32), (32, 64), (64, 128))
#: Stem widths of the residual CNNs also trained with `small_model_recipe`: the small
#: ones, which underfit under the scenario's recipe.
RECIPE_WIDTHS = (4, 8)
#: Filters of the plain CNN trained with `small_model_recipe`: the smallest peer shape,
#: whose int8 file (10 KB) is under the smallest residual CNN's (21 KB).
RECIPE_FILTERS = ((8, 16),)
#: The int8 budgets of the summary table, in KB (1 KB = 1,000 bytes).
BUDGETS_KB = (25, 50, 100, 200)
KERASOPT_LINE = "kerasopt"
COMPRESSED_LINE = "kerasopt, channels pruned"
RECIPE_LINE = "kerasopt, small-model recipe"
PLAIN_LINE = "plain path"
#: Every line, in the order of the tables' columns.
LINES = (KERASOPT_LINE, COMPRESSED_LINE, RECIPE_LINE, PLAIN_LINE)
SCHEMA_VERSION = 2

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ParetoPoint:
    """One trained model: its int8 size and accuracy on LiteRT, and what it cost.

    Attributes:
        line: One of `LINES`: `"kerasopt"`, `"kerasopt, channels pruned"`,
            `"kerasopt, small-model recipe"` or `"plain path"`.
        model: The model and its widths, e.g. `"residual (12, 24, 48)"`, or what was
            compressed, e.g. `"residual (16, 32, 64) channels -50%"`.
        params: Weights of the Keras model.
        macs: Multiply-accumulates of one forward pass (`count_macs`).
        int8_bytes: Size of the full-integer int8 `.tflite`.
        int8_accuracy: Its accuracy on LiteRT over the test split.
        keras_accuracy: The Keras model's accuracy on the same split.
        train_seconds: Wall time of `fit` (for a compressed point: of its fine-tuning).
        epochs: Epochs trained (for a compressed point: fine-tuning epochs).
        budget_held: For a compressed point, whether `compress_model` held its accuracy
            budget on validation; `None` for a trained one.
        val_drop: For a compressed point, its validation drop from the model it came
            from, in points (positive: lost); `None` for a trained one.
    """

    line: str
    model: str
    params: int
    macs: int
    int8_bytes: int
    int8_accuracy: float
    keras_accuracy: float
    train_seconds: float
    epochs: int
    budget_held: bool | None = None
    val_drop: float | None = None

    def budget(self) -> str:
        """`"held (-0.12)"` or `"NOT held (-2.50)"`: the change in validation points, as
        `kerasopt compress` prints it; `""` for a trained point."""
        if self.budget_held is None:
            return ""
        return f"{'held' if self.budget_held else 'NOT held'} ({-self.val_drop or 0.0:+.2f})"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ParetoReport:
    """The points of one benchmark, with the front and the best point per budget.

    Example:

    >>> report = run_pareto_bench("fashion_mnist", epochs=12)  # doctest: +SKIP
    >>> report.best_within(50, "kerasopt").int8_accuracy  # doctest: +SKIP
    0.93
    """

    scenario: str
    data_source: str
    test_samples: int
    points: tuple[ParetoPoint, ...]

    def line(self, line: str) -> list[ParetoPoint]:
        """The points of `line`, smallest file first."""
        return sorted((p for p in self.points if p.line == line), key=lambda p: p.int8_bytes)

    def front(self, line: str) -> list[ParetoPoint]:
        """The points of `line` that no smaller file of that line beats in accuracy."""
        front, best = [], -1.0
        for point in self.line(line):
            if point.int8_accuracy > best:
                front.append(point)
                best = point.int8_accuracy
        return front

    def best_within(self, kb: float, line: str) -> ParetoPoint | None:
        """The most accurate point of `line` whose int8 file is at most `kb` KB."""
        fitting = [p for p in self.line(line) if p.int8_bytes <= kb * 1000]
        return max(fitting, key=lambda p: p.int8_accuracy, default=None)

    def lines(self) -> list[str]:
        """The lines that have points, in `LINES` order."""
        return [line for line in LINES if any(p.line == line for p in self.points)]

    def budget_rows(self, budgets_kb: Sequence[float] = BUDGETS_KB) -> list[dict]:
        """Per budget, the best point of each line that fits it (or `None`)."""
        return [
            {"budget_kb": kb, **{line: self.best_within(kb, line) for line in self.lines()}}
            for kb in budgets_kb
        ]

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "data_source": self.data_source,
            "test_samples": self.test_samples,
            "points": [p.to_dict() for p in self.points],
            "budgets": [
                {
                    "budget_kb": row["budget_kb"],
                    **{line: (row[line].to_dict() if row[line] else None) for line in self.lines()},
                }
                for row in self.budget_rows()
            ],
        }

    def table(self) -> str:
        """Every point as a text table, each line smallest first."""
        header = ["line", "model", "params", "int8 bytes", "int8 acc", "keras acc", "train s"]
        budgets = any(p.budget_held is not None for p in self.points)
        rows = [
            [
                p.line,
                p.model,
                f"{p.params:,}",
                f"{p.int8_bytes:,}",
                f"{p.int8_accuracy:.4f}",
                f"{p.keras_accuracy:.4f}",
                f"{p.train_seconds:.0f}",
                *([p.budget()] if budgets else []),
            ]
            for line in self.lines()
            for p in self.line(line)
        ]
        return text_table([*header, *(["budget (val)"] if budgets else [])], rows)

    def to_markdown(self) -> str:
        """The budget table, then every point: what `pareto.md` holds."""

        def cell(point):
            if point is None:
                return "none fits"
            return f"{point.int8_accuracy:.4f} ({point.model}, {point.int8_bytes / 1000:.1f} KB)"

        lines = self.lines()
        budget_rows = [
            [f"<= {row['budget_kb']} KB", *(cell(row[line]) for line in lines)]
            for row in self.budget_rows()
        ]
        text = [
            f"# Accuracy vs size: {self.scenario}",
            "",
            f"Full-integer int8 TFLite scored on LiteRT over {self.test_samples:,} test "
            f"samples ({self.data_source}).",
            "",
            *markdown_table(["int8 budget", *lines], budget_rows),
            "",
            "```",
            self.table(),
            "```",
            "",
        ]
        return "\n".join(text)


def plain_path_cnn(input_shape, num_classes: int, filters=(32, 64), *, input_max=255.0):
    """keras.io's "Simple MNIST convnet", with its pixel scaling moved into the model.

    Conv2D(f1, 3, relu) -> MaxPooling -> Conv2D(f2, 3, relu) -> MaxPooling -> Flatten ->
    Dropout(0.5) -> Dense(softmax): what a user writes without kerasopt.

    Example:

    >>> plain_path_cnn((28, 28), 10).count_params()
    34826
    """
    import keras

    layers = keras.layers
    input_shape = check_image_shape("plain_path_cnn", input_shape, num_classes)
    inputs, x = image_inputs(input_shape, input_max)
    for width in filters:
        x = layers.Conv2D(int(width), 3, activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=f"plain_cnn_{'_'.join(map(str, filters))}")


#: The small-model recipe's peak rate, Adam's (the scenario's SGD peaks at 0.1).
SMALL_MODEL_LEARNING_RATE = 3e-3


def small_model_recipe(config):
    """The scenario's recipe `config` for a model of a few thousand weights.

    Such a model underfits: augmentation and label smoothing regularize what needs no
    regularization, and it gains from more updates per epoch. So the optimizer is Adam
    at a peak of 3e-3 (no weight decay), the batch 32, augmentation and label smoothing
    are off; the schedule, the epochs and the seed stay the recipe's. Measured on
    Fashion-MNIST with keras.io's CNN at 8x16 filters (5,258 weights, 15 epochs, seed 0,
    int8 on LiteRT over the 10k test images): keras.io's own training 0.8676; Adam 3e-3
    with warmup and cosine decay at batch 128 0.8761, at batch 32 0.8874; the same with
    label smoothing 0.1 0.8784; a constant 1e-3 at batch 32 0.8751. The residual CNN at
    widths (4, 8, 16) (12,830 weights): 0.8999 with the scenario's recipe, 0.9117 with
    this one.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> small_model_recipe(get_scenario("fashion_mnist").train).batch_size
    32
    """
    return config.replace(
        optimizer="adam",
        optimizer_kwargs={},
        learning_rate=SMALL_MODEL_LEARNING_RATE,
        batch_size=32,
        augment=None,
        label_smoothing=0.0,
    )


def run_pareto_bench(
    scenario: str | Scenario = "fashion_mnist",
    *,
    data_path: str | os.PathLike | None = None,
    widths: Sequence[int] = RESIDUAL_WIDTHS,
    plain_filters: Sequence[Sequence[int]] = PLAIN_PATH_FILTERS,
    recipe_widths: Sequence[int] = RECIPE_WIDTHS,
    recipe_filters: Sequence[Sequence[int]] = RECIPE_FILTERS,
    epochs: int | None = None,
    train_samples: int | None = None,
    channels: Sequence[float] = (),
    allocate: bool = False,
    fine_tune_epochs: int | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    verbose: int | str = "auto",
) -> ParetoReport:
    """Trains, converts to int8 and scores every point; writes `pareto.*` to `out_dir`.

    Args:
        scenario: A registered image scenario (or its name): its data, recipe and the
            residual CNN's settings. Defaults to `"fashion_mnist"`.
        data_path: `--data` for the scenario's loader. Defaults to `None`.
        widths: Stem widths of the residual CNNs (`widths=(w, 2w, 4w)`).
        plain_filters: The peer CNN's two filter counts, one pair per point.
        recipe_widths: Stem widths of residual CNNs to train with `small_model_recipe`,
            one point each on the `"kerasopt, small-model recipe"` line. Defaults to
            `(4, 8)`.
        recipe_filters: The peer CNN's filter counts to train with `small_model_recipe`,
            on the same line. Defaults to `((8, 16),)`.
        epochs: Epochs of every model; `None` takes the scenario's. Defaults to `None`.
        train_samples: Train on a stratified `n` of the training samples (a smoke run),
            or `None` for all. Defaults to `None`.
        channels: Fractions of channels `compress_model` removes from the widest
            residual CNN, one point each on the `"kerasopt, channels pruned"` line, with
            its defaults (fine-tuning within a 1-point validation budget). Defaults to
            `()`.
        allocate: Split each fraction across layers by measured sensitivity
            (`compress_model(allocate=True)`) instead of uniformly. Defaults to `False`.
        fine_tune_epochs: Exactly this many fine-tuning epochs per compressed point, or
            `None` for `compress_model`'s budget (sized to the data). Defaults to `None`.
        seed: Seed of weights, shuffling and augmentation. Defaults to `0`.
        out_dir: Where `pareto.json`, `pareto.md` and `pareto.png` go, or `None`.
        verbose: Keras verbosity of each fit. Defaults to `"auto"`.

    Returns:
        A `ParetoReport`.
    """
    import keras

    scenario = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if "residual" not in scenario.models:
        raise invalid_value(
            "run_pareto_bench",
            "an image scenario with a 'residual' model",
            f"scenario={scenario.name!r} (models {list(scenario.models)})",
            "Use scenario='fashion_mnist', or register one whose models include 'residual'.",
        )
    if not (widths or plain_filters or recipe_widths or recipe_filters):
        raise invalid_value(
            "run_pareto_bench", "at least one width or plain-path filter pair", "none", ""
        )
    for name, values in (("widths", widths), ("recipe_widths", recipe_widths)):
        for width in values:
            check_positive_int("run_pareto_bench", f"{name}[i]", width)
    for fraction in channels:
        check_fraction("run_pareto_bench", "channels[i]", fraction, closed="neither")
    if fine_tune_epochs is not None:
        check_positive_int("run_pareto_bench", "fine_tune_epochs", fine_tune_epochs)
    if channels and not widths:
        raise invalid_value(
            "run_pareto_bench",
            "a residual width to compress",
            f"channels={tuple(channels)} with widths=()",
            "Pass widths=(16,) (the model compressed is the widest one).",
        )
    config = scenario.train_config(model="residual", epochs=epochs, seed=seed)
    # Validation held out: the compressed points' accuracy budget is measured on it, and
    # the front was measured so.
    config = config.replace(checkpoint=False, train_on_validation=False)
    data = scenario.load_data(data_path, seed=seed)
    splits = data.splits
    if train_samples is not None:
        splits = splits.subsample_train(train_samples, seed=seed)
    settings = dict(scenario.build_model.settings["residual"])
    points, widest = [], None
    runs = [(KERASOPT_LINE, width, config) for width in widths]
    runs += [(RECIPE_LINE, width, small_model_recipe(config)) for width in recipe_widths]
    for line, width, line_config in runs:
        stages = len(settings.get("widths", (0, 0, 0))) - 1
        model_widths = tuple(int(width) * 2**stage for stage in range(stages + 1))
        keras.utils.set_random_seed(seed)
        model = build_residual_cnn(
            splits.input_shape,
            splits.num_classes,
            **{**settings, "widths": model_widths},
            name=f"{scenario.name}_residual_{width}",
        )
        result = train(model, splits, line_config, verbose=verbose)
        label = f"residual {model_widths}"
        points.append(_score(line, label, model, splits, result.seconds, line_config))
        logger.info("%s", points[-1])
        if line == KERASOPT_LINE and (widest is None or width > widest[0]):
            widest = (width, label, model)
    for fraction in channels:
        points.append(
            _compress(
                widest[1],
                widest[2],
                splits,
                float(fraction),
                allocate=allocate,
                epochs=fine_tune_epochs,
                seed=seed,
                verbose=verbose,
            )
        )
        logger.info("%s", points[-1])
    plain_config = config.replace(
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        augment=None,
        label_smoothing=0.0,
        batch_size=128,
        early_stopping_patience=None,
        optimizer_kwargs={},
    )
    input_max = float(scenario.input_range[1]) if scenario.input_range else 255.0
    runs = [(PLAIN_LINE, filters, plain_config) for filters in plain_filters]
    runs += [(RECIPE_LINE, filters, small_model_recipe(config)) for filters in recipe_filters]
    for line, filters, line_config in runs:
        keras.utils.set_random_seed(seed)
        model = plain_path_cnn(
            splits.input_shape, splits.num_classes, tuple(filters), input_max=input_max
        )
        result = train(model, splits, line_config, verbose=verbose)
        label = f"keras.io CNN {tuple(int(f) for f in filters)}"
        points.append(_score(line, label, model, splits, result.seconds, line_config))
        logger.info("%s", points[-1])
    report = ParetoReport(
        scenario=scenario.name,
        data_source=str(splits.split.get("source", "")),
        test_samples=len(splits.y_test),
        points=tuple(points),
    )
    if out_dir is not None:
        write_pareto_report(report, out_dir)
    return report


def _score(line, label, model, splits, seconds, config) -> ParetoPoint:
    started = time.perf_counter()
    measured = measure_int8(
        model,
        splits.x_train,
        splits.x_test,
        splits.y_test,
        seed=config.seed,
        batch_size=512,
        latency_runs=20,
    )
    metrics, keras_accuracy = measured.tflite, measured.keras_accuracy
    logger.info("%s converted and scored in %.0f s", label, time.perf_counter() - started)
    return ParetoPoint(
        line=line,
        model=label,
        params=int(model.count_params()),
        macs=count_macs(model),
        int8_bytes=int(metrics.bytes),
        int8_accuracy=float(metrics.accuracy),
        keras_accuracy=keras_accuracy,
        train_seconds=float(seconds),
        epochs=int(config.epochs),
    )


def _compress(label, model, splits, fraction, *, allocate, epochs, seed, verbose) -> ParetoPoint:
    report = compress_model(
        model,
        splits,
        channels=fraction,
        allocate=allocate,
        epochs=epochs,
        max_epochs=epochs,
        seed=seed,
        verbose=1 if verbose == "auto" else int(verbose),
    )
    stage = report.stages[-1]
    tuning = stage.fine_tuning
    return ParetoPoint(
        line=COMPRESSED_LINE,
        model=f"{label} {stage.name}",
        params=int(stage.params),
        macs=count_macs(report.model),
        int8_bytes=int(stage.tflite.bytes),
        int8_accuracy=float(stage.tflite.accuracy),
        keras_accuracy=float(stage.keras_accuracy),
        train_seconds=float(tuning.seconds if tuning else 0.0),
        epochs=int(tuning.epochs if tuning else 0),
        budget_held=None if report.budget is None else bool(report.budget.held),
        val_drop=None if report.budget is None else float(report.budget.val_drop),
    )


def write_pareto_report(report: ParetoReport, out_dir: str | os.PathLike) -> Path:
    """Writes `pareto.json`, `pareto.md` and `pareto.png` atomically; returns the folder."""
    from kerasopt.analysis import plot_pareto_front

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "pareto.json", json.dumps(report.to_dict(), indent=2) + "\n")
    write_text_atomic(out / "pareto.md", report.to_markdown())
    plot_pareto_front(
        {line: report.line(line) for line in report.lines()},
        out / "pareto.png",
        title=f"{report.scenario}: int8 TFLite on LiteRT, {report.test_samples:,} test samples",
    )
    return out
