"""`SearchReport`: what a search did, as `run_search`, the scikit-learn engine and a
chain of processes all return it, and as `search.json` holds it."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from pathlib import Path

from kerasopt.core.atomic import write_text_atomic
from kerasopt.export import DeploymentMetrics
from kerasopt.tuning.search_results import summary_table

#: Version of the `search.json` layout; raised when a key changes meaning or goes away.
SCHEMA_VERSION = 1
REPORT_FILE = "search.json"
TRIALS_FILE = "trials.csv"


@dataclasses.dataclass(frozen=True)
class RunTiming:
    """What this run (one process, or a chain of them) did: `this_run` in `search.json`.

    Attributes:
        trials: Trials this run finished (a resumed search's earlier trials are not).
        wall_seconds: Wall time of the search, without retraining the winner.
        fit_seconds: Time inside `fit`, summed over those trials (`None` where this
            process does not see the trials' metrics: a worker, a link of a chain).
        outside_fit_fraction: `1 - fit_seconds / wall_seconds`: the search's overhead.
        processes: Child processes of a `trials_per_process` chain, else `None`.
        trials_per_process: The chain's trials per process, else `None`.
    """

    trials: int
    wall_seconds: float
    fit_seconds: float | None
    outside_fit_fraction: float | None
    processes: int | None = None
    trials_per_process: int | None = None

    @classmethod
    def of(cls, rows: list[dict], wall_seconds: float, **chain) -> RunTiming:
        """The timing of the trial `rows` this run finished in `wall_seconds`."""
        fit_seconds = sum(float(row["fit_seconds"] or 0) for row in rows)
        fraction = 1.0 - fit_seconds / wall_seconds if wall_seconds and rows else None
        return cls(len(rows), wall_seconds, fit_seconds, fraction, **chain)


@dataclasses.dataclass(frozen=True)
class BestTrial:
    """The best trial, and its model measured on the test split.

    Attributes:
        trial_id: Its id in `trials.csv`.
        objective: Its objective (cross-validated accuracy for the scikit-learn engine).
        hyperparameters: Its searched values.
        test_accuracy: The saved model's Keras accuracy on the test split.
        int8: Its int8 TFLite export measured on LiteRT on the test split, for searches
            with a deployment objective or budget.
        final_epochs: Epochs of the retraining (`[search] final_epochs`), if any.
        final_val_accuracy: Validation accuracy of that retraining.
        final_fit_seconds: Its seconds.
    """

    trial_id: str
    objective: float
    hyperparameters: dict
    test_accuracy: float | None = None
    int8: DeploymentMetrics | None = None
    final_epochs: int | None = None
    final_val_accuracy: float | None = None
    final_fit_seconds: float | None = None

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self) | {"int8": self.int8 and self.int8.to_dict()}
        return values

    @classmethod
    def from_dict(cls, values: dict) -> BestTrial:
        int8 = values.get("int8")
        return cls(**{**values, "int8": DeploymentMetrics(**int8) if int8 else None})


@dataclasses.dataclass(frozen=True)
class SearchReport:
    """What a search did: counts, timings, the best trial, and where its files are.

    `run_search`, `sklearn_grid_search`, `SearchJob.run` and a chain of processes all
    return one; `search.json` is its `to_dict()`. A worker's report, and that of a
    process that ran its share of trials (`finished=False`), cover that process only.

    Attributes:
        spec: The spec's name.
        engine: `"keras-tuner"` or `"sklearn"`.
        out: The output folder.
        tuner: `random`, `grid`, `bayesian` or `hyperband`.
        objective: What trials are ranked by (`cv_accuracy` for the scikit-learn engine).
        direction: `"max"` or `"min"`.
        hyperparameters: Names of the searched hyperparameters.
        trials, completed, failed, stopped_by_median_rule: Trial counts.
        this_run: A `RunTiming`.
        best: A `BestTrial`, or `None` when no trial completed.
        rss_mb: Resident memory after each trial's fit.
        workers: For a distributed search, the trial ids each worker ran.
        cv: Folds of the scikit-learn engine.
        finished: `False` for a process that stopped after its share of trials.
        tuner_id: A worker's name.
        trials_run: Ids of the trials this process ran.
        rows: One dict per trial, as in `trials.csv` (not part of `to_dict()`).

    Example:

    >>> from kerasopt.tuning import SearchJob
    >>> report = SearchJob("digits_dense", out="runs/grid").run()  # doctest: +SKIP
    >>> print(report.summary_text())  # doctest: +SKIP
    """

    spec: str
    engine: str
    out: str
    tuner: str
    objective: str
    direction: str
    hyperparameters: tuple[str, ...] = ()
    trials: int = 0
    completed: int = 0
    failed: int = 0
    stopped_by_median_rule: int = 0
    this_run: RunTiming | None = None
    best: BestTrial | None = None
    rss_mb: tuple[float, ...] = ()
    workers: dict | None = None
    cv: int | None = None
    finished: bool = True
    tuner_id: str | None = None
    trials_run: tuple[str, ...] = ()
    rows: tuple[dict, ...] = dataclasses.field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        """The JSON form (`search.json`), with `schema_version` first."""
        values = {"schema_version": SCHEMA_VERSION}
        for field in dataclasses.fields(self):
            if field.name != "rows":
                values[field.name] = getattr(self, field.name)
        values["this_run"] = self.this_run and dataclasses.asdict(self.this_run)
        values["best"] = self.best and self.best.to_dict()
        return values

    @classmethod
    def from_dict(cls, values: dict, rows=()) -> SearchReport:
        """The report `to_dict()` wrote; `rows` are the trials, when at hand."""
        values = {k: v for k, v in values.items() if k != "schema_version"}
        timing, best = values.get("this_run"), values.get("best")
        return cls(
            **{
                **values,
                "hyperparameters": tuple(values.get("hyperparameters", ())),
                "rss_mb": tuple(values.get("rss_mb", ())),
                "trials_run": tuple(values.get("trials_run", ())),
                "this_run": RunTiming(**timing) if timing else None,
                "best": BestTrial.from_dict(best) if best else None,
            },
            rows=tuple(rows),
        )

    def write(self) -> Path:
        """Writes `search.json` to `out`; its path."""
        path = Path(self.out) / REPORT_FILE
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    @classmethod
    def read(cls, out: str | os.PathLike) -> SearchReport:
        """The report of the search in `out`, its trials read back from `trials.csv`."""
        out = Path(out)
        with open(out / TRIALS_FILE, newline="") as f:
            rows = list(csv.DictReader(f))
        return cls.from_dict(json.loads((out / REPORT_FILE).read_text()), rows)

    def files(self) -> list[str]:
        """The files the search wrote to `out`."""
        if not self.finished or (self.tuner_id and self.tuner_id != "chief"):
            return []
        names = [TRIALS_FILE, "objective.png", REPORT_FILE]
        if self.best is not None:
            names[1:1] = ["best_hyperparameters.json", "best_model.keras"]
        return [name for name in names if (Path(self.out) / name).exists()]

    def summary_text(self, top: int | None = None) -> str:
        """What the CLI prints: the best trials, the counts, the winner, the files.

        Args:
            top: Trials in the table. Defaults to `None`: 5, or every combination of
                the scikit-learn engine.
        """
        run = self.this_run
        if self.tuner_id and self.tuner_id != "chief":
            return (
                f"Worker {self.tuner_id} ran {len(self.trials_run)} trials in "
                f"{run.wall_seconds:.0f} s; the chief writes the results to {self.out}/."
            )
        if not self.finished:
            return f"Ran {len(self.trials_run)} trials; the search goes on from {self.out}/."
        if top is None:
            top = len(self.rows) if self.engine == "sklearn" else 5
        lines = [
            summary_table(
                list(self.rows),
                names=self.hyperparameters,
                objective=self.objective,
                direction=self.direction,
                top=top,
            )
        ]
        if self.best is not None:
            lines.append(self._best_line())
        if run is not None and run.processes:
            lines.append(
                f"{run.trials} trials in {run.processes} processes of at most "
                f"{run.trials_per_process} trials, {run.wall_seconds:.0f} s; time outside "
                f"fit {run.outside_fit_fraction or 0:.0%}."
            )
        lines.append(f"Wrote {', '.join(self.files())} to {self.out}/")
        return "\n".join(lines)

    def _best_line(self) -> str:
        best = self.best
        if self.engine == "sklearn":
            return (
                f"Best: {best.hyperparameters}, cross-validated accuracy {best.objective:.4f}, "
                f"test accuracy {best.test_accuracy:.4f} (refit on train + validation)."
            )
        line = f"Best trial {best.trial_id}: {best.hyperparameters}"
        if best.test_accuracy is not None:
            line += f"; test accuracy {best.test_accuracy:.4f}"
        if best.int8 is not None:
            line += f", int8 TFLite {best.int8.accuracy:.4f} ({best.int8.kilobytes:.1f} KB)"
        return line
