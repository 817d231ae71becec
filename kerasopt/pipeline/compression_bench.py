"""`run_compression_bench`: compression with the defaults on models kerasopt did not write.

Each model of `kerasopt.models.user_shaped` is trained the way a user would (Adam,
`fit`), then compressed by `compress_model` in each case (80 % unstructured sparsity,
half the channels, uniform or split by sensitivity, 2:4, and distillation against no
distillation at equal fine-tuning epochs), over several seeds. Every row is the int8 file
on LiteRT against the dense model's int8 file, on the test split, with the fine-tuning
epochs and seconds spent.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from kerasopt.compress import compress_model
from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.errors import KerasoptError
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import invalid_value
from kerasopt.data import DatasetSplits
from kerasopt.models.user_shaped import USER_SHAPED_MODELS, build_user_shaped
from kerasopt.pipeline.run_report import package_versions, tensorflow_threads
from kerasopt.training.fit_state import build_fit_state

#: Case name -> `compress_model` arguments. `fixed` cases run exactly `epochs` (no budget),
#: so distillation is compared at equal fine-tuning epochs.
CASES = {
    "prune 80%": {"prune": 0.8},
    "prune 80%, distill": {"prune": 0.8, "distill": True},
    "channels 50%": {"channels": 0.5},
    "channels 50%, distill": {"channels": 0.5, "distill": True},
    "channels 50%, allocated": {"channels": 0.5, "allocate": True},
    "2:4": {"prune": 0.5, "structure": "2:4"},
    "prune 80%, 4 ep fixed": {"prune": 0.8, "max_drop": None, "epochs": 4},
    "prune 80%, 4 ep fixed, distill": {
        "prune": 0.8,
        "max_drop": None,
        "epochs": 4,
        "distill": True,
    },
}
#: The issue's targets: points a case may lose (int8, test) with the defaults.
TARGET_DROPS = {
    "prune 80%": 1.0,
    "prune 80%, distill": 1.0,
    "channels 50%": 1.5,
    "channels 50%, distill": 1.5,
    "channels 50%, allocated": 1.5,
    "2:4": 1.0,
}
SCHEMA_VERSION = 1
logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CompressionRow:
    """One model, seed and case: what compression cost and what it gave."""

    model: str
    seed: int
    case: str
    dense_int8_accuracy: float
    int8_accuracy: float
    drop_points: float
    val_drop_points: float
    budget_held: bool | None
    finetune_epochs: int
    finetune_seconds: float
    dense_bytes: int
    int8_bytes: int
    gzip_ratio: float
    error: str | None = None
    learning_rate: float | None = None


def run_compression_bench(
    data: DatasetSplits,
    *,
    models: Sequence[str] = tuple(USER_SHAPED_MODELS),
    cases: Sequence[str] = tuple(CASES),
    seeds: Sequence[int] = (0, 1, 2),
    train_epochs: int = 30,
    input_max: float = 255.0,
    verbose: int = 0,
) -> list[CompressionRow]:
    """Trains each zoo model per seed and compresses it in each case; one row per case.

    A case that `compress_model` refuses (a `KerasoptError`, e.g. a layer channel pruning
    cannot follow) is a row with `error` set, not a crash: the refusal is a result.

    Args:
        data: The splits (the offline default is `load_dataset("digits")`).
        models: Names in `USER_SHAPED_MODELS`. Defaults to all.
        cases: Names in `CASES`. Defaults to all.
        seeds: Seeds; each trains its own dense model. Defaults to `(0, 1, 2)`.
        train_epochs: Epochs of the dense training (Adam 1e-3, batch 32). Defaults to `30`.
        input_max: The largest raw input value (16 for digits). Defaults to `255.0`.
        verbose: Keras verbosity. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> rows = run_compression_bench(load_dataset("digits"), input_max=16)  # doctest: +SKIP
    """
    for name in models:
        if name not in USER_SHAPED_MODELS:
            known = sorted(USER_SHAPED_MODELS)
            raise invalid_value(
                "run_compression_bench", f"models among {known}", repr(name), "Drop it."
            )
    for case in cases:
        if case not in CASES:
            raise invalid_value(
                "run_compression_bench", f"cases among {list(CASES)}", repr(case), "Drop it."
            )
    rows = []
    for name in models:
        for seed in seeds:
            dense = _train_dense(name, data, seed, train_epochs, input_max, verbose)
            for case in cases:
                logger.info("compress %s seed %d: %s", name, seed, case)
                rows.append(_compress_case(dense, data, name, seed, case, verbose))
    return rows


def _train_dense(name, data, seed, epochs, input_max, verbose):
    keras.utils.set_random_seed(seed)
    model = build_user_shaped(
        name, data.input_shape, data.num_classes, input_max=input_max, adapt_data=data.x_train
    )
    model.compile(
        keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    build_fit_state(model, (data.x_train, data.y_train))
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=32,
        epochs=epochs,
        validation_data=(data.x_val, data.y_val),
        verbose=verbose,
    )
    return model


def _compress_case(dense, data, name, seed, case, verbose) -> CompressionRow:
    arguments = {"seed": seed, "verbose": verbose, **CASES[case]}
    try:
        report = compress_model(dense, data, **arguments)
    except KerasoptError as error:
        first_line = str(error).splitlines()[0]
        nan = float("nan")
        return CompressionRow(
            name, seed, case, nan, nan, nan, nan, None, 0, 0.0, 0, 0, nan, first_line
        )
    first, last = report.stages[0], report.stages[-1]
    tuning = last.fine_tuning
    return CompressionRow(
        model=name,
        seed=seed,
        case=case,
        dense_int8_accuracy=first.tflite.accuracy,
        int8_accuracy=last.tflite.accuracy,
        drop_points=(first.tflite.accuracy - last.tflite.accuracy) * 100,
        val_drop_points=(first.val_accuracy - last.val_accuracy) * 100,
        budget_held=None if report.budget is None else report.budget.held,
        finetune_epochs=0 if tuning is None else tuning.epochs,
        finetune_seconds=0.0 if tuning is None else tuning.seconds,
        dense_bytes=first.tflite.bytes,
        int8_bytes=last.tflite.bytes,
        gzip_ratio=last.tflite.gzip_bytes / first.tflite.gzip_bytes,
        learning_rate=None if tuning is None else tuning.learning_rate,
    )


def summarize(rows: Sequence[CompressionRow]) -> list[dict]:
    """Per model and case: mean and worst drop over seeds, budgets held, epochs, seconds."""
    groups: dict[tuple[str, str], list[CompressionRow]] = {}
    for row in rows:
        groups.setdefault((row.model, row.case), []).append(row)
    summary = []
    for (model, case), group in groups.items():
        done = [r for r in group if r.error is None]
        drops = [r.drop_points for r in done]
        held = [r.budget_held for r in done if r.budget_held is not None]
        target = TARGET_DROPS.get(case)
        mean = _mean_or_none
        summary.append(
            {
                "model": model,
                "case": case,
                "seeds": len(group),
                "mean_drop": float(np.mean(drops)) if drops else None,
                "worst_drop": float(np.max(drops)) if drops else None,
                "held": f"{sum(held)}/{len(held)}" if held else "-",
                "target": target,
                "meets_target": None if target is None or not drops else max(drops) <= target,
                "mean_epochs": mean([r.finetune_epochs for r in done]),
                "mean_seconds": mean([r.finetune_seconds for r in done]),
                "gzip_ratio": mean([r.gzip_ratio for r in done]),
                "rates_kept": _rates_kept(done),
                "error": next((r.error for r in group if r.error), None),
            }
        )
    return summary


def _mean_or_none(values):
    return float(np.mean(values)) if values else None


def _rates_kept(rows) -> str:
    """How often each fine-tuning rate was kept, e.g. `"0.01 x2, 0.001"`."""
    counts: dict[float, int] = {}
    for row in rows:
        if row.learning_rate is not None:
            counts[row.learning_rate] = counts.get(row.learning_rate, 0) + 1
    parts = [f"{rate:g}" + (f" x{n}" if n > 1 else "") for rate, n in sorted(counts.items())]
    return ", ".join(parts) or "-"


_HEADER = [
    "model",
    "case",
    "mean drop",
    "worst drop",
    "held",
    "target",
    "ft ep",
    "ft s",
    "rate kept",
    "gzip",
]


def _summary_rows(summary: list[dict]) -> list[list[str]]:
    def number(value, spec):
        return "-" if value is None else format(value, spec)

    rows = []
    for row in summary:
        if row["mean_drop"] is None:
            rows.append(
                [row["model"], row["case"], "refused", "", "", "", "", "", "", row["error"]]
            )
            continue
        target = "-" if row["target"] is None else f"<= {row['target']:g}: "
        if row["meets_target"] is not None:
            target += "met" if row["meets_target"] else "MISSED"
        rows.append(
            [
                row["model"],
                row["case"],
                number(row["mean_drop"], "+.2f"),
                number(row["worst_drop"], "+.2f"),
                row["held"],
                target,
                number(row["mean_epochs"], ".1f"),
                number(row["mean_seconds"], ".1f"),
                row["rates_kept"],
                number(row["gzip_ratio"], ".2f"),
            ]
        )
    return rows


def format_summary(summary: list[dict]) -> str:
    """The summary as aligned text: drops in points (int8 on LiteRT, test split)."""
    return text_table(_HEADER, _summary_rows(summary))


def write_compression_bench(
    rows: Sequence[CompressionRow], out: str | os.PathLike, settings: dict
) -> Path:
    """Writes `compress_bench.json` (every row) and `compress_bench.md`; returns the folder."""
    out = Path(out)
    summary = summarize(rows)
    payload = {
        "schema_version": SCHEMA_VERSION,
        "settings": settings,
        # The numbers depend on these, the thread counts included (README).
        "environment": {"versions": package_versions(), "threads": tensorflow_threads()},
        "rows": [dataclasses.asdict(r) for r in rows],
        "summary": summary,
        "written": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_text_atomic(out / "compress_bench.json", json.dumps(payload, indent=2, default=str))
    lines = [
        "# kerasopt bench compress",
        "",
        "Drop = dense int8 accuracy minus compressed int8 accuracy on LiteRT, test split, in "
        "points (mean and worst over seeds). held = seeds whose validation budget held.",
        "",
        *markdown_table(_HEADER, _summary_rows(summary)),
        "",
    ]
    write_text_atomic(out / "compress_bench.md", "\n".join(lines))
    return out
