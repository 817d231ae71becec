"""`DatasetSplits`: the train/validation/test arrays of a classification dataset."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.model_selection import train_test_split

from kerasopt.core.validation import check_positive_int
from kerasopt.data.validation import check_arrays

#: Fraction of the training part carved out, stratified, as the validation split.
VALIDATION_FRACTION = 0.1
#: Seed of every split kerasopt makes, so splits never change between runs.
SPLIT_SEED = 0


def split_off_validation(
    x_train, y_train, fraction: float = VALIDATION_FRACTION, seed: int = SPLIT_SEED
) -> tuple:
    """`(x_train, x_val, y_train, y_val, description)`: a stratified validation split.

    Example:

    >>> import numpy as np
    >>> x_tr, x_val, y_tr, y_val, how = split_off_validation(np.arange(20), np.arange(20) % 2)
    >>> len(x_val)
    2
    """
    x_tr, x_val, y_tr, y_val = train_test_split(
        x_train, y_train, test_size=fraction, stratify=y_train, random_state=seed
    )
    description = f"train_test_split(train, test_size={fraction}, stratify=y, random_state={seed})"
    return x_tr, x_val, y_tr, y_val, description


def split_sizes(splits) -> dict[str, int]:
    """Samples per split of anything with `y_train`, `y_val` and `y_test`."""
    return {part: int(len(getattr(splits, f"y_{part}"))) for part in ("train", "val", "test")}


@dataclasses.dataclass(frozen=True)
class DatasetSplits:
    """Train, validation and test arrays plus the spec that made them.

    `x_*` hold samples exactly as the dataset stores them (no scaling): models put
    their preprocessing inside, so an exported model takes the same raw values.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> data = load_dataset("digits")
    >>> data.x_train.shape[1:], data.num_classes
    ((8, 8), 10)
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    split: dict
    class_names: tuple[str, ...] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one sample, without the batch axis."""
        return tuple(self.x_train.shape[1:])

    def describe(self) -> dict:
        """The split spec and sizes, as stored in `report.json`."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "input_dtype": str(self.x_train.dtype),
            "num_classes": self.num_classes,
            "sizes": split_sizes(self),
            "split": self.split,
            **({"class_names": list(self.class_names)} if self.class_names else {}),
        }

    def subsample_train(self, samples: int, seed: int = 0) -> DatasetSplits:
        """These splits with a stratified, seeded `samples` of the training part.

        Validation and test are kept whole, so a model trained on the subset is scored
        on the same samples as one trained on everything. `samples` at or above the
        training size returns `self`.

        Example:

        >>> from kerasopt.data import load_dataset
        >>> len(load_dataset("digits").subsample_train(300).y_train)
        300
        """
        check_positive_int("DatasetSplits.subsample_train", "samples", samples)
        if samples >= len(self.y_train):
            return self
        counts = np.bincount(self.y_train, minlength=self.num_classes)
        stratify = self.y_train if samples >= self.num_classes and counts.min() >= 2 else None
        index, _ = train_test_split(
            np.arange(len(self.y_train)),
            train_size=samples,
            stratify=stratify,
            random_state=seed,
        )
        index = np.sort(index)
        split = {**self.split, "train_subset": f"{samples} stratified samples (seed {seed})"}
        return dataclasses.replace(
            self, x_train=self.x_train[index], y_train=self.y_train[index], split=split
        )

    def check(self) -> None:
        """Validates every split (see `check_arrays`)."""
        for part in ("train", "val", "test"):
            check_arrays(
                getattr(self, f"x_{part}"),
                getattr(self, f"y_{part}"),
                num_classes=self.num_classes,
                input_shape=self.input_shape,
                name=part,
            )


def carve_validation(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    num_classes: int,
    split: dict,
    class_names: tuple[str, ...] | None = None,
) -> DatasetSplits:
    """Splits a stratified validation set off the training part and checks all arrays."""
    y_train = np.asarray(y_train).reshape(-1).astype("int64")
    y_test = np.asarray(y_test).reshape(-1).astype("int64")
    check_arrays(x_train, y_train, num_classes=num_classes, name="train")
    check_arrays(x_test, y_test, num_classes=num_classes, name="test")
    x_tr, x_val, y_tr, y_val, how = split_off_validation(x_train, y_train)
    spec = {**split, "validation": how}
    data = DatasetSplits(
        name=name,
        x_train=x_tr,
        y_train=y_tr,
        x_val=x_val,
        y_val=y_val,
        x_test=np.asarray(x_test),
        y_test=y_test,
        num_classes=num_classes,
        split=spec,
        class_names=tuple(class_names) if class_names else None,
    )
    data.check()
    return data
