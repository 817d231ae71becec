"""Scoring initialisations on held-out episodes: Reptile vs scratch vs pre-trained fine-tune.

Every method adapts with the same `TaskAdapter` (optimizer, learning rate, steps) on the
same support set of the same episode and is scored on that episode's query set; only the
starting weights differ. The episode loop is the outer loop, so "the same episodes" holds
by construction, not by seeding three samplers alike.
"""

from __future__ import annotations

import dataclasses
import math
import time

import keras
import numpy as np

from kerasopt.training.fit_state import build_fit_state

#: The starting points every few-shot run compares, in report order.
FEWSHOT_BASELINES = ("reptile", "scratch", "pretrained")
#: z of a two-sided 95 % normal interval.
_Z95 = 1.959964


@dataclasses.dataclass(frozen=True)
class MethodScore:
    """One method's query accuracy over the held-out episodes.

    Attributes:
        method: `"reptile"`, `"scratch"` or `"pretrained"`.
        accuracies: Query accuracy of each episode, in episode order.
    """

    method: str
    accuracies: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean query accuracy."""
        return float(np.mean(self.accuracies))

    @property
    def ci95(self) -> float:
        """Half-width of the 95 % confidence interval of the mean (normal approximation)."""
        return confidence_interval(self.accuracies)

    def to_dict(self) -> dict:
        """The JSON form: mean, CI half-width and every episode's accuracy."""
        return {
            "method": self.method,
            "episodes": len(self.accuracies),
            "mean_accuracy": self.mean,
            "ci95": self.ci95,
            "accuracies": list(self.accuracies),
        }


def confidence_interval(values) -> float:
    """`1.96 * std / sqrt(n)` (sample std), `0.0` for fewer than two values.

    Example:

    >>> round(confidence_interval([0.0, 1.0]), 4)
    0.98
    """
    values = np.asarray(values, "float64")
    if len(values) < 2:
        return 0.0
    return float(_Z95 * np.std(values, ddof=1) / math.sqrt(len(values)))


def with_new_head(body_weights: list, fresh_weights: list, head_arrays: int = 2) -> list:
    """A pre-trained body with a fresh head: all but the last `head_arrays` of `body_weights`.

    The pre-trained model has one output per meta-train class; the few-shot model one per
    way. Both come from the same builder, so every array but the head's kernel and bias
    lines up; a mismatch means the builder is not a body plus a final `Dense`.

    Example:

    >>> import numpy as np
    >>> body = [np.ones((2, 3)), np.ones((3, 7)), np.ones(7)]
    >>> fresh = [np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5)]
    >>> [w.shape for w in with_new_head(body, fresh)]
    [(2, 3), (3, 5), (5,)]
    """
    body = list(body_weights[:-head_arrays])
    expected = [w.shape for w in fresh_weights[:-head_arrays]]
    if [w.shape for w in body] != expected:
        raise ValueError(
            "with_new_head: expected the pre-trained body to match the few-shot model "
            f"except its last {head_arrays} arrays. Received body shapes "
            f"{[w.shape for w in body]}, expected {expected}. Build both with one builder "
            "whose last layer is the classifier head."
        )
    return body + list(fresh_weights[-head_arrays:])


def pretrain_body(
    model: keras.Model, x, y, *, epochs: int, learning_rate: float, batch_size: int = 64
) -> tuple[list, float]:
    """Ordinary supervised training on the meta-train classes; `(weights, seconds)`."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    build_fit_state(model, (x, y))
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model.get_weights(), time.perf_counter() - start


def evaluate_initializations(
    adapter, sampler, initializations: dict[str, list], *, episodes: int, steps: int
) -> tuple[list[MethodScore], list[list[int]]]:
    """Adapts every initialisation on each of `episodes` episodes and scores its queries.

    Args:
        adapter: A `TaskAdapter`; the same optimizer and steps for every method.
        sampler: An `EpisodeSampler` of the held-out classes, with queries.
        initializations: Method name -> starting weights.
        episodes: Episodes `0..episodes-1` of `sampler`.
        steps: Adaptation steps on each support set.

    Returns:
        `(scores, classes)`: a `MethodScore` per method (in the dict's order) and each
        episode's classes in label order.

    Example:

    >>> scores, classes = evaluate_initializations(
    ...     adapter, sampler, {"reptile": w1, "scratch": w0}, episodes=100, steps=20
    ... )  # doctest: +SKIP
    """
    accuracies = {name: [] for name in initializations}
    classes = []
    for index in range(episodes):
        episode = sampler.episode(index)
        classes.append([int(c) for c in episode.classes])
        for name, weights in initializations.items():
            adapter.adapt(weights, episode.support_x, episode.support_y, steps=steps)
            accuracies[name].append(adapter.accuracy(episode.query_x, episode.query_y))
    scores = [MethodScore(name, tuple(values)) for name, values in accuracies.items()]
    return scores, classes
