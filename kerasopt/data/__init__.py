"""Datasets with fixed splits, input checks, and the tf.data pipeline."""

from kerasopt.data.loaders import (
    DATASETS,
    DatasetUnavailableError,
    load_dataset,
    load_dataset_or_file,
    load_npz,
)
from kerasopt.data.pipeline import make_dataset
from kerasopt.data.splits import DatasetSplits
from kerasopt.data.validation import InvalidDataError, check_arrays

__all__ = [
    "DATASETS",
    "DatasetSplits",
    "DatasetUnavailableError",
    "InvalidDataError",
    "check_arrays",
    "load_dataset",
    "load_dataset_or_file",
    "load_npz",
    "make_dataset",
]
