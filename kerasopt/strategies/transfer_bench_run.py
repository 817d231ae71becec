"""`transfer_bench`: transfer against scratch at several counts of labelled images per class.

One dataset is split by class into a source task and a target task. A residual CNN
(`build_residual_cnn`) trains on the source classes with `kerasopt.training.train`; then
for each count of labelled target images per class and each seed, `transfer` fine-tunes
it on the target classes and trains the same architecture from scratch on the same
images, and both are measured as full-integer int8 on LiteRT.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from kerasopt.core.atomic import atomic_path, write_text_atomic
from kerasopt.core.locking import output_lock
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.core.validation import check_int, check_positive_int, check_seed, invalid_value
from kerasopt.data.splits import DatasetSplits
from kerasopt.strategies.transfer_model import backbone_view, tunable_layers
from kerasopt.strategies.transfer_report import TransferReport
from kerasopt.strategies.transfer_run import select_target, transfer

#: The gain (LiteRT int8 accuracy points) the bench is judged by, at the fewest labels.
TARGET_GAIN_POINTS = 10.0
_HEADER = ["per class", "seed", "transfer keras", "transfer int8", "scratch keras"]
_HEADER += ["scratch int8", "gain (points)", "int8 bytes", "transfer s", "scratch s"]


@dataclasses.dataclass(frozen=True)
class TransferBenchReport:
    """What `transfer_bench` returns.

    Attributes:
        settings: The arguments of the run.
        source: The source model's classes, test accuracy, epochs and seconds.
        runs: `(per_class, seed, TransferReport)` for every run.
    """

    settings: dict[str, Any]
    source: dict[str, Any]
    runs: list[tuple[int, int, TransferReport]]

    def mean_gain(self, per_class: int) -> float:
        """Mean int8 gain in points over the seeds at `per_class`."""
        return float(np.mean([r.gain * 100 for n, _, r in self.runs if n == per_class]))

    def summary(self) -> str:
        """One line: the mean gain at each count, judged at the fewest labels."""
        counts = sorted({n for n, _, _ in self.runs})
        gains = ", ".join(f"{n}/class {self.mean_gain(n):+.2f}" for n in counts)
        fewest = self.mean_gain(counts[0])
        verdict = "met" if fewest >= TARGET_GAIN_POINTS else "missed"
        return (
            f"transfer - scratch, LiteRT int8 points (mean over seeds): {gains}; target "
            f">= {TARGET_GAIN_POINTS:.0f} at {counts[0]}/class {verdict}"
        )

    def _cells(self) -> list[list[str]]:
        cells = []
        for n, seed, r in self.runs:
            t, s = r.transfer, r.scratch
            cells.append(
                [
                    str(n),
                    str(seed),
                    f"{t.keras_accuracy:.4f}",
                    f"{t.tflite.accuracy:.4f}",
                    f"{s.keras_accuracy:.4f}",
                    f"{s.tflite.accuracy:.4f}",
                    f"{r.gain * 100:+.2f}",
                    f"{t.tflite.bytes:,}",
                    f"{t.seconds:.1f}",
                    f"{s.seconds:.1f}",
                ]
            )
        return cells

    def table(self) -> str:
        """Every run as aligned plain text."""
        return text_table(_HEADER, self._cells())

    def to_dict(self) -> dict:
        """The JSON form written to `transfer_bench.json`."""
        runs = [{"per_class": n, "seed": s, **r.to_dict()} for n, s, r in self.runs]
        counts = sorted({n for n, _, _ in self.runs})
        gains = {str(n): self.mean_gain(n) for n in counts}
        return {**self.settings, "source": self.source, "mean_gain_points": gains, "runs": runs}

    def to_markdown(self) -> str:
        """`transfer_bench.md`: settings, the source model, the table and the summary."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        src = self.source
        return "\n".join(
            [
                "# kerasopt bench transfer",
                "",
                f"Settings: {settings}.",
                "",
                f"Source: classes {src['classes']}, {src['train_samples']} training images, "
                f"{src['epochs']} epochs in {src['seconds']:.0f} s, Keras test accuracy "
                f"{src['test_accuracy']:.4f} on the source classes.",
                "",
                *markdown_table(_HEADER, self._cells()),
                "",
                f"{self.summary()}.",
                "",
            ]
        )


