"""Named end-to-end scenarios (`kerasopt run NAME`)."""

from kerasopt.scenarios.imdb_run import run_imdb
from kerasopt.scenarios.registry import SCENARIOS, Scenario, get_scenario
from kerasopt.scenarios.report import format_table, summary_rows, write_report
from kerasopt.scenarios.run import run_scenario

__all__ = [
    "SCENARIOS",
    "Scenario",
    "format_table",
    "get_scenario",
    "run_imdb",
    "run_scenario",
    "summary_rows",
    "write_report",
]
