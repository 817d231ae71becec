"""`run_in_fresh_processes`: a search run N trials per child process, so memory stays flat.

Keras 3.15 / TF 2.21 keep ~17 MB per `fit` alive after `clear_session()` and
`gc.collect()` (measured on the digits CNN; a custom `GradientTape` loop with
`optimizer.apply` inside a `tf.function` leaks the same, `evaluate` and `predict` do not;
upstream: keras-team/keras#21090, tensorflow/tensorflow#61791). Only a process exit gives
that memory back. keras-tuner keeps the whole search state on disk, so a search can run in
a chain of child processes, each running a few trials and exiting; the next resumes.

Each child runs the library entry point `python -m kerasopt.tuning JOB.json` on a
`SearchJob` written as JSON; it exits with `RECYCLE_EXIT_CODE` when it ran its share and
trials are left, and with 0 once the search is done.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

from kerasopt.core.atomic import write_text_atomic
from kerasopt.core.errors import KerasoptError
from kerasopt.tuning.search_report import RunTiming, SearchReport
from kerasopt.tuning.spec_files import find_search_spec

logger = logging.getLogger(__name__)

#: Exit code of a child that ran its trials and leaves the rest to the next child.
RECYCLE_EXIT_CODE = 75
JOB_FILE = "search_job.json"


class SearchProcessError(KerasoptError, RuntimeError):
    """Raised when a child process of a chain fails; its output, above, says why."""


def finished_trial_ids(project: Path) -> set[str]:
    """Ids of the trials keras-tuner recorded as ended in `project` (its trial files)."""
    ids = set()
    for path in project.glob("trial_*/trial.json"):
        try:
            trial = json.loads(path.read_text())
        except ValueError:
            continue
        if trial.get("status") not in (None, "RUNNING"):
            ids.add(trial["trial_id"])
    return ids


def child_command(job_path: str | Path) -> list[str]:
    """The command of one child process: the library entry point, not the CLI."""
    return [sys.executable, "-m", "kerasopt.tuning", str(job_path)]


def run_in_fresh_processes(job) -> SearchReport:
    """Runs a `SearchJob` in child processes of `job.trials_per_process` trials each.

    Each child resumes the search from `job.out`, runs at most `trials_per_process`
    trials and exits, returning its memory to the system; the last one writes the
    results. The report's `this_run` then covers the whole chain: its wall time, the
    trials it ran and the share of time outside `fit` (child start-ups included).

    Example:

    >>> from kerasopt.tuning import SearchJob
    >>> report = SearchJob("digits", out="runs/d", trials_per_process=10).run()  # doctest: +SKIP
    """
    out = Path(job.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    child = dataclasses.replace(
        job,
        spec=str(find_search_spec(job.spec).resolve()),
        out=str(out),
        data_path=str(Path(job.data_path).resolve()) if job.data_path else None,
        trials_per_process=None,
        stop_after=job.trials_per_process,
    )
    before = set() if job.overwrite else finished_trial_ids(out / "search")
    job_path = out / JOB_FILE
    started = time.perf_counter()
    processes = 0
    try:
        while True:
            write_text_atomic(job_path, child.to_json())
            processes += 1
            code = subprocess.call(child_command(job_path))
            if code != RECYCLE_EXIT_CODE:
                break
            child = dataclasses.replace(child, overwrite=False)  # later children resume
    finally:
        job_path.unlink(missing_ok=True)
    if code != 0:
        raise SearchProcessError(
            f"A search child process exited with code {code}; its output is above. The "
            f"search state in {out}/search is kept: run the same search again to resume."
        )
    report = SearchReport.read(out)
    # The search's wall time: the last child's retraining of the winner is not search.
    retrain = (report.best and report.best.final_fit_seconds) or 0.0
    wall = time.perf_counter() - started - retrain
    rows = [row for row in report.rows if row["trial_id"] not in before]
    timing = RunTiming.of(
        rows, wall, processes=processes, trials_per_process=job.trials_per_process
    )
    report = dataclasses.replace(report, this_run=timing, trials_run=_ids(rows))
    report.write()
    logger.info(
        "%d trials in %d processes of at most %d trials, %.0f s.",
        len(rows),
        processes,
        job.trials_per_process,
        wall,
    )
    return report


def _ids(rows) -> tuple[str, ...]:
    return tuple(row["trial_id"] for row in rows)