def transfer_bench(
    data: DatasetSplits,
    *,
    source_classes=(0, 1, 2, 3, 4),
    target_classes=(5, 6, 7, 8, 9),
    per_class=(10, 50, 100),
    seeds=(0,),
    source_epochs: int = 3,
    widths=(20, 40, 80),
    head_epochs: int = 20,
    fine_tune_epochs: int = 10,
    unfreeze: int = 2,
    out_dir: str | os.PathLike | None = None,
    verbose: int = 0,
) -> TransferBenchReport:
    """Trains a source model on `source_classes`, then transfer vs scratch per count.

    The cut is the source model's last feature map (`stage{N}_relu`, before its pooled
    head). With `out_dir`, `source.keras`, one `transfer()` folder per run
    (`per_class_10_seed_0/`: `transfer.keras`, `transfer_int8.tflite`, reports) and
    `transfer_bench.json` / `transfer_bench.md` are written.

    Args:
        data: A dataset holding both tasks' classes.
        source_classes: Class ids of the source task. Defaults to `(0, 1, 2, 3, 4)`.
        target_classes: Class ids of the target task. Defaults to `(5, 6, 7, 8, 9)`.
        per_class: Labelled target images per class, one run each. Defaults to
            `(10, 50, 100)`.
        seeds: Seeds of the target runs. Defaults to `(0,)`.
        source_epochs: Epochs of the source model. Defaults to `3`.
        widths: `build_residual_cnn` widths of the source model. Defaults to
            `(20, 40, 80)`.
        head_epochs: `transfer`'s phase 1 epochs. Defaults to `20`.
        fine_tune_epochs: `transfer`'s phase 2 epochs. Defaults to `10`.
        unfreeze: `transfer`'s unfrozen layers. Defaults to `2`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        verbose: Keras verbosity. Defaults to `0`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> report = transfer_bench(load_dataset("fashion_mnist"))  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """
    from kerasopt.models import build_residual_cnn
    from kerasopt.training import TrainConfig, train

    owner = "transfer_bench"
    source_classes, target_classes = list(source_classes), list(target_classes)
    overlap = sorted(set(source_classes) & set(target_classes))
    if overlap:
        raise invalid_value(
            owner,
            "source and target classes to be disjoint",
            f"both hold {overlap}",
            "Pass e.g. source_classes=0-4 and target_classes=5-9.",
        )
    counts = sorted({check_positive_int(owner, "per_class", n, example=10) for n in per_class})
    seeds = [check_seed(owner, s) for s in seeds] or [0]
    source_epochs = check_positive_int(owner, "source_epochs", source_epochs, example=3)
    source_data = select_target(data, source_classes)
    for seed in seeds:  # every bad count or class fails here, before any training
        select_target(data, target_classes, counts[-1], seed)
    input_max = max(float(np.max(data.x_train)), 1.0)
    model = build_residual_cnn(
        data.input_shape, len(source_classes), input_max=input_max, widths=widths, bn_momentum=0.9
    )
    cut = f"stage{len(widths) - 1}_relu"
    head_epochs = check_positive_int(owner, "head_epochs", head_epochs, example=20)
    fine_tune_epochs = check_int(owner, "fine_tune_epochs", fine_tune_epochs, 0, example=10)
    tunable = len(tunable_layers(backbone_view(model, cut)))
    unfreeze = check_int(owner, "unfreeze", unfreeze, 0, tunable, example=min(2, tunable))
    settings = {"data": data.name, "source_classes": source_classes}
    settings |= {"target_classes": target_classes, "per_class": counts, "seeds": seeds}
    settings |= {"source_epochs": source_epochs, "widths": list(widths), "cut": cut}
    settings |= {"head_epochs": head_epochs, "fine_tune_epochs": fine_tune_epochs}
    settings |= {"unfreeze": unfreeze}
    out = Path(out_dir) if out_dir is not None else None
    with output_lock(out, "transfer bench") if out is not None else nullcontext():
        start = time.perf_counter()
        config = TrainConfig(
            epochs=source_epochs,
            batch_size=64,
            augment=None,
            early_stopping_patience=None,
            checkpoint=False,
            seed=seeds[0],
        )
        train(model, source_data, config, verbose=verbose)
        seconds = time.perf_counter() - start
        predicted = np.argmax(model.predict(source_data.x_test, batch_size=256, verbose=0), -1)
        source = {
            "classes": source_classes,
            "train_samples": len(source_data.y_train),
            "epochs": source_epochs,
            "seconds": seconds,
            "test_accuracy": float(np.mean(predicted == source_data.y_test)),
        }
        if out is not None:
            with atomic_path(out / "source.keras") as tmp:
                model.save(tmp)
        runs = []
        for n in counts:
            for seed in seeds:
                report = transfer(
                    model,
                    data,
                    cut=cut,
                    classes=target_classes,
                    per_class=n,
                    head_epochs=head_epochs,
                    fine_tune_epochs=fine_tune_epochs,
                    unfreeze=unfreeze,
                    seed=seed,
                    out_dir=None if out is None else out / f"per_class_{n}_seed_{seed}",
                    verbose=verbose,
                )
                runs.append((n, seed, report))
        bench = TransferBenchReport(settings, source, runs)
        if out is not None:
            text = json.dumps(bench.to_dict(), indent=2, default=str)
            write_text_atomic(out / "transfer_bench.json", text)
            write_text_atomic(out / "transfer_bench.md", bench.to_markdown())
    return bench
