"""Hyperparameter search with keras-tuner from TOML specs, and scikit-learn GridSearchCV."""

from kerasopt.tuning.deployment_budget import Budget, budget_overshoot
from kerasopt.tuning.deployment_metrics import measure_int8, trial_metrics
from kerasopt.tuning.median_stopping import MedianStop, MedianStoppingRule
from kerasopt.tuning.model_families import (
    MODEL_FAMILIES,
    ModelFamily,
    ModelInputs,
    get_model_family,
    register_model_family,
)
from kerasopt.tuning.search_job import SearchJob
from kerasopt.tuning.search_report import BestTrial, RunTiming, SearchReport
from kerasopt.tuning.search_runner import run_search
from kerasopt.tuning.search_space import Hyperparameter, SpecError, parse_space
from kerasopt.tuning.search_spec import SearchSpec, load_search_spec, parse_search_spec
from kerasopt.tuning.sklearn_search import grid_to_model_kwargs, sklearn_grid_search
from kerasopt.tuning.spec_files import find_search_spec
from kerasopt.tuning.spec_hypermodel import SpecHyperModel
from kerasopt.tuning.spec_tuners import build_tuner

__all__ = [
    "MODEL_FAMILIES",
    "BestTrial",
    "Budget",
    "Hyperparameter",
    "MedianStop",
    "MedianStoppingRule",
    "ModelFamily",
    "ModelInputs",
    "RunTiming",
    "SearchJob",
    "SearchReport",
    "SearchSpec",
    "SpecError",
    "SpecHyperModel",
    "budget_overshoot",
    "build_tuner",
    "find_search_spec",
    "get_model_family",
    "grid_to_model_kwargs",
    "load_search_spec",
    "measure_int8",
    "parse_search_spec",
    "parse_space",
    "register_model_family",
    "run_search",
    "sklearn_grid_search",
    "trial_metrics",
]
