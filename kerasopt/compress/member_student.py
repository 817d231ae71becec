"""`member_student`: the student an ensemble distils into, started from its best member."""

from __future__ import annotations

import dataclasses
import warnings

import keras

from kerasopt.compress.accuracy_budget import validation_accuracy
from kerasopt.compress.width_student import pruned_student, width_student
from kerasopt.core.validation import (
    InvalidValueError,
    check_float,
    check_type,
    check_validation_split,
    invalid_value,
)


@dataclasses.dataclass(frozen=True)
class MemberStudent:
    """What `member_student` returns.

    Attributes:
        model: The student (not compiled).
        member: Name of the member it started from, or `None` when it starts from fresh
            weights because that member's channels cannot be followed.
        template: Name of the member whose architecture it thins.
        val_accuracies: Each member's validation accuracy, by name.
        width: The width multiplier; at `1` the student is a copy of `member`.
    """

    model: keras.Model
    member: str | None
    template: str
    val_accuracies: dict[str, float]
    width: float

    def describe(self) -> str:
        """One line on where the student starts, e.g. for the CLI."""
        score = self.val_accuracies[self.template]
        if self.member is None:
            return f"fresh weights in {self.template}'s architecture (validation {score:.4f})"
        if self.width == 1:
            return f"a copy of {self.member} (its validation accuracy {score:.4f})"
        return f"{self.member}'s strongest channels (its validation accuracy {score:.4f})"


def member_student(
    ensemble: keras.Model, data, width: float, *, name: str = "student"
) -> MemberStudent:
    """A `width` student of `ensemble`'s best member, started from that member's channels.

    An ensemble (`kerasopt.strategies.combine_members`) holds its members as nested
    models. The one with the highest validation accuracy (the first on a tie) is thinned by
    `pruned_student`: every layer keeps its filters and units with the largest L1 norm.
    A member whose channels cannot be followed gives `width_student`'s fresh weights
    instead, with a warning. The ensemble is not modified.

    Args:
        ensemble: A model with at least one nested `keras.Model` (its members).
        data: `DatasetSplits` with `x_val` and `y_val`, to rank the members.
        width: Width multiplier in `(0, 1]`.
        name: Name of the student. Defaults to `"student"`.

    Returns:
        A `MemberStudent`; distil into its `model` with `distill(ensemble, data,
        student=start.model)`.

    Example:

    >>> start = member_student(report.model, data, 0.5)  # doctest: +SKIP
    >>> start.describe()  # doctest: +SKIP
    "member_3's strongest channels (its validation accuracy 0.9861)"
    """
    owner = "member_student"
    check_type(owner, "ensemble", ensemble, keras.Model, expected="a keras.Model")
    width = check_float(owner, "width", width, 0, 1, closed="right", example=0.5)
    members = [layer for layer in ensemble.layers if isinstance(layer, keras.Model)]
    if not members:
        raise invalid_value(
            owner,
            "an ensemble holding its members as nested models",
            f"model {ensemble.name!r} without a nested keras.Model",
            "Pass the model kerasopt.strategies.ensemble returns (report.model), or "
            "distil into width_student(member, width).",
        )
    check_validation_split(owner, data)
    scores = {member.name: validation_accuracy(member, data) for member in members}
    best = max(members, key=lambda member: scores[member.name])
    try:
        student = pruned_student(best, width, name=name)
        start = best.name
    except InvalidValueError as error:  # the width is checked: channels it cannot follow
        warnings.warn(
            f"member_student: {error} The student starts from fresh weights.", stacklevel=2
        )
        student, start = width_student(best, width, name=name), None
    return MemberStudent(student, start, best.name, scores, width)
