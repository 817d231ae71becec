"""`run_in_fresh_processes`: a search run N trials per child process, so memory stays flat.

Keras 3.15 / TF 2.21 keep ~17 MB per `fit` alive after `clear_session()` and
`gc.collect()` (measured on the digits CNN; a custom `GradientTape` loop with
`optimizer.apply` inside a `tf.function` leaks the same, `evaluate` and `predict` do not;
upstream: keras-team/keras#21090, tensorflow/tensorflow#61791). Only a process exit gives
that memory back. keras-tuner keeps the whole search state on disk, so a search can run in
a chain of child processes, each running a few trials and exiting; the next resumes.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

from kerasopt.core.errors import InvalidValueError

#: Exit code of a child that ran its trials and leaves the rest to the next child.
RECYCLE_EXIT_CODE = 75
_CHILD = "import sys; from kerasopt.cli.main import main; sys.exit(main())"


class ProcessBudgetReached(Exception):
    """Raised in a child process once it has run its share of trials."""


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


def run_in_fresh_processes(
    spec_path, out_dir, *, trials_per_process: int, arguments: list[str] = ()
) -> dict:
    """Runs `kerasopt tune spec_path` in child processes of `trials_per_process` trials.

    Each child resumes the search from `out_dir`, runs at most `trials_per_process`
    trials and exits, returning its memory to the system; the last one writes the
    results. The summary's `this_run` then covers the whole chain: its wall time, the
    trials it ran and the share of time outside `fit` (child start-ups included).

    Args:
        spec_path: The TOML spec.
        out_dir: Output folder, shared by the children.
        trials_per_process: Trials per child process.
        arguments: Further `kerasopt tune` arguments for every child (`--data PATH`...).

    Example:

    >>> from kerasopt.tuning.process_recycling import run_in_fresh_processes
    >>> summary = run_in_fresh_processes(
    ...     "tuning/digits.toml", "runs/d", trials_per_process=10
    ... )  # doctest: +SKIP
    """
    if trials_per_process < 1:
        raise InvalidValueError(
            f"trials_per_process must be >= 1. Received: {trials_per_process=}."
        )
    out = Path(out_dir)
    before = finished_trial_ids(out / "search") if "--overwrite" not in arguments else set()
    started = time.perf_counter()
    processes = 0
    arguments = list(arguments)
    while True:
        command = [sys.executable, "-c", _CHILD, "tune", str(spec_path), "--out", str(out)]
        command += ["--stop-after", str(trials_per_process), *arguments]
        processes += 1
        code = subprocess.call(command)
        if code != RECYCLE_EXIT_CODE:
            break
        arguments = [a for a in arguments if a != "--overwrite"]  # later children resume
    if code != 0:
        raise RuntimeError(
            f"A kerasopt tune child process exited with code {code}; its output is above. "
            f"The search state in {out}/search is kept: run the same command to resume."
        )
    summary = json.loads((out / "search.json").read_text())
    # The search's wall time: the last child's retraining of the winner is not search.
    retrain = float(summary.get("best", {}).get("final_fit_seconds") or 0.0)
    wall = time.perf_counter() - started - retrain
    with open(out / "trials.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["trial_id"] not in before]
    fit_seconds = sum(float(row["fit_seconds"] or 0) for row in rows)
    summary["this_run"] = {
        "trials": len(rows),
        "processes": processes,
        "trials_per_process": trials_per_process,
        "wall_seconds": wall,
        "fit_seconds": fit_seconds,
        "outside_fit_fraction": 1.0 - fit_seconds / wall if rows else None,
    }
    from kerasopt.core.atomic import write_text_atomic

    write_text_atomic(out / "search.json", json.dumps(summary, indent=2, default=str) + "\n")
    print(
        f"{len(rows)} trials in {processes} processes of at most {trials_per_process} trials, "
        f"{wall:.0f} s; time outside fit {summary['this_run']['outside_fit_fraction']:.0%}."
    )
    return summary
