"""The pipeline every `kerasopt run NAME` goes through, and its typed report.

Example:

>>> from kerasopt.pipeline import run_scenario
>>> report = run_scenario("digits", quick=True)  # doctest: +SKIP
>>> print(report.summary_table())  # doctest: +SKIP
"""

from kerasopt.pipeline.pareto_bench import (
    ParetoPoint,
    ParetoReport,
    plain_path_cnn,
    run_pareto_bench,
)
from kerasopt.pipeline.run_report import (
    RUN_REPORT_KEYS,
    SCHEMA_VERSION,
    KerasResult,
    Robustness,
    RunReport,
    TFLiteResult,
    package_versions,
)
from kerasopt.pipeline.run_scenario import default_out_dir, run_scenario

__all__ = [
    "RUN_REPORT_KEYS",
    "SCHEMA_VERSION",
    "KerasResult",
    "ParetoPoint",
    "ParetoReport",
    "Robustness",
    "RunReport",
    "TFLiteResult",
    "default_out_dir",
    "package_versions",
    "plain_path_cnn",
    "run_pareto_bench",
    "run_scenario",
]
