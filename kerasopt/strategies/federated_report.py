"""`FederatedReport`: per-round accuracy and bytes, the int8 global model, the central model."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from kerasopt.core.atomic import atomic_path, write_report_files
from kerasopt.core.tables import markdown_table, text_table
from kerasopt.strategies.ensemble_report import MemberRow

#: Version of the `report.json` layout `FederatedReport.to_dict()` writes.
SCHEMA_VERSION = 1
#: Accuracies whose first round `FederatedReport` names.
MILESTONES = (0.9, 0.95)
_ROUND_HEADER = ["round", "clients", "test acc", "train loss", "bytes down", "bytes up"]
_MODEL_HEADER = ["model", "params", "keras acc", "litert int8 acc", "int8 bytes", "latency µs"]


@dataclasses.dataclass(frozen=True)
class RoundRow:
    """One federated round.

    Attributes:
        round: 1, 2, ...
        sampled: Clients trained in the round.
        accuracy: Test accuracy of the global model after the round (server-side).
        train_loss: The clients' final local training loss, weighted by samples.
        bytes_down: Bytes of the global weights sent to the sampled clients.
        bytes_up: Bytes of the weights the clients sent back.
    """

    round: int
    sampled: int
    accuracy: float
    train_loss: float
    bytes_down: int
    bytes_up: int

    @classmethod
    def from_result(cls, result, round: int) -> RoundRow:
        """Round `round` (from 1) of a `federated_simulation.SimulationResult`."""
        i = round - 1
        return cls(
            round,
            result.sampled[i],
            result.accuracy[round],
            result.train_loss[i],
            result.bytes_down[i],
            result.bytes_up[i],
        )


@dataclasses.dataclass(frozen=True)
class FederatedReport:
    """What `federated` returns.

    Attributes:
        settings: The arguments of the run.
        dataset: `DatasetSplits.describe()` of the data.
        clients: Per client: `samples` and the `classes` histogram of its shard.
        label_skew: `federated_partition.label_skew` of the shards (0 is IID).
        initial_accuracy: Test accuracy of the global model before round 1.
        rounds: One `RoundRow` per round.
        federated: The final global model, as Keras and as full-integer int8 on LiteRT.
        central: The same model trained centrally on the union of the shards, measured
            the same way, or `None`.
        seconds: `simulation` (Flower and Ray, start to stop), `first_round` (from the
            call to the first round's replies: Ray and the actors' start included),
            `central` (training the central model).
        notes: What a reader should know about the run.
        model: The global Keras model (not part of `to_dict()`).

    Example:

    >>> report = federated(data, clients=10, rounds=30)  # doctest: +SKIP
    >>> print(report.table())  # doctest: +SKIP
    """

    settings: dict[str, Any]
    dataset: dict[str, Any]
    clients: list[dict]
    label_skew: float
    initial_accuracy: float
    rounds: list[RoundRow]
    federated: MemberRow
    central: MemberRow | None
    seconds: dict[str, float]
    notes: list[str] = dataclasses.field(default_factory=list)
    model: Any = dataclasses.field(default=None, repr=False, compare=False)

    def first_round_at(self, accuracy: float) -> int | None:
        """The first round whose global test accuracy is `>= accuracy`, or `None`."""
        return next((r.round for r in self.rounds if r.accuracy >= accuracy), None)

    @property
    def bytes_per_round(self) -> float:
        """Mean bytes moved per round, down and up together."""
        return sum(r.bytes_down + r.bytes_up for r in self.rounds) / len(self.rounds)

    @property
    def gap(self) -> float | None:
        """Central minus federated LiteRT int8 accuracy (fraction), or `None`."""
        if self.central is None:
            return None
        return self.central.tflite.accuracy - self.federated.tflite.accuracy

    def to_dict(self) -> dict:
        """The JSON form written to `report.json`, with `schema_version`."""
        return {
            "schema_version": SCHEMA_VERSION,
            "settings": dict(self.settings),
            "dataset": self.dataset,
            "clients": list(self.clients),
            "label_skew": self.label_skew,
            "initial_accuracy": self.initial_accuracy,
            "rounds": [dataclasses.asdict(r) for r in self.rounds],
            "first_round_at": {f"{m:g}": self.first_round_at(m) for m in MILESTONES},
            "bytes_per_round": self.bytes_per_round,
            "bytes_total": sum(r.bytes_down + r.bytes_up for r in self.rounds),
            "federated": self.federated.to_dict(),
            "central": None if self.central is None else self.central.to_dict(),
            "central_minus_federated_int8": self.gap,
            "seconds": dict(self.seconds),
            "notes": list(self.notes),
        }

    def _round_cells(self) -> list[list[str]]:
        return [
            [
                str(r.round),
                str(r.sampled),
                f"{r.accuracy:.4f}",
                f"{r.train_loss:.4f}",
                f"{r.bytes_down:,}",
                f"{r.bytes_up:,}",
            ]
            for r in self.rounds
        ]

    def _model_cells(self) -> list[list[str]]:
        rows = [self.federated] + ([self.central] if self.central is not None else [])
        return [
            [
                m.role,
                f"{m.params:,}",
                f"{m.keras_accuracy:.4f}",
                f"{m.tflite.accuracy:.4f}",
                f"{m.tflite.bytes:,}",
                f"{m.tflite.latency_us:.0f}",
            ]
            for m in rows
        ]

    def summary(self) -> str:
        """One line: final int8 accuracy, rounds to the milestones, bytes, the gap."""
        reached = ", ".join(
            f">= {m:g} at round {self.first_round_at(m) or 'never'}" for m in MILESTONES
        )
        text = (
            f"{self.settings['strategy']} on {len(self.clients)} clients "
            f"({self.settings['partition']}), {len(self.rounds)} rounds: global int8 "
            f"{self.federated.tflite.accuracy:.4f} on LiteRT; test accuracy {reached}; "
            f"{self.bytes_per_round / 1e6:.2f} MB per round"
        )
        if self.gap is not None:
            text += (
                f"; central training {self.central.tflite.accuracy:.4f}, gap central - "
                f"federated {self.gap * 100:+.2f} points (int8)"
            )
        return text

    def table(self) -> str:
        """Rounds, then the two models, as aligned plain text (what the CLI prints)."""
        return "\n\n".join(
            [
                text_table(_ROUND_HEADER, self._round_cells()),
                text_table(_MODEL_HEADER, self._model_cells()),
            ]
        )

    def to_markdown(self) -> str:
        """`report.md`: settings, the partition, rounds, models, the summary and notes."""
        settings = ", ".join(f"{k}={v}" for k, v in self.settings.items())
        sizes = [c["samples"] for c in self.clients]
        notes = [f"- {note}" for note in self.notes]
        return "\n".join(
            [
                f"# kerasopt federated ({self.settings['strategy']})",
                "",
                f"Settings: {settings}. Dataset `{self.dataset['name']}`; accuracy on the "
                f"test split of {self.dataset['sizes']['test']}, measured by the server on "
                "the global model after every round.",
                "",
                f"Clients hold {min(sizes)} to {max(sizes)} training samples; label skew "
                f"{self.label_skew:.3f} (mean total-variation distance from the overall "
                f"label mix, 0 is IID). Accuracy before round 1: {self.initial_accuracy:.4f}.",
                "",
                *markdown_table(_ROUND_HEADER, self._round_cells()),
                "",
                *markdown_table(_MODEL_HEADER, self._model_cells()),
                "",
                f"{self.summary()}.",
                "",
                *(["Notes:", "", *notes, ""] if notes else []),
                "Every int8 file passed the full-integer check. Latency is the median per "
                "sample, batch 1, one thread on LiteRT.",
                "",
            ]
        )

    def plot(self, path: str | os.PathLike) -> None:
        """Writes a PNG of the global test accuracy per round (and the central level)."""
        # An explicit Agg canvas: matplotlib.use("Agg") would switch a notebook's backend.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        rounds = [0] + [r.round for r in self.rounds]
        accuracy = [self.initial_accuracy] + [r.accuracy for r in self.rounds]
        ax.plot(rounds, accuracy, marker=".", label=f"{self.settings['strategy']} (Keras)")
        if self.central is not None:
            ax.axhline(
                self.central.keras_accuracy, color="tab:gray", linestyle="--", label="central"
            )
        ax.set(xlabel="round", ylabel="test accuracy", title="Global model per round")
        ax.legend()
        fig.tight_layout()
        with atomic_path(Path(path)) as tmp:
            fig.savefig(tmp, dpi=100, format="png")

    def write(self, out_dir: str | os.PathLike) -> None:
        """Writes `report.json`, `report.md` and `rounds.png` to `out_dir`, each atomically."""
        out = write_report_files(out_dir, self.to_dict(), self.to_markdown())
        self.plot(out / "rounds.png")
