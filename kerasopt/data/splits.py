"""`DatasetSplits`: the train/validation/test arrays of a classification dataset."""

from __future__ import annotations

import dataclasses

import numpy as np
from sklearn.model_selection import train_test_split

from kerasopt.core.validation import check_positive_int
from kerasopt.data.validation import InvalidDataError, check_arrays

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

    def with_validation_in_train(self) -> DatasetSplits:
        """These splits with the validation samples appended to the training part.

        The final fit of a recipe chosen on validation (`TrainConfig.train_on_validation`).
        The validation arrays stay as they are, now seen in training; the test split is
        untouched.

        Example:

        >>> from kerasopt.data import load_dataset
        >>> data = load_dataset("digits")
        >>> len(data.with_validation_in_train().y_train) == len(data.y_train) + len(data.y_val)
        True
        """
        split = {**self.split, "train_on_validation": True}
        return dataclasses.replace(
            self,
            x_train=np.concatenate([self.x_train, self.x_val]),
            y_train=np.concatenate([self.y_train, self.y_val]),
            split=split,
        )

    def select_classes(self, classes) -> DatasetSplits:
        """These splits restricted to `classes`, relabelled `0..len(classes)-1` in that order.

        Every split keeps only the samples of `classes`; class names follow. It is how a
        task is cut out of a dataset: a source task for transfer learning, the meta-train
        or held-out classes of few-shot learning.

        Example:

        >>> from kerasopt.data import load_dataset
        >>> target = load_dataset("digits").select_classes([5, 6, 7, 8, 9])
        >>> target.num_classes, int(target.y_train.max())
        (5, 4)
        """
        classes = [int(c) for c in classes]
        unknown = [c for c in classes if not 0 <= c < self.num_classes]
        if not classes or unknown or len(set(classes)) != len(classes):
            raise InvalidDataError(
                f"DatasetSplits.select_classes: classes must be distinct integers in "
                f"[0, {self.num_classes}) for {self.name!r}. Received: {classes}."
            )
        relabel = np.full(self.num_classes, -1, dtype="int64")
        relabel[classes] = np.arange(len(classes))
        parts = {}
        for part in ("train", "val", "test"):
            y = getattr(self, f"y_{part}")
            keep = np.flatnonzero(relabel[y] >= 0)
            parts[f"x_{part}"] = getattr(self, f"x_{part}")[keep]
            parts[f"y_{part}"] = relabel[y[keep]]
        names = tuple(self.class_names[c] for c in classes) if self.class_names else None
        return dataclasses.replace(
            self,
            **parts,
            num_classes=len(classes),
            split={**self.split, "classes": classes},
            class_names=names,
        )

    def per_class_train(self, per_class: int, seed: int = 0) -> DatasetSplits:
        """These splits with exactly `per_class` seeded training samples of each class.

        Validation and test stay whole. A class with fewer training samples is refused
        in one line naming it, since the result would not be what was asked.

        Example:

        >>> from kerasopt.data import load_dataset
        >>> len(load_dataset("digits").per_class_train(10).y_train)
        100
        """
        check_positive_int("DatasetSplits.per_class_train", "per_class", per_class)
        counts = np.bincount(self.y_train, minlength=self.num_classes)
        short = [c for c in range(self.num_classes) if counts[c] < per_class]
        if short:
            c = short[0]
            raise InvalidDataError(
                f"DatasetSplits.per_class_train: class {c} of {self.name!r} has "
                f"{counts[c]} training samples, fewer than the {per_class} asked; ask for "
                f"at most {int(counts.min())} per class."
            )
        rng = np.random.default_rng(seed)
        index = np.sort(
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(self.y_train == c), per_class, replace=False)
                    for c in range(self.num_classes)
                ]
            )
        )
        split = {**self.split, "train_subset": f"{per_class} per class (seed {seed})"}
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
