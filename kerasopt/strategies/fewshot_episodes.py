"""`EpisodeSampler`: seeded K-way S-shot episodes, and the class split of few-shot learning.

An episode draws `ways` distinct classes in a random order (the order IS the label, so
labels are permuted from one episode to the next), then `shots` support and `queries`
query samples of each class, disjoint. Episode `i` depends only on `(seed, i)`, so every
method scored on "episode 7" sees exactly the same samples. Pure NumPy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.core.validation import check_int, check_option, check_seed, invalid_value

_OWNER = "fewshot"
#: How `augment_classes` multiplies the meta-train classes.
CLASS_AUGMENTATIONS = ("dihedral", "none")


@dataclasses.dataclass(frozen=True)
class Episode:
    """One K-way S-shot task.

    Attributes:
        classes: The original class ids; `classes[j]` has label `j` in this episode.
        support_x: `ways * shots` samples, class by class.
        support_y: Their labels in `0..ways-1`.
        query_x: `ways * queries` samples, none of them in the support set.
        query_y: Their labels.
    """

    classes: np.ndarray
    support_x: np.ndarray
    support_y: np.ndarray
    query_x: np.ndarray
    query_y: np.ndarray


def augment_classes(x, y, kind: str = "dihedral") -> tuple[np.ndarray, np.ndarray]:
    """The meta-train pool with every rotation / mirror image of a class as a new class.

    `"dihedral"` turns class `c` into `8` classes `8c + t`: the four rotations by 90
    degrees of its images, and of their mirror images (square images; other shapes get
    the 4 flips that keep their shape). More classes means more distinct tasks to
    meta-learn from, which is what lets a learned initialisation transfer (the Omniglot
    recipe of Santoro et al. 2016, used by Reptile); held-out classes are never touched.
    `"none"` returns the pool as it is.

    Example:

    >>> import numpy as np
    >>> x, y = augment_classes(np.zeros((3, 4, 4)), np.array([0, 1, 1]))
    >>> x.shape, sorted(set(y.tolist()))[:3]
    ((24, 4, 4), [0, 1, 2])
    """
    check_option(_OWNER, "class_augmentation", kind, CLASS_AUGMENTATIONS)
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if kind == "none":
        return x, y
    if x.shape[1] == x.shape[2]:
        views = [np.rot90(x, t, axes=(1, 2)) for t in range(4)]
        views += [np.rot90(x[:, :, ::-1], t, axes=(1, 2)) for t in range(4)]
    else:
        views = [x, x[:, ::-1], x[:, :, ::-1], x[:, ::-1, ::-1]]
    copies = len(views)
    labels = [y * copies + t for t in range(copies)]
    return np.ascontiguousarray(np.concatenate(views)), np.concatenate(labels)


def split_classes(
    num_classes: int,
    ways: int,
    meta_classes=None,
    test_classes=None,
    *,
    dataset: str = "the dataset",
) -> tuple[list[int], list[int]]:
    """`(meta_classes, test_classes)`: who is meta-trained on and who is held out.

    By default the first `num_classes // 2` classes are meta-train and the rest held out
    (digits: 0-4 and 5-9). Naming one side makes the other the remaining classes. Both
    sides need at least `ways` classes: meta-training draws `ways`-way tasks too.

    Raises:
        InvalidValueError: Too few classes for `ways`, overlapping or unknown classes.

    Example:

    >>> split_classes(10, 5)
    ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    """
    ways = check_int(_OWNER, "ways", ways, 2, example=5)
    if num_classes < 2 * ways:
        raise invalid_value(
            _OWNER,
            f"at least 2 x ways = {2 * ways} classes ({ways} to meta-train on, {ways} held out)",
            f"ways={ways} with {num_classes} classes in {dataset}",
            f"Pass --ways {num_classes // 2} or fewer, or a dataset with more classes.",
        )
    everything = list(range(num_classes))
    if meta_classes is None and test_classes is None:
        half = num_classes // 2
        return everything[:half], everything[half:]
    chosen = {}
    for name, given in (("meta_classes", meta_classes), ("test_classes", test_classes)):
        if given is None:
            continue
        values = [int(c) for c in given]
        example = everything[:ways] if name == "meta_classes" else everything[-ways:]
        bad = [c for c in values if not 0 <= c < num_classes]
        if bad or len(set(values)) != len(values):
            raise invalid_value(
                _OWNER,
                f"{name} to be distinct class ids in [0, {num_classes})",
                f"{name}={values}",
                f"Pass e.g. {name}={example}.",
            )
        chosen[name] = values
    meta = chosen.get("meta_classes")
    test = chosen.get("test_classes")
    meta = meta if meta is not None else [c for c in everything if c not in test]
    test = test if test is not None else [c for c in everything if c not in meta]
    overlap = sorted(set(meta) & set(test))
    if overlap:
        raise invalid_value(
            _OWNER,
            "meta-train and held-out classes to be disjoint",
            f"classes {overlap} in both",
            "Drop them from one of --meta-classes / --test-classes.",
        )
    for name, values in (("meta-train", meta), ("held-out", test)):
        if len(values) < ways:
            raise invalid_value(
                _OWNER,
                f"at least ways={ways} {name} classes",
                f"{len(values)} {name} classes {values}",
                f"Pass --ways {len(values)} or fewer, or name more {name} classes.",
            )
    return meta, test


class EpisodeSampler:
    """Draws seeded `ways`-way episodes of `shots` support and `queries` query samples.

    Args:
        x: Samples of the pool episodes are drawn from.
        y: Their integer labels.
        ways: Classes per episode, at least 2.
        shots: Support samples per class, at least 1.
        queries: Query samples per class, at least 0. Defaults to `0`.
        seed: Seed of the draws; episode `i` depends only on `(seed, i)`. Defaults to `0`.
        pool: What the pool is, named in errors. Defaults to `"the pool"`.

    Raises:
        InvalidValueError: Fewer than `ways` classes in `y`, or a class with fewer than
            `shots + queries` samples.

    Example:

    >>> import numpy as np
    >>> sampler = EpisodeSampler(np.arange(40), np.arange(40) % 4, ways=3, shots=2, queries=1)
    >>> sampler.episode(0).support_x.shape
    (6,)
    """

    def __init__(self, x, y, *, ways, shots, queries=0, seed=0, pool="the pool"):
        self.x = np.asarray(x)
        y = np.asarray(y).reshape(-1)
        self.ways = check_int(_OWNER, "ways", ways, 2, example=5)
        self.shots = check_int(_OWNER, "shots", shots, 1, example=1)
        self.queries = check_int(_OWNER, "queries", queries, 0, example=15)
        self.seed = check_seed(_OWNER, seed) or 0
        self.labels = np.unique(y)
        if len(self.labels) < self.ways:
            raise invalid_value(
                _OWNER,
                f"at least ways={self.ways} classes in {pool}",
                f"{len(self.labels)} classes",
                f"Pass ways <= {len(self.labels)}.",
            )
        self.index = [np.flatnonzero(y == c) for c in self.labels]
        counts = [len(i) for i in self.index]
        fewest = int(np.argmin(counts))
        need = self.shots + self.queries
        if counts[fewest] < need:
            most = counts[fewest] - self.queries
            fix = f"Pass --shots {most} or fewer." if most >= 1 else "Pass fewer --queries."
            raise invalid_value(
                _OWNER,
                f"shots + queries <= {counts[fewest]}, the samples of class "
                f"{int(self.labels[fewest])} in {pool}",
                f"shots={self.shots}, queries={self.queries}",
                fix,
            )

    def episode(self, index: int) -> Episode:
        """Episode number `index`: the same samples every time it is asked for."""
        classes, support, query = self.rows(index)
        return Episode(
            classes=classes,
            support_x=self.x[support],
            support_y=np.repeat(np.arange(self.ways), self.shots),
            query_x=self.x[query],
            query_y=np.repeat(np.arange(self.ways), self.queries),
        )

    def rows(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(classes, support_rows, query_rows)`: what episode `index` draws from the pool."""
        rng = np.random.default_rng([self.seed, int(index)])
        picked = rng.choice(len(self.labels), self.ways, replace=False)
        support, query = [], []
        for j in picked:
            rows = rng.choice(self.index[j], self.shots + self.queries, replace=False)
            support.append(rows[: self.shots])
            query.append(rows[self.shots :])
        return self.labels[picked], np.concatenate(support), np.concatenate(query)
