"""`distill`: train a thinner student from a teacher, export both to int8, measure both."""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import keras

from kerasopt.compress.accuracy_budget import epochs_for_steps
from kerasopt.compress.distillation import build_distiller, compile_distiller, output_kind
from kerasopt.compress.distillation_report import DistillationReport, MeasuredModel
from kerasopt.compress.width_student import pruned_student, width_student
from kerasopt.core.atomic import (
    write_report_files,
)
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.locking import output_lock
from kerasopt.core.validation import (
    check_float,
    check_fraction,
    check_positive_int,
    check_seed,
    check_type,
    invalid_type,
    invalid_value,
)
from kerasopt.data.pipeline import make_dataset
from kerasopt.data.splits import DatasetSplits
from kerasopt.data.validation import check_arrays
from kerasopt.export import measure_int8
from kerasopt.export.model_files import write_model_files
from kerasopt.models.mirror_averaging import classifier_inside
from kerasopt.schedules import WarmupCosine
from kerasopt.training.fit_state import build_fit_state

#: Where a width student starts: the teacher's channels, or fresh weights.
STUDENT_INITS = ("teacher", "random")
#: The fewest epochs `default_distill_epochs` gives.
MIN_EPOCHS = 20
#: The fewest optimizer steps `default_distill_epochs` gives.
MIN_STEPS = 2_400
#: Share of the steps spent warming the learning rate up.
WARMUP_FRACTION = 0.1
logger = logging.getLogger(__name__)


def default_distill_epochs(train_samples: int, batch_size: int = 32) -> int:
    """Epochs of `distill` when `epochs=None`: at least `MIN_EPOCHS` and `MIN_STEPS` steps.

    A small student learns the teacher slowly. On digits (41 steps per epoch), a
    0.25-width student of the `kerasopt run digits` model scored 0.9750 int8 after 20
    epochs and 0.9833, 0.9917 and 0.9889 after 60 (seeds 0-2; the teacher 0.9972). On
    Fashion-MNIST (1,688 steps per epoch) 20 epochs are already 33,760 steps.

    Example:

    >>> default_distill_epochs(1293), default_distill_epochs(54_000)
    (59, 20)
    """
    return max(MIN_EPOCHS, epochs_for_steps(MIN_STEPS, train_samples, batch_size))


