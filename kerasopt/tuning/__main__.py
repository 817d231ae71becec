"""`python -m kerasopt.tuning JOB.json`: runs a `SearchJob` written as JSON.

The entry point of each child process of a `trials_per_process` chain. Exits with 0
when the search is done, and with `process_recycling.RECYCLE_EXIT_CODE` when this
process ran its share of trials and leaves the rest to the next one.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from kerasopt.tuning.process_recycling import RECYCLE_EXIT_CODE
from kerasopt.tuning.search_job import SearchJob


def main(argv: list[str] | None = None) -> int:
    """Runs the job in the JSON file `argv[0]`; the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m kerasopt.tuning JOB.json")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = SearchJob.from_json(Path(argv[0]).read_text()).run()
    return 0 if report.finished else RECYCLE_EXIT_CODE


if __name__ == "__main__":
    sys.exit(main())
