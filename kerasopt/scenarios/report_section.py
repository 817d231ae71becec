"""`ReportSection`: a part of the run report that only some scenarios have.

A scenario lists callables `section(context: SectionContext) -> ReportSection` in
`Scenario.sections`; the pipeline runs each after export and files the result under
`report.json["sections"][name]`, its Markdown in `report.md` and its summary line in the
table the CLI prints. The `imdb` scenario's tokenizer check and confident mistakes are
sections (`kerasopt.scenarios.text_sections`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from kerasopt.scenarios.scenario import ScenarioData


@dataclasses.dataclass(frozen=True)
class SectionContext:
    """What a report section may read: the trained model, its data and its exports.

    Attributes:
        scenario_name: The scenario's name.
        model_name: The scenario model that was trained (`"cnn"`, `"bow"`, ...).
        model: The trained Keras model.
        data: The scenario's `ScenarioData`.
        out_dir: The run's folder (model files and the export plan's files are there).
        keras_probabilities: The Keras model's outputs on `data.splits.x_test`.
        exported: The export plan's `ExportedModel`s.
    """

    scenario_name: str
    model_name: str
    model: Any
    data: ScenarioData
    out_dir: Path
    keras_probabilities: np.ndarray
    exported: tuple = ()


@dataclasses.dataclass(frozen=True)
class ReportSection:
    """One scenario-specific part of the report.

    Args:
        name: Its key in `report.json["sections"]` (`"tokenizer"`).
        content: Its JSON content (plain dicts, lists, numbers and strings).
        markdown: Its lines in `report.md`, a `## ` heading first. Defaults to `()`.
        summary: One line for the table printed at the end of a run, or `None`.
            Defaults to `None`.

    Example:

    >>> from kerasopt.scenarios import ReportSection
    >>> def test_size(context):
    ...     n = len(context.data.splits.y_test)
    ...     return ReportSection("test_size", {"samples": n}, summary=f"{n} test samples.")
    """

    name: str
    content: Any
    markdown: tuple[str, ...] = ()
    summary: str | None = None
