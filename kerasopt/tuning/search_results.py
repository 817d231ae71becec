"""`trial_rows`: one row per trial, and the files a search leaves (CSV, JSON, PNG, table)."""

from __future__ import annotations

import csv
import io
import json
import math
import os

from kerasopt.core.atomic import atomic_path, write_text_atomic
from kerasopt.core.tables import text_table

#: Trial metrics copied into `trials.csv` when a trial has them.
METRIC_COLUMNS = (
    "trial_seconds",
    "fit_seconds",
    "epochs_run",
    "stopped_at_epoch",
    "val_accuracy",
    "tflite_int8_accuracy",
    "int8_kb",
    "latency_us",
    "rss_mb",
)


def failure_reason(message: str | None) -> str:
    """The last line of a failed trial's traceback: the exception and its message."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def trial_rows(trials, spec) -> list[dict]:
    """One dict per trial in start order: id, status, values, objective, timings, reason.

    Example:

    >>> rows = trial_rows(tuner.oracle.trials.values(), spec)  # doctest: +SKIP
    >>> rows[0]["status"]  # doctest: +SKIP
    'COMPLETED'
    """
    names = [hp.name for hp in spec.space]
    rows = []
    for trial in sorted(trials, key=lambda t: t.trial_id):
        values = trial.hyperparameters.values
        row = {"trial_id": trial.trial_id, "status": str(trial.status)}
        row.update({name: values.get(name, "") for name in names})
        if "tuner/epochs" in values:
            row["hyperband_epochs"] = values["tuner/epochs"]
        metrics = trial.metrics
        objective = spec.oracle_objective
        row["objective"] = metrics.get_last_value(objective) if metrics.exists(objective) else ""
        for column in METRIC_COLUMNS:
            row[column] = metrics.get_last_value(column) if metrics.exists(column) else ""
        stopped = row.get("stopped_at_epoch") or 0
        note = f"median rule stopped it at epoch {int(stopped)}" if stopped else ""
        row["failure_reason"] = (
            failure_reason(trial.message) if row["status"] != "COMPLETED" else ""
        )
        row["note"] = note
        rows.append(row)
    return rows


def write_trials_csv(rows: list[dict], path: str | os.PathLike) -> None:
    """Writes `trials.csv` atomically, columns in the order of the first row."""
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())


def write_best_hyperparameters(values: dict, path: str | os.PathLike) -> None:
    """Writes the best trial's values (keras-tuner bookkeeping keys left out) as JSON."""
    clean = {k: v for k, v in values.items() if not k.startswith("tuner/")}
    write_text_atomic(path, json.dumps(clean, indent=2, sort_keys=True) + "\n")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plot_objective(rows: list[dict], spec, path: str | os.PathLike) -> None:
    """The objective of each trial in start order, the best so far, failures marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    done = [(i, _number(r["objective"])) for i, r in enumerate(rows)]
    points = [(i, v) for i, v in done if v is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        stopped = [i for i, r in enumerate(rows) if r.get("note")]
        ax.scatter(xs, ys, s=24, label="trial")
        best, running = [], None
        better = max if spec.direction == "max" else min
        for y in ys:
            running = y if running is None else better(running, y)
            best.append(running)
        ax.step(xs, best, where="post", color="C1", label="best so far")
        stopped_points = [(i, v) for i, v in points if i in stopped]
        if stopped_points:
            sx, sy = zip(*stopped_points, strict=True)
            ax.scatter(sx, sy, s=60, facecolors="none", edgecolors="C2", label="median-stopped")
        failed = [i for i, v in done if v is None]
        if failed:
            low = min(ys)
            ax.scatter(failed, [low] * len(failed), marker="x", color="C3", label="failed")
    ax.set_xlabel("trial (start order)")
    ax.set_ylabel(spec.oracle_objective)
    ax.set_title(f"{spec.name}: {spec.tuner} search, {len(rows)} trials")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def summary_table(rows: list[dict], *, names, objective: str, direction: str, top: int = 5) -> str:
    """The best `top` trials, then one line counting completed, stopped and failed ones.

    Args:
        rows: Trial rows (`trial_rows`, or `trials.csv` read back).
        names: The searched hyperparameters, one column each.
        objective: The objective's name, the ranking column.
        direction: `"max"` or `"min"`.
        top: Trials shown. Defaults to `5`.

    Example:

    >>> rows = trial_rows(tuner.oracle.trials.values(), spec)  # doctest: +SKIP
    >>> table = summary_table(rows, names=["units"], objective="loss", direction="min")
    """
    scored = [r for r in rows if _number(r["objective"]) is not None]
    scored.sort(key=lambda r: _number(r["objective"]), reverse=direction == "max")
    names = list(names)
    header = ["trial", objective, *names, "epochs", "seconds"]
    table_rows = []
    for row in scored[:top]:
        cells = [row["trial_id"], f"{_number(row['objective']):.4f}"]
        cells += [_format(row[name]) for name in names]
        cells += [_format(row["epochs_run"]), _format(row["trial_seconds"])]
        table_rows.append(cells)
    failed = [r for r in rows if r["status"] not in ("COMPLETED", "RUNNING")]
    stopped = [r for r in rows if r.get("note")]
    counts = (
        f"{len(rows)} trials: {len(scored)} completed ({len(stopped)} stopped by the median "
        f"rule), {len(failed)} failed"
    )
    lines = [text_table(header, table_rows), counts]
    for row in failed[:5]:
        lines.append(f"  trial {row['trial_id']} {row['status']}: {row['failure_reason']}")
    return "\n".join(lines)


def _format(value) -> str:
    """A cell: floats (also read back from a CSV) to 4 significant digits."""
    if isinstance(value, str) and value not in ("", "True", "False"):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
