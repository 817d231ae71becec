"""`kerasopt distill TEACHER.keras`: train a thinner student, export int8, compare."""

from __future__ import annotations

import argparse
from pathlib import Path

from kerasopt.cli.arguments import add_dataset_flags, add_out_flag, add_seed_flag, positive_int
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.locking import output_lock

DESCRIPTION = (
    "Distil a trained .keras classifier (the teacher) into a student: the teacher's "
    "architecture at --student WIDTH times its filters and units (started from the "
    "teacher's own most important channels unless --init random), or a STUDENT.keras. The "
    "student trains on the teacher's softened outputs and the labels (keras.distillation), "
    "and, unless --no-baseline, again on the labels only, so the report shows what the "
    "teacher bought. Teacher and students are exported to full-integer int8 TFLite and "
    "measured on LiteRT; student.keras, student_int8.tflite, report.json and report.md go "
    "to --out. TEACHER is never modified."
)


def add_parser(commands) -> None:
    """Adds `kerasopt distill`."""
    distill = commands.add_parser(
        "distill",
        help="train a smaller student from a teacher, export int8, compare both on LiteRT",
        description=DESCRIPTION,
    )
    distill.add_argument("teacher", metavar="TEACHER.keras")
    add_dataset_flags(distill, "dataset", files=True)
    distill.add_argument(
        "--student",
        default="0.25",
        metavar="WIDTH|STUDENT.keras",
        help="width multiplier in (0, 1] of the teacher's filters/units, or a .keras "
        "student with the teacher's input and output (default: 0.25)",
    )
    distill.add_argument(
        "--init",
        choices=["teacher", "random"],
        default="teacher",
        help="where a width student starts: the teacher's channels with the largest L1 norm "
        "and their weights, or fresh weights (default: teacher)",
    )
    distill.add_argument(
        "--epochs",
        type=positive_int,
        metavar="N",
        help="training epochs (default: sized to the data, at least 20 epochs and 2,400 steps: "
        "59 on digits, 20 on Fashion-MNIST)",
    )
    distill.add_argument(
        "--learning-rate",
        type=float,
        default=3e-3,
        metavar="LR",
        help="peak learning rate, warmup then cosine (default: 0.003)",
    )
    distill.add_argument(
        "--temperature",
        type=float,
        default=4.0,
        metavar="T",
        help="softmax temperature of the soft targets (default: 4.0)",
    )
    distill.add_argument(
        "--student-loss-weight",
        type=float,
        default=0.5,
        metavar="W",
        help="weight of the label loss in [0, 1]; the rest is the teacher's (default: 0.5)",
    )
    distill.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip training the student on labels only",
    )
    add_seed_flag(distill, 0, "random seed (default: 0)")
    add_out_flag(distill, "output folder", required=True)
    distill.set_defaults(handler=distill_command)


def student_argument(text: str) -> float | str:
    """`--student`: a width multiplier in `(0, 1]`, or the path of a `.keras` file.

    Raises:
        InvalidValueError: Neither.
    """
    if text.endswith(".keras"):
        return text
    try:
        width = float(text)
    except ValueError:
        width = None
    if width is None or not 0.0 < width <= 1.0:
        raise InvalidValueError(
            f"--student expects a width multiplier in (0, 1] or a STUDENT.keras file. "
            f"Received: --student {text}. Pass e.g. --student 0.25 or --student small.keras."
        )
    return width


def distill_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt distill`; returns the exit code."""
    student = student_argument(args.student)
    inputs = [args.teacher] + ([student] if isinstance(student, str) else [])
    written = Path(args.out).resolve() / "student.keras"
    if written in [Path(path).resolve() for path in inputs]:
        raise InvalidValueError(
            f"--out {args.out} would overwrite an input model ({written}); "
            "inputs are never modified. Choose another --out folder."
        )
    with output_lock(args.out, args.invocation):
        from kerasopt.compress.distill_student import distill
        from kerasopt.data import load_dataset_or_file
        from kerasopt.models import load_model_safely

        teacher = load_model_safely(args.teacher)
        if isinstance(student, str):
            student = load_model_safely(student)
        data = load_dataset_or_file(args.data, args.data_path)
        report = distill(
            teacher,
            data,
            student=student,
            init=args.init,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            temperature=args.temperature,
            student_loss_weight=args.student_loss_weight,
            baseline=args.baseline,
            out_dir=args.out,
            seed=args.seed,
            verbose=0,
        )
    print(report.table())
    print(f"\n{report.summary()}")
    print(f"Wrote student.keras, student_int8.tflite, report.json and report.md to {args.out}/")
    return 0
