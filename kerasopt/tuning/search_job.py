"""`SearchJob`: one `kerasopt tune` invocation as data, run in this process or a child.

The CLI builds a `SearchJob` from its flags and calls `run()`; a chain of processes
(`trials_per_process`) hands each child the same job as JSON
(`python -m kerasopt.tuning JOB.json`), so no library code calls the CLI.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from kerasopt.core.errors import InvalidValueError
from kerasopt.core.suggestions import unknown_name_message
from kerasopt.core.validation import check_positive_int
from kerasopt.tuning.process_recycling import run_in_fresh_processes
from kerasopt.tuning.search_report import SearchReport
from kerasopt.tuning.search_runner import distributed_environment, run_search
from kerasopt.tuning.search_spec import load_search_spec
from kerasopt.tuning.sklearn_search import sklearn_grid_search

ENGINES = ("keras-tuner", "sklearn")
DEFAULT_OUT = Path("saved_models")


@dataclasses.dataclass(frozen=True)
class SearchJob:
    """Everything one search run needs: the spec, the folder, the engine and the mode.

    Args:
        spec: The spec's path, or the name of a bundled one (`"digits"`).
        out: Output folder. Defaults to `None`: `saved_models/tune_<spec name>/`.
        max_trials: Override the spec's `max_trials`. Defaults to `None`.
        overwrite: Start afresh instead of resuming. Defaults to `False`.
        engine: `"keras-tuner"` or `"sklearn"` (`GridSearchCV`). Defaults to
            `"keras-tuner"`.
        data_path: A local file for the spec's scenario (`--data`). Defaults to `None`.
        distributed: `"chief"` or `"worker"`. Defaults to `None`.
        oracle: The chief's `HOST:PORT`. Defaults to `None`.
        tuner_id: A worker's unique name. Defaults to `None`.
        tensorboard: TensorBoard logs with HParams in `out`. Defaults to `False`.
        trials_per_process: Run the search in child processes of this many trials, so
            memory stays flat. Defaults to `None` (this process).
        stop_after: Stop this process after this many trials (what each child of a
            chain runs). Defaults to `None`.
        verbose: Progress display of keras-tuner / `GridSearchCV` (0 = none).
            Defaults to `1`.

    Example:

    >>> from kerasopt.tuning import SearchJob
    >>> report = SearchJob("digits_dense", out="runs/dense", max_trials=2).run()  # doctest: +SKIP
    >>> print(report.summary_text())  # doctest: +SKIP
    """

    spec: str
    out: str | None = None
    max_trials: int | None = None
    overwrite: bool = False
    engine: str = "keras-tuner"
    data_path: str | None = None
    distributed: str | None = None
    oracle: str | None = None
    tuner_id: str | None = None
    tensorboard: bool = False
    trials_per_process: int | None = None
    stop_after: int | None = None
    verbose: int = 1

    def __post_init__(self):
        for name in ("spec", "out", "data_path"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))

    def check(self) -> None:
        """Raises for a combination that cannot run, naming the values and the fix."""
        if self.engine not in ENGINES:
            raise InvalidValueError(unknown_name_message("search engine", self.engine, ENGINES))
        for name in ("max_trials", "trials_per_process", "stop_after"):
            if getattr(self, name) is not None:
                check_positive_int("SearchJob", name, getattr(self, name))
        if self.engine == "sklearn":
            if self.distributed or self.tensorboard:
                raise InvalidValueError(
                    "--distributed and --tensorboard need --engine keras-tuner. Received: "
                    f"engine='sklearn', distributed={self.distributed!r}, "
                    f"tensorboard={self.tensorboard!r}."
                )
            if self.trials_per_process:
                raise InvalidValueError(
                    "--trials-per-process needs --engine keras-tuner (GridSearchCV runs in "
                    f"one process). Received: trials_per_process={self.trials_per_process}."
                )
            return
        if self.trials_per_process:
            if self.distributed:
                raise InvalidValueError(
                    "--trials-per-process runs a local search; drop --distributed. Received: "
                    f"distributed={self.distributed!r}."
                )
            if self.stop_after:
                raise InvalidValueError(
                    "stop_after is what each child of a trials_per_process chain runs; set "
                    f"one of them. Received: stop_after={self.stop_after}, "
                    f"trials_per_process={self.trials_per_process}."
                )
        distributed_environment(self.distributed, self.oracle, self.tuner_id)

    def out_dir(self, spec_name: str) -> Path:
        """`out`, or `saved_models/tune_<spec_name>/` without one."""
        return Path(self.out) if self.out else DEFAULT_OUT / f"tune_{spec_name}"

    def run(self) -> SearchReport:
        """Checks the job and runs it; the `SearchReport` (`finished=False` for a process
        that stopped after `stop_after` trials with trials left)."""
        self.check()
        spec = load_search_spec(self.spec)
        out = self.out_dir(spec.name)
        if self.engine == "sklearn":
            return sklearn_grid_search(
                spec.with_max_trials(self.max_trials),
                out,
                data_path=self.data_path,
                verbose=self.verbose,
            )
        if self.trials_per_process:
            return run_in_fresh_processes(dataclasses.replace(self, out=str(out)))
        return run_search(
            spec,
            out,
            max_trials=self.max_trials,
            overwrite=self.overwrite,
            distributed=self.distributed,
            oracle_address=self.oracle,
            tuner_id=self.tuner_id,
            tensorboard=self.tensorboard,
            data_path=self.data_path,
            verbose=self.verbose,
            stop_after=self.stop_after,
        )

    def to_json(self) -> str:
        """The job as JSON, for a child process (`from_json` reads it back)."""
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SearchJob:
        """The job `to_json` wrote; an unknown field raises with the valid ones."""
        values = json.loads(text)
        fields = [field.name for field in dataclasses.fields(cls)]
        for key in values:
            if key not in fields:
                raise InvalidValueError(unknown_name_message("SearchJob field", key, fields))
        return cls(**values)
