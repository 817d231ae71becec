"""Couples the channels that must keep the same indices and chooses the ones to keep.

Channels lined up by an elementwise merge (a residual `Add`) are one channel: removing it
means removing it from every producer that feeds the merge. Union-find over the channel
ids of a `ChannelGraph` gives these *classes*; producers that share a class form a
*group*, which is pruned as a whole: each class is scored by the summed importance of its
channels (each producer's importance divided by its mean, so a wide-valued layer does not
outvote the others), and the lowest `fraction` of the classes is removed. A group that
reaches a model output, holds a producer named in `skip_layers`, or meets channels no
producer owns is kept whole; one that reaches a channel-mixing layer raises.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from kerasopt.compress._graph_walk import FIXED, ChannelGraph
from kerasopt.core.errors import InvalidValueError


@dataclasses.dataclass(frozen=True)
class ChannelChoice:
    """Which channel ids survive, and for each producer (graph order) its status and group.

    `keep[i]` tells whether channel id `i` is kept; `statuses[k]` is `"pruned"`,
    `"skipped"`, `"output"` or `"fixed"`; `coupled[k]` names the other producers that
    keep the same channels as producer `k`.
    """

    keep: np.ndarray
    statuses: list[str]
    coupled: list[tuple[str, ...]]


class _UnionFind:
    def __init__(self, size: int):
        self.parent = np.arange(size)

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return int(root)

    def union(self, a: int, b: int):
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def roots(self) -> np.ndarray:
        return np.array([self.find(item) for item in range(len(self.parent))])


def choose_channels(
    graph: ChannelGraph,
    scores: list[np.ndarray],
    fraction: float,
    skip: set[str],
    min_channels: int,
    group_fractions: dict[str, float] | None = None,
) -> ChannelChoice:
    """Groups `graph`'s producers and picks the channels of each group to keep.

    Args:
        graph: The walked model.
        scores: Importance of each channel, one array per producer in `graph.producers`.
        fraction: Share of each group's channels to remove.
        skip: Names from `skip_layers`.
        min_channels: Fewest channels any producer keeps.
        group_fractions: Producer name -> share to remove instead of `fraction`; a
            group takes the smallest share named among its producers.

    Raises:
        ValueError: when a group that would be pruned reaches a layer that mixes channels.
    """
    channels = _UnionFind(graph.size)
    for a, b in graph.joins:
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            channels.union(x, y)
    classes = channels.roots()
    owner = np.full(graph.size, -1)
    for index, producer in enumerate(graph.producers):
        owner[producer.ids] = index
    groups = _UnionFind(len(graph.producers))
    first_owner = {}
    for item in range(FIXED + 1, graph.size):
        groups.union(owner[item], first_owner.setdefault(int(classes[item]), owner[item]))
    group_of = [groups.find(index) for index in range(len(graph.producers))]
    members = {}
    for index, group in enumerate(group_of):
        members.setdefault(group, []).append(index)

    flags = {group: set() for group in members}
    for index, producer in enumerate(graph.producers):
        if producer.aliases & skip:
            flags[group_of[index]].add("skipped")
    for ids, reason in graph.pins:
        for index in np.unique(owner[ids]).tolist():
            flags[group_of[index]].add(reason)
    whole = {group for group, reasons in flags.items() if reasons}
    _raise_on_refusals(graph, owner, group_of, members, whole)

    keep = np.ones(graph.size, bool)
    for group, indices in members.items():
        if group not in whole:
            share = _group_fraction(graph, indices, fraction, group_fractions or {})
            _choose_in_group(graph, indices, scores, classes, keep, share, min_channels)
    statuses, coupled = [], []
    for index in range(len(graph.producers)):
        reasons = flags[group_of[index]]
        order = ("skipped", "output", "fixed")
        statuses.append(next((reason for reason in order if reason in reasons), "pruned"))
        others = members[group_of[index]]
        coupled.append(tuple(graph.producers[k].name for k in others if k != index))
    return ChannelChoice(keep, statuses, coupled)


def _group_fraction(graph, indices, fraction, group_fractions) -> float:
    named = [
        group_fractions[alias]
        for k in indices
        for alias in sorted(graph.producers[k].aliases)
        if alias in group_fractions
    ]
    return min(named) if named else fraction


def _choose_in_group(graph, indices, scores, classes, keep, fraction, min_channels):
    ids = np.concatenate([graph.producers[k].ids for k in indices])
    normalized = []
    for k in indices:
        mean = float(np.mean(scores[k])) if scores[k].size else 0.0
        normalized.append(scores[k] / mean if mean > 0 else scores[k])
    # Classes in the order of their first channel, so ties keep the earlier channels.
    roots, first, class_of = np.unique(classes[ids], return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")
    rank_of = np.empty_like(by_first)
    rank_of[by_first] = np.arange(len(roots))
    class_of = rank_of[class_of]
    class_score = np.bincount(class_of, weights=np.concatenate(normalized), minlength=len(roots))
    count = len(roots)
    wanted = min(count, max(min_channels, count - int(round(fraction * count))))
    kept = np.zeros(count, bool)
    kept[np.argsort(-class_score, kind="stable")[:wanted]] = True
    start = 0
    for k in indices:  # a producer with few classes of its own still keeps min_channels
        own = class_of[start : start + len(graph.producers[k].ids)]
        start += len(own)
        missing = min(min_channels, len(own)) - int(np.sum(kept[own]))
        if missing > 0:
            candidates = own[~kept[own]]
            best = candidates[np.argsort(-class_score[candidates], kind="stable")]
            kept[best[:missing]] = True
    keep[ids] = kept[class_of]


def _raise_on_refusals(graph, owner, group_of, members, whole):
    for refusal in graph.refusals:
        owners = sorted(set(owner[refusal.ids].tolist()))
        touched = {group_of[k] for k in owners} - whole
        if not touched:
            continue
        producer = graph.producers[next(k for k in owners if group_of[k] in touched)]
        skip = sorted(graph.producers[k].name for group in touched for k in members[group])
        layer = refusal.layer
        raise InvalidValueError(
            f"prune_channels cannot follow the channels of layer {producer.name!r} through "
            f"layer {layer.name!r} ({type(layer).__name__}): {refusal.reason}. Expected "
            "Conv/Dense layers joined by per-channel layers (BatchNormalization, "
            "activations, dropout, pooling, depthwise convs, Flatten), elementwise merges "
            f"(Add, Multiply...) or a channel Concatenate. Pass skip_layers={skip} to leave "
            "them unpruned."
        )