def distill(
    teacher: keras.Model,
    data: DatasetSplits,
    *,
    student: float | keras.Model = 0.25,
    init: str = "teacher",
    epochs: int | None = None,
    learning_rate: float = 3e-3,
    temperature: float = 4.0,
    student_loss_weight: float = 0.5,
    baseline: bool = True,
    batch_size: int = 32,
    out_dir: str | os.PathLike | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> DistillationReport:
    """Distils `teacher` into a student, exports both to int8 and measures both on LiteRT.

    The student (for a width, the teacher's own most important channels,
    `pruned_student(teacher, student)`, or with `init="random"` the same architecture
    with fresh weights, `width_student`; or a copy of the given model) trains on
    `data`'s train split with Adam and a `WarmupCosine` schedule (10% warmup), validated
    on the val split, through `build_distiller`. With `baseline` the same student (same
    initial weights, batches and schedule) trains again through the
    same loop with the teacher's term weighted 0, so the report shows what distillation
    bought. Both are converted to full-integer int8 and measured with `measure_tflite`
    on the test split, as is the teacher. Keras' Distiller leaves the models'
    regularization losses (`kernel_regularizer`) out of its loss (Keras 3.15); both
    student runs share that.

    With `out_dir` it writes `student.keras`, `student_int8.tflite`, `report.json` and
    `report.md`, each atomically, holding the folder's output lock.

    Args:
        teacher: A trained classifier (not modified; its trainable flags are restored).
        data: Dataset splits.
        student: Width multiplier in `(0, 1]`, or a `keras.Model` (copied, not
            modified). Defaults to `0.25`.
        init: Where a width student starts: `"teacher"` (its channels with the largest
            L1 norm and their weights; on the 0.25-width digits student 0.9898 int8
            mean over three seeds against 0.9833 from fresh weights) or `"random"`. A
            teacher whose channels cannot be followed starts fresh, with a warning and
            `settings["init"] = "random"`. Ignored for a `keras.Model` student.
            Defaults to `"teacher"`.
        epochs: Training epochs of each student; `None` sizes them to the data
            (`default_distill_epochs`: at least 20 epochs and 2,400 steps, so 59 on
            digits). Defaults to `None`.
        learning_rate: Peak learning rate. Defaults to `3e-3`.
        temperature: Softmax temperature of the soft targets. Defaults to `4.0`.
        student_loss_weight: Weight of the label loss in `[0, 1]`. Defaults to `0.5`.
        baseline: Also train the student on labels only. Defaults to `True`.
        batch_size: Samples per step. Defaults to `32`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        seed: Seed of the student's weights, shuffling and dropout. Defaults to `0`.
        verbose: Keras verbosity while training. Defaults to `0`.

    Example:

    >>> from kerasopt.compress.distill_student import distill
    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import load_model_safely
    >>> data = load_dataset("digits")
    >>> teacher = load_model_safely("saved_models/digits/model.keras")  # doctest: +SKIP
    >>> report = distill(teacher, data, student=0.25, out_dir="distilled")  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """
    owner = "distill"
    check_type(owner, "teacher", teacher, keras.Model, expected="a keras.Model")
    teacher = classifier_inside(teacher, owner)
    check_type(owner, "data", data, DatasetSplits, expected="DatasetSplits (load_dataset)")
    output_kind(teacher)  # one symbolic output, probabilities or logits
    if init not in STUDENT_INITS:
        raise invalid_value(
            owner, f"init in {list(STUDENT_INITS)}", f"init={init!r}", "Pass init='teacher'."
        )
    if isinstance(student, keras.Model):
        output_kind(student)
    else:
        if isinstance(student, bool) or not isinstance(student, (int, float)):
            raise invalid_type(
                owner,
                "student as a width multiplier in (0, 1] or a keras.Model",
                f"student={student!r}",
                "Pass e.g. student=0.25.",
            )
        check_float(owner, "student", student, 0, 1, closed="right", example=0.25)
    batch_size = check_positive_int(owner, "batch_size", batch_size)
    settings = {
        "student": student if not isinstance(student, keras.Model) else student.name,
        "init": init if not isinstance(student, keras.Model) else "given",
        "epochs": (
            default_distill_epochs(len(data.y_train), batch_size)
            if epochs is None
            else check_positive_int(owner, "epochs", epochs)
        ),
        "learning_rate": check_float(owner, "learning_rate", learning_rate, 0, closed="neither"),
        "temperature": check_float(owner, "temperature", temperature, 0, closed="neither"),
        "student_loss_weight": check_fraction(owner, "student_loss_weight", student_loss_weight),
        "baseline": bool(baseline),
        "batch_size": batch_size,
        "seed": check_seed(owner, seed),
    }
    data.check()
    for part in ("train", "val"):
        check_arrays(
            getattr(data, f"x_{part}"),
            getattr(data, f"y_{part}"),
            num_classes=int(teacher.output_shape[-1]),
            input_shape=tuple(teacher.inputs[0].shape[1:]),
            name=part,
        )
    lock = output_lock(out_dir, "distill") if out_dir is not None else nullcontext()
    with lock:
        report, content = _run(teacher, data, student, settings, verbose)
        if out_dir is not None:
            _write_artifacts(report, content, Path(out_dir))
    return report


def _run(teacher, data, student, settings, verbose) -> tuple[DistillationReport, bytes]:
    seed = settings["seed"]
    keras.utils.set_random_seed(seed)
    if isinstance(student, keras.Model):
        model = keras.models.clone_model(student)
        model.set_weights(student.get_weights())
    else:
        model, init = _width_student(teacher, student, settings["init"])
        settings = {**settings, "init": init}  # what the student started from
    initial = model.get_weights()
    teacher_row, _ = _measure("teacher", teacher, data)

    flags = [(layer, layer.trainable) for layer in teacher._flatten_layers(include_self=True)]
    try:
        seconds = _fit(teacher, model, data, settings, settings["student_loss_weight"], verbose)
        student_row, content = _measure("student (distilled)", model, data, seconds)
        baseline_row = None
        if settings["baseline"]:
            labels_only = keras.models.clone_model(model)
            labels_only.set_weights(initial)
            seconds = _fit(teacher, labels_only, data, settings, 1.0, verbose)
            baseline_row, _ = _measure("student (labels only)", labels_only, data, seconds)
    finally:
        for layer, trainable in flags:  # outer first: a parent's setter resets children
            layer.trainable = trainable
    report = DistillationReport(
        settings=settings,
        dataset=data.describe(),
        teacher=teacher_row,
        student=student_row,
        baseline=baseline_row,
        model=model,
    )
    logger.debug("%s", report.summary())
    return report, content


def _width_student(teacher, width, init: str) -> tuple[keras.Model, str]:
    """The student of `width` and what it starts from: `"teacher"` or `"random"`."""
    if init == "teacher":
        try:
            return pruned_student(teacher, width), "teacher"
        except InvalidValueError as error:
            warnings.warn(
                f"distill: the student starts from fresh weights: {error} Pass "
                "init='random' to choose that.",
                stacklevel=4,
            )
    return width_student(teacher, width), "random"


def _fit(teacher, student, data, settings, student_loss_weight, verbose) -> float:
    """Trains `student` through a Distiller; weight 1.0 leaves the teacher out."""
    epochs, batch_size, seed = settings["epochs"], settings["batch_size"], settings["seed"]
    total = epochs * math.ceil(len(data.y_train) / batch_size)
    schedule = WarmupCosine(
        settings["learning_rate"], total_steps=total, warmup_steps=int(total * WARMUP_FRACTION)
    )
    distiller = build_distiller(
        teacher,
        student,
        temperature=settings["temperature"],
        student_loss_weight=student_loss_weight,
    )
    compile_distiller(distiller, keras.optimizers.Adam(schedule))
    train_ds = make_dataset(data.x_train, data.y_train, batch_size=batch_size, seed=seed)
    build_fit_state(distiller, train_ds)
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    distiller.fit(
        train_ds,
        validation_data=make_dataset(data.x_val, data.y_val, batch_size=256, shuffle=False),
        epochs=epochs,
        verbose=verbose,
        shuffle=False,  # the tf.data pipeline shuffles; Keras would warn and ignore it
    )
    return time.perf_counter() - start


def _measure(role, model, data, seconds=None) -> tuple[MeasuredModel, bytes]:
    measured = measure_int8(model, data.x_train, data.x_test, data.y_test)
    row = MeasuredModel(
        role=role,
        name=model.name,
        params=int(model.count_params()),
        keras_accuracy=measured.keras_accuracy,
        tflite=measured.tflite,
        train_seconds=seconds,
    )
    return row, measured.content


def _write_artifacts(report: DistillationReport, content: bytes, out: Path) -> None:
    write_model_files(
        out, report.model, content, model_file="student.keras", int8_file="student_int8.tflite"
    )
    write_report_files(out, report.to_dict(), report.to_markdown())
    logger.debug("Wrote student.keras, student_int8.tflite, report.json, report.md to %s", out)
