"""`run_scenario`: train -> export every TFLite variant -> verify on LiteRT -> report."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kerasopt.core.atomic import atomic_path, write_bytes_atomic
from kerasopt.scenarios.registry import get_scenario

DEFAULT_OUT_ROOT = Path("saved_models")
#: FGSM budgets of the report's robustness curve, as fractions of the input range.
ROBUSTNESS_EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1)


def run_scenario(
    name: str,
    *,
    out_dir: str | os.PathLike | None = None,
    data_path: str | os.PathLike | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    quick: bool = False,
    variants: tuple[str, ...] | None = None,
    verbose: int | str = "auto",
    compress: dict | None = None,
) -> dict:
    """Runs the whole job for a scenario and returns the report dict.

    Trains (resuming from `out_dir/_backup` if a previous run was killed), saves
    `model.keras`, converts to every TFLite variant, verifies each on the LiteRT
    interpreter against the Keras predictions (the int8 file must be full-integer),
    runs the error analysis (`kerasopt.analysis.error_analysis`: per-class metrics,
    calibration, most-confused pairs, hardest examples) on the Keras model and on every
    TFLite variant, measures an FGSM robustness curve of the Keras model, and writes
    `report.json`, `report.md`, `training_curves.png`, `confusion_matrix.png`,
    `reliability_diagram.png` and `hardest_examples.png`. Every file is written
    atomically.

    Args:
        name: Scenario name (`"digits"`, `"mnist"`, ...).
        out_dir: Output folder. Defaults to `saved_models/<name>/`.
        data_path: A local `.npz` for the Keras datasets. Defaults to `None`.
        epochs: Override the scenario's epochs. Defaults to `None`.
        seed: Override the seed. Defaults to `None`.
        quick: A short smoke run (few epochs). Defaults to `False`.
        variants: TFLite variants to export. Defaults to all four.
        verbose: Keras verbosity for training. Defaults to `"auto"`.
        compress: Keyword arguments of `kerasopt.compress.compress_model` (`{"prune":
            0.8}`, `{"channels": 0.5, "structure": None}`, ...) to compress the trained
            model as well; its artifacts go to `out_dir/compressed/` and its stages to
            `report["compression"]`. Defaults to `None`.

    Example:

    >>> from kerasopt.scenarios import run_scenario
    >>> report = run_scenario("digits", quick=True, out_dir="saved_models/quick")  # doctest: +SKIP
    >>> report["tflite"]["int8"]["accuracy"]  # doctest: +SKIP
    """
    from kerasopt.adversarial import robustness_curve
    from kerasopt.analysis import error_analysis, plot_training_curves
    from kerasopt.data import load_dataset
    from kerasopt.export import TFLITE_VARIANTS, convert_to_tflite, verify_tflite
    from kerasopt.models import build_cnn
    from kerasopt.scenarios.report import package_versions, write_report
    from kerasopt.training import train

    scenario = get_scenario(name)
    variants = tuple(variants or TFLITE_VARIANTS)
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT_ROOT / name
    out.mkdir(parents=True, exist_ok=True)
    config = scenario.train_config(quick=quick, epochs=epochs, seed=seed)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    data = load_dataset(scenario.dataset, data_path)
    timings["load_data"] = time.perf_counter() - started

    model = build_cnn(data.input_shape, data.num_classes, name=f"{name}_cnn", **scenario.model)
    result = train(model, data, config, out, verbose=verbose)
    timings["train"] = result.seconds
    if result.resumed_from_epoch:
        print(f"Resumed from epoch {result.resumed_from_epoch} (state in {out / '_backup'}).")

    keras_probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
    keras_accuracy = float((keras_probabilities.argmax(-1) == data.y_test).mean())
    with atomic_path(out / "model.keras") as tmp:
        model.save(tmp)

    tflite: dict[str, dict] = {}
    tflite_probabilities: dict[str, object] = {}
    export_seconds = verify_seconds = 0.0
    for variant in variants:
        tick = time.perf_counter()
        content = convert_to_tflite(
            model, variant, representative_data=data.x_train, seed=config.seed
        )
        write_bytes_atomic(out / f"model_{variant}.tflite", content)
        tock = time.perf_counter()
        tflite[variant] = verify_tflite(
            content,
            data.x_test,
            data.y_test,
            reference_probabilities=keras_probabilities,
            require_full_integer=variant == "int8",
            keep_probabilities=True,
        )
        tflite_probabilities[variant] = tflite[variant].pop("probabilities")
        export_seconds += tock - tick
        verify_seconds += time.perf_counter() - tock
    timings["export"] = export_seconds
    timings["verify"] = verify_seconds

    tick = time.perf_counter()
    keras_analysis = error_analysis(
        keras_probabilities,
        data.y_test,
        num_classes=data.num_classes,
        images=data.x_test,
        out_dir=out,
        title=f"{name}: Keras model, test split",
    )
    for variant, probabilities in tflite_probabilities.items():
        tflite[variant]["error_analysis"] = error_analysis(
            probabilities, data.y_test, num_classes=data.num_classes
        )
    plot_training_curves(result.history, out / "training_curves.png")
    timings["analysis"] = time.perf_counter() - tick

    tick = time.perf_counter()
    input_range = (0.0, float(scenario.model.get("input_max", 255.0)))
    robustness = {
        "model": "keras",
        "attack": "fgsm",
        "input_range": list(input_range),
        "curve": robustness_curve(
            model,
            data.x_test,
            data.y_test,
            ROBUSTNESS_EPSILONS,
            attack="fgsm",
            input_range=input_range,
        ),
    }
    timings["robustness"] = time.perf_counter() - tick
    compression = None
    if compress:
        from kerasopt.compress import compress_model

        tick = time.perf_counter()
        compressed = compress_model(model, data, **compress, out_dir=out / "compressed")
        compression = {
            key: compressed[key]
            for key in ("settings", "float32_baseline", "stages", "gzip_vs_dense_float32")
        }
        timings["compress"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started

    report = {
        "scenario": name,
        "quick": quick,
        "dataset": data.describe(),
        "model": {
            "builder": "build_cnn",
            **{k: list(v) if isinstance(v, tuple) else v for k, v in scenario.model.items()},
        },
        "train": {
            **config.to_dict(),
            "epochs_run": result.epochs_run,
            "resumed_from_epoch": result.resumed_from_epoch,
        },
        "keras": {
            "accuracy": keras_accuracy,
            "params": int(model.count_params()),
            "bytes": (out / "model.keras").stat().st_size,
            "error_analysis": keras_analysis,
        },
        "tflite": tflite,
        "confusion_matrix": keras_analysis["confusion_matrix"],
        "robustness": robustness,
        **({"compression": compression} if compression else {}),
        "timings": timings,
        "versions": package_versions(),
    }
    write_report(report, out)
    return report
