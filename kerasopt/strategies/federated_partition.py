"""`partition`: split a training set among federated clients, IID or Dirichlet label skew.

- **iid**: a seeded permutation cut into `clients` parts of near-equal size.
- **dirichlet:ALPHA**: label skew (Hsu et al., 2019): for every class, client shares
  `p ~ Dirichlet(ALPHA * 1)` split that class's samples among the clients. A small ALPHA
  gives each client few classes; a large one approaches IID. A draw that leaves a client
  with fewer than `min_samples` samples is redrawn (as Flower Datasets'
  `DirichletPartitioner` does), up to `MAX_DRAWS` times; then the split is refused with
  the fix.

Every sample goes to exactly one client, so the parts are disjoint and cover the set.
Pure NumPy: no TensorFlow and no Flower.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.core.validation import check_positive_int, invalid_value

#: The fewest training samples a client may hold (a batch and some).
MIN_CLIENT_SAMPLES = 10
#: Dirichlet draws tried before a split is refused.
MAX_DRAWS = 100
_OWNER = "federated"
_SPEC_FIX = "Pass partition='iid' or e.g. partition='dirichlet:0.5'."


@dataclasses.dataclass(frozen=True)
class PartitionScheme:
    """A parsed `--partition`: `"iid"`, or `"dirichlet"` with its `alpha`.

    Attributes:
        kind: `"iid"` or `"dirichlet"`.
        alpha: Dirichlet concentration (`None` for IID).
    """

    kind: str
    alpha: float | None = None

    def __str__(self) -> str:
        return self.kind if self.alpha is None else f"dirichlet:{self.alpha:g}"


def parse_partition(spec) -> PartitionScheme:
    """`"iid"` or `"dirichlet:ALPHA"` (ALPHA > 0) as a `PartitionScheme`.

    Raises:
        InvalidValueError: Anything else, with the accepted forms.

    Example:

    >>> parse_partition("dirichlet:0.5")
    PartitionScheme(kind='dirichlet', alpha=0.5)
    """
    if isinstance(spec, PartitionScheme):
        return spec
    expected = "partition 'iid' or 'dirichlet:ALPHA' with ALPHA > 0"
    text = spec.strip().lower() if isinstance(spec, str) else None
    if text == "iid":
        return PartitionScheme("iid")
    if text is not None and text.startswith("dirichlet:"):
        try:
            alpha = float(text.split(":", 1)[1])
        except ValueError:
            alpha = float("nan")
        if np.isfinite(alpha) and alpha > 0:
            return PartitionScheme("dirichlet", alpha)
    raise invalid_value(_OWNER, expected, f"partition={spec!r}", _SPEC_FIX)


def check_clients(clients, num_samples: int, min_samples: int = MIN_CLIENT_SAMPLES) -> int:
    """`clients` as an int in `[2, num_samples // min_samples]`; raises with the fix.

    Example:

    >>> check_clients(10, 1293)
    10
    """
    clients = check_positive_int(_OWNER, "clients", clients, fix="Pass e.g. clients=10.")
    if clients < 2:
        raise invalid_value(
            _OWNER,
            "clients >= 2 (one client is central training)",
            f"clients={clients}",
            "Pass e.g. clients=10.",
        )
    most = num_samples // min_samples
    if clients > most:
        raise invalid_value(
            _OWNER,
            f"at least {min_samples} training samples per client ({num_samples} samples "
            f"allow clients <= {most})",
            f"clients={clients}",
            f"Pass clients <= {most}, or more training data.",
        )
    return clients


def partition(
    y,
    clients: int,
    scheme="iid",
    *,
    seed: int = 0,
    min_samples: int = MIN_CLIENT_SAMPLES,
) -> list[np.ndarray]:
    """Splits the sample indices of `y` among `clients`: disjoint parts covering `y`.

    Args:
        y: Integer labels of the training set.
        clients: Number of clients, at least 2.
        scheme: `"iid"`, `"dirichlet:ALPHA"` or a `PartitionScheme`. Defaults to `"iid"`.
        seed: Seed of the permutation or of the Dirichlet draws. Defaults to `0`.
        min_samples: The fewest samples a client may hold. Defaults to `10`.

    Returns:
        One sorted `int64` index array per client.

    Raises:
        InvalidValueError: A bad scheme, too few samples for `clients`, or no Dirichlet
            draw in `MAX_DRAWS` that gives every client `min_samples`.

    Example:

    >>> parts = partition(np.repeat(np.arange(10), 30), 5, "dirichlet:0.5", seed=0)
    >>> sum(len(p) for p in parts)
    300
    """
    scheme = parse_partition(scheme)
    y = np.asarray(y).reshape(-1)
    clients = check_clients(clients, len(y), min_samples)
    rng = np.random.default_rng(seed)
    if scheme.kind == "iid":
        return [
            np.sort(p).astype("int64") for p in np.array_split(rng.permutation(len(y)), clients)
        ]
    by_class = [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    for _ in range(MAX_DRAWS):
        parts: list[list[np.ndarray]] = [[] for _ in range(clients)]
        for indices in by_class:
            shares = rng.dirichlet(np.full(clients, scheme.alpha))
            cuts = (np.cumsum(shares)[:-1] * len(indices)).astype(int)
            for client, piece in enumerate(np.split(indices, cuts)):
                parts[client].append(piece)
        merged = [np.sort(np.concatenate(p)).astype("int64") for p in parts]
        if min(len(p) for p in merged) >= min_samples:
            return merged
    raise invalid_value(
        _OWNER,
        f"a Dirichlet split giving each of the {clients} clients >= {min_samples} samples",
        f"partition='{scheme}' with clients={clients} on {len(y)} samples "
        f"({MAX_DRAWS} draws failed)",
        "Pass a larger alpha (e.g. dirichlet:0.5), fewer clients, or more data.",
    )


def class_histograms(y, parts: list[np.ndarray], num_classes: int) -> np.ndarray:
    """`(clients, num_classes)` counts of each class held by each client.

    Example:

    >>> class_histograms(np.array([0, 1, 1]), [np.array([0]), np.array([1, 2])], 2).tolist()
    [[1, 0], [0, 2]]
    """
    y = np.asarray(y).reshape(-1)
    return np.stack([np.bincount(y[p], minlength=num_classes) for p in parts])


def label_skew(histograms: np.ndarray) -> float:
    """Mean total-variation distance of each client's label mix from the overall mix.

    0 is perfectly IID; 1 - 1/K is every client holding one class of K balanced ones.

    Example:

    >>> label_skew(np.array([[5, 5], [5, 5]]))
    0.0
    """
    counts = np.asarray(histograms, dtype="float64")
    overall = counts.sum(0) / counts.sum()
    mixes = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    return float(np.mean(0.5 * np.abs(mixes - overall).sum(1)))
