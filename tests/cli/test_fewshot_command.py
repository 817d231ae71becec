"""`kerasopt fewshot`: Reptile on digits, compared on held-out classes, one verified int8 file."""

import json

import numpy as np
import pytest

from kerasopt.cli import main

FAST = ["--meta-iterations", "3", "--inner-steps", "2", "--adapt-steps", "2"]
FAST += ["--long-adapt-steps", "3"]
FAST += ["--episodes", "2", "--pretrain-epochs", "1"]


def test_fewshot_writes_a_verified_int8_model_for_the_held_out_classes(tmp_path, capsys):
    import keras
    from ai_edge_litert.interpreter import Interpreter

    from kerasopt.data import load_dataset
    from kerasopt.export import find_float_parts

    out = tmp_path / "out"
    argv = ["fewshot", "--data", "digits", "--ways", "5", "--shots", "1", "--method", "reptile"]
    assert main([*argv, *FAST, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pretrained" in printed and "points vs scratch" in printed
    for name in ("fewshot.keras", "adapted_int8.tflite", "report.json", "report.md"):
        assert (out / name).is_file()
    report = json.loads((out / "report.json").read_text())
    assert (report["meta_classes"], report["test_classes"]) == ([0, 1, 2, 3, 4], [5, 6, 7, 8, 9])
    assert [s["method"] for s in report["scores"]] == ["reptile", "scratch", "pretrained"]
    assert all(len(s["accuracies"]) == 2 for s in report["scores"] + report["long_scores"])
    assert [s["method"] for s in report["long_scores"]] == ["reptile", "scratch", "pretrained"]
    gain = report["scores"][0]["mean_accuracy"] - report["scores"][1]["mean_accuracy"]
    assert report["gain_over_scratch"] == pytest.approx(gain)
    assert [p["method"] for p in report["phone"]] == ["reptile", "scratch", "pretrained"]
    assert all(p["tflite"]["full_integer"] for p in report["phone"])
    assert (
        report["settings"]["meta_iterations"] == 3 and report["timings"]["meta_train_seconds"] > 0
    )
    init = keras.saving.load_model(out / "fewshot.keras", safe_mode=True)
    assert init.output_shape == (None, 5)

    # The written file, run here on LiteRT, scores what the report says on held-out classes.
    content = (out / "adapted_int8.tflite").read_bytes()
    assert find_float_parts(content) == []
    held_out = load_dataset("digits").select_classes([5, 6, 7, 8, 9])
    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()
    scale, zero = inp["quantization"]
    predicted = []
    for image in held_out.x_test:
        q = np.round(np.asarray(image, "float32") / scale + zero)
        q = np.clip(q, -128, 127).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], q.reshape(inp["shape"]))
        interpreter.invoke()
        predicted.append(int(np.argmax(interpreter.get_tensor(outp["index"]))))
    accuracy = float(np.mean(np.array(predicted) == held_out.y_test))
    assert report["phone"][0]["tflite"]["accuracy"] == pytest.approx(accuracy)
    assert report["phone"][0]["tflite"]["samples"] == len(held_out.y_test)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--ways", "6"], "Received: ways=6 with 10 classes in 'digits'. Pass --ways 5 or fewer"),
        (["--shots", "40"], "Received: shots=40. Pass --shots"),
        (["--method", "maml"], "Received: method='maml'."),
        (["--test-classes", "5-x"], "Received: --test-classes 5-x."),
    ],
    ids=["too_many_ways", "too_many_shots", "unknown_method", "bad_class_list"],
)
def test_bad_values_are_one_line_errors_and_write_nothing(tmp_path, capsys, flags, expected):
    out = tmp_path / "bad"
    assert main(["fewshot", "--data", "digits", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
