"""`combine_members`: trained classifiers as ONE Keras model, one input and one output.

The members run side by side inside the graph on the shared input, and a combining layer
turns their probabilities into the ensemble's: `keras.layers.Average` for bagging and
snapshot ensembles, `WeightedVote` (the SAMME vote of AdaBoost) or `WeightedAverage` (an
alpha-weighted mean of probabilities) for boosted members. The result saves to one
`.keras` file and converts to one full-integer int8 `.tflite`, so a phone app loads a
single model.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from kerasopt.core.validation import check_option, invalid_value

#: How `combine_members` turns the members' probabilities into one output.
COMBINERS = ("average", "weighted_average", "weighted_vote")


def _check_weights(owner: str, weights) -> list[float]:
    values = np.asarray(weights, dtype="float64").reshape(-1)
    if values.size < 1 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise invalid_value(
            owner,
            "weights as finite numbers >= 0, one per member",
            f"weights={list(weights)!r}",
            "Pass the members' SAMME alphas, e.g. weights=[1.2, 0.8].",
        )
    if values.sum() <= 0:
        raise invalid_value(
            owner,
            "weights with a positive sum",
            f"weights={list(weights)!r}",
            "Give at least one member a weight > 0.",
        )
    return [float(v) for v in values]


class _MemberWeights(keras.layers.Layer):
    """Shared part of the weighted combiners: fixed, normalised member weights."""

    def __init__(self, weights: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        self.member_weights = _check_weights(type(self).__name__, weights)

    def _normalised(self, count: int):
        if count != len(self.member_weights):
            raise invalid_value(
                self.name,
                f"{len(self.member_weights)} member outputs, one per weight",
                f"{count} outputs",
                "Pass one weight per member.",
            )
        total = sum(self.member_weights)
        return keras.ops.convert_to_tensor(
            [w / total for w in self.member_weights], dtype=self.compute_dtype
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"weights": list(self.member_weights)})
        return config


@keras.saving.register_keras_serializable(package="kerasopt")
class WeightedAverage(_MemberWeights):
    """The members' probabilities averaged with fixed weights (normalised to sum to 1).

    Args:
        weights: One weight >= 0 per member, e.g. the SAMME alphas.

    Example:

    >>> layer = WeightedAverage([3.0, 1.0])
    >>> layer([np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])]).numpy().tolist()
    [[0.75, 0.25]]
    """

    #: A mixture of the members' distributions is a distribution (for distillation).
    averages_probabilities = True

    def call(self, inputs):
        weights = self._normalised(len(inputs))
        return sum(weights[i] * inputs[i] for i in range(len(inputs)))


@keras.saving.register_keras_serializable(package="kerasopt")
class WeightedVote(_MemberWeights):
    """The SAMME vote: each member's top class, weighted by its alpha, as class scores.

    Output `[b, classes]` sums to 1 per row: the share of the total alpha that voted for
    each class, so `argmax` is AdaBoost's prediction. A member's vote is the one-hot of
    its largest probability (`equal(p, max(p))`; a tie votes for every tied class). Not
    differentiable: for inference only. It does not convert to a full-integer int8 file
    (TF 2.21 leaves the bool-to-float `CAST` of each vote as a float op, and a `where`
    instead leaves `SELECT_V2` in float), so `ensemble` exports AdaBoost members with
    `WeightedAverage` and reports this vote's Keras accuracy beside it.

    Args:
        weights: One alpha >= 0 per member.

    Example:

    >>> layer = WeightedVote([3.0, 1.0])
    >>> layer([np.array([[0.6, 0.4]]), np.array([[0.1, 0.9]])]).numpy().tolist()
    [[0.75, 0.25]]
    """

    def call(self, inputs):
        weights = self._normalised(len(inputs))
        votes = []
        for i, probabilities in enumerate(inputs):
            top = keras.ops.max(probabilities, axis=-1, keepdims=True)
            one_hot = keras.ops.cast(keras.ops.equal(probabilities, top), self.compute_dtype)
            votes.append(weights[i] * one_hot)
        return sum(votes)


def combine_members(
    members: Sequence[keras.Model],
    *,
    combiner: str = "average",
    weights: Sequence[float] | None = None,
    name: str = "ensemble",
) -> keras.Model:
    """One functional model: the shared input, every member, then the combining layer.

    The members are nested as sub-models under the names `member_0`, `member_1`, ...
    (wrappers over their layers; the members' weights are shared, not copied).

    Args:
        members: Two or more trained classifiers with the same input and output shapes.
        combiner: `"average"` (mean of probabilities, `keras.layers.Average`),
            `"weighted_average"` (`WeightedAverage`) or `"weighted_vote"`
            (`WeightedVote`, the SAMME vote). Defaults to `"average"`.
        weights: One weight per member for the weighted combiners. Defaults to `None`.
        name: Name of the combined model. Defaults to `"ensemble"`.

    Example:

    >>> from kerasopt.models import build_cnn
    >>> members = [build_cnn((8, 8), 10, input_max=16, filters=(4,)) for _ in range(2)]
    >>> model = combine_members(members)
    >>> model.output_shape
    (None, 10)
    """
    owner = "combine_members"
    check_option(owner, "combiner", combiner, COMBINERS)
    members = list(members)
    if len(members) < 2:
        raise invalid_value(
            owner,
            "at least 2 members",
            f"{len(members)} member(s)",
            "Train more members (members >= 2).",
        )
    shapes = {(tuple(m.inputs[0].shape[1:]), tuple(m.outputs[0].shape[1:])) for m in members}
    if len(shapes) != 1 or any(len(m.inputs) != 1 or len(m.outputs) != 1 for m in members):
        raise invalid_value(
            owner,
            "members with one input and one output, all of the same shapes",
            f"(input, output) shapes {sorted(shapes)}",
            "Build every member with the same builder.",
        )
    if combiner != "average" and (weights is None or len(weights) != len(members)):
        raise invalid_value(
            owner,
            f"one weight per member for combiner={combiner!r}",
            f"weights={weights!r} for {len(members)} members",
            "Pass weights=[...] with one alpha per member.",
        )
    source = members[0].inputs[0]
    inputs = keras.Input(shape=tuple(source.shape[1:]), dtype=source.dtype, name="image")
    outputs = [
        keras.Model(m.inputs[0], m.outputs[0], name=f"member_{i}")(inputs)
        for i, m in enumerate(members)
    ]
    if combiner == "average":
        combined = keras.layers.Average(name="average")(outputs)
    elif combiner == "weighted_average":
        combined = WeightedAverage(weights, name="weighted_average")(outputs)
    else:
        combined = WeightedVote(weights, name="weighted_vote")(outputs)
    return keras.Model(inputs, combined, name=name)
