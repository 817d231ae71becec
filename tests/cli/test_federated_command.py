"""`kerasopt federated`: one real Flower simulation (Ray), its report and int8 file; bad input.

This is the suite's only Ray simulation: 2 clients, 2 rounds, one actor, a tiny model.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from mnist_like_files import make_mnist_like_npz

from kerasopt.cli import ensemble_command, main


def descendants(pid: int) -> list[str]:
    """Names of the processes below `pid` (Linux /proc; empty elsewhere)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        parents[int(stat.parent.name)] = (int(text[text.rindex(")") + 2 :].split()[1]), name)
    found, frontier = [], {pid}
    while frontier:
        children = {p for p, (ppid, _) in parents.items() if ppid in frontier}
        found += [parents[p][1] for p in children]
        frontier = children
    return found


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("federated")
    make_mnist_like_npz(folder / "tiny.npz", n_train=120, n_test=30, shape=(8, 8))
    return folder


def test_federated_runs_flower_and_writes_a_full_integer_global_model(files, capsys, monkeypatch):
    import ray
    from ai_edge_litert.interpreter import Interpreter

    from kerasopt.export import find_float_parts

    def tiny_cnn():  # a local function: pickled by value to the Ray actors
        from kerasopt.models import build_cnn

        return build_cnn((8, 8), 10, filters=(4,), dense_units=16, dropout=0.0)

    # The scenario's model for a .npz is the full build_cnn; a tiny one keeps the test short.
    monkeypatch.setattr(ensemble_command, "member_builder", lambda name, data: tiny_cnn)
    out = files / "out"
    argv = ["federated", "--data", str(files / "tiny.npz"), "--clients", "2", "--rounds", "2"]
    argv += ["--strategy", "fedprox", "--mu", "0.1", "--partition", "dirichlet:1"]
    argv += ["--local-epochs", "1", "--parallel", "1", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "fedprox on 2 clients (dirichlet:1), 2 rounds" in printed and "central" in printed
    names = ("global.keras", "global_int8.tflite", "report.json", "report.md", "rounds.png")
    assert all((out / name).is_file() for name in names)
    report = json.loads((out / "report.json").read_text())
    assert report["settings"]["proximal_mu"] == 0.1 and report["settings"]["strategy"] == "fedprox"
    assert any("re-estimate the 2 BatchNormalization" in note for note in report["notes"])
    assert sum(c["samples"] for c in report["clients"]) == report["dataset"]["sizes"]["train"]
    assert sum(sum(c["classes"]) for c in report["clients"]) == 108  # 120 less validation
    rounds = report["rounds"]
    assert [r["round"] for r in rounds] == [1, 2] and all(r["sampled"] == 2 for r in rounds)
    # Both ways carry the same weights: bytes down == bytes up == 2 x one model's arrays.
    assert all(r["bytes_down"] == r["bytes_up"] > 0 for r in rounds)
    assert rounds[0]["bytes_down"] >= 2 * 4 * report["federated"]["params"]
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rounds)
    assert report["federated"]["tflite"]["full_integer"] and report["central"] is not None
    expected_gap = (
        report["central"]["tflite"]["accuracy"] - report["federated"]["tflite"]["accuracy"]
    )
    assert report["central_minus_federated_int8"] == pytest.approx(expected_gap)
    content = (out / "global_int8.tflite").read_bytes()
    assert find_float_parts(content) == []
    interpreter = Interpreter(model_content=content)
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    # The global model's Keras accuracy after round 2 is the last round's server score.
    assert report["federated"]["keras_accuracy"] == pytest.approx(rounds[-1]["accuracy"])
    assert not ray.is_initialized()
    assert not [name for name in descendants(os.getpid()) if "ray" in name.lower()]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--strategy", "fedsgd"], "Received: strategy='fedsgd'."),
        (["--partition", "dirichlet:-2"], "Received: partition='dirichlet:-2'. Pass partition="),
        (["--clients", "11"], "Received: clients=11. Pass clients <= 10, or more training data."),
        (["--clients", "10", "--partition", "dirichlet:0.001"], "Pass a larger alpha"),
    ],
    ids=["unknown_strategy", "bad_partition", "too_few_samples", "starved_client"],
)
def test_bad_values_are_one_line_errors_and_write_nothing(files, capsys, flags, expected):
    out = files / "bad"
    assert main(["federated", "--data", str(files / "tiny.npz"), *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
