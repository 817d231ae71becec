"""Named end-to-end scenarios (`kerasopt run NAME`), built-in and registered by users.

Example:

>>> from kerasopt.scenarios import get_scenario, scenario_names
>>> "digits" in scenario_names() and get_scenario("imdb").models[0] == "bow"
True
"""

from kerasopt.scenarios.report_section import ReportSection, SectionContext
from kerasopt.scenarios.scenario import (
    Scenario,
    ScenarioData,
    get_scenario,
    register_scenario,
    scenario_names,
)

__all__ = [
    "ReportSection",
    "Scenario",
    "ScenarioData",
    "SectionContext",
    "get_scenario",
    "register_scenario",
    "scenario_names",
]
