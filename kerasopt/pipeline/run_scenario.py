"""`run_scenario`: load -> build -> train -> export -> verify on LiteRT -> report.

One pipeline for every scenario, images and text, built-in or registered by a user: what
differs between them is declared in their `Scenario` (loader, builder, recipe, export
plan, sections), never asked here.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import keras
import numpy as np

from kerasopt.adversarial import robustness_curve
from kerasopt.analysis import error_analysis, plot_training_curves
from kerasopt.compress import compress_model
from kerasopt.core.atomic import atomic_path
from kerasopt.core.errors import InvalidValueError
from kerasopt.core.locking import output_lock
from kerasopt.core.process_memory import peak_resident_memory_mb
from kerasopt.models import mirror_average
from kerasopt.models.mirror_averaging import check_mirrorable
from kerasopt.pipeline.run_report import (
    KerasResult,
    Robustness,
    RunReport,
    TFLiteResult,
    package_versions,
)
from kerasopt.scenarios import Scenario, SectionContext, get_scenario, scenario_names
from kerasopt.training import check_strategy, train

DEFAULT_OUT_ROOT = Path("saved_models")
#: FGSM budgets of the report's robustness curve, as fractions of the input range.
ROBUSTNESS_EPSILONS = (0.0, 0.01, 0.02, 0.05, 0.1)

logger = logging.getLogger(__name__)


def run_scenario(
    scenario: str | Scenario,
    *,
    out_dir: str | os.PathLike | None = None,
    data_path: str | os.PathLike | None = None,
    model: str | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    quick: bool = False,
    verbose: int | str = "auto",
    compress: dict | None = None,
    data_options: dict | None = None,
    augment=None,
    strategy: str | None = None,
    precision: str | None = None,
    batch_norm: str | None = None,
    train_on_validation: bool | None = None,
    mirror_average: bool | None = None,
) -> RunReport:
    """Runs the whole job of a scenario and returns its `RunReport`.

    Holds an exclusive lock on `out_dir` for the whole run (a second run on the same
    folder fails at once), loads the data, builds the model (weights seeded), trains it
    (resuming from `out_dir/_backup` if a previous run was killed), saves `model.keras`,
    runs the scenario's export plan (each TFLite file measured once on LiteRT against
    the Keras outputs), runs the error analysis (`kerasopt.analysis.error_analysis`) on
    the Keras model and on every TFLite file, measures an FGSM robustness curve when
    the scenario has an input range, adds the scenario's report sections, compresses
    the model when asked, and writes `report.json`, `report.md` and the plots, each
    atomically.

    Args:
        scenario: A registered scenario's name (`"digits"`, `"imdb"`, ...) or a
            `Scenario`.
        out_dir: Output folder. Defaults to `saved_models/<name>/`, or
            `saved_models/<name>_<model>/` for a scenario with several models.
        data_path: Passed to the scenario's loader (`--data`). Defaults to `None`.
        model: One of the scenario's `models`. Defaults to its first.
        epochs: Override the recipe's epochs. Defaults to `None`.
        seed: Override the recipe's seed. Defaults to `None`.
        quick: Apply the scenario's `quick` overrides (a smoke run). Defaults to `False`.
        verbose: Keras verbosity for training. Defaults to `"auto"`.
        compress: Keyword arguments of `kerasopt.compress.compress_model` (`{"prune":
            0.8}`, `{"channels": 0.5}`, ...) to compress the trained model as well; its
            artifacts go to `out_dir/compressed/`. Only for a `compressible` scenario.
            Defaults to `None`.
        data_options: Options of the scenario's loader (`{"sequence_length": 64}`).
            Defaults to `None`.
        augment: A batch function `(x, y) -> (x, y)` used instead of the recipe's
            augmentation, e.g. a `kerasopt.text.TextAugmentation`. Defaults to `None`.
        strategy: `"mirrored"` to train data-parallel over every GPU (or logical CPU
            device, `kerasopt.training.split_cpu`); the recipe's batch size is then per
            replica. `"multiworker"` is refused (keras-team/keras#20585). Defaults to
            `None`.
        precision: Override the recipe's `TrainConfig.precision` (`"float32"`,
            `"mixed_bfloat16"` or `"auto"`). Defaults to `None`.
        batch_norm: Override the recipe's `TrainConfig.batch_norm` (`"fused"` or
            `"keras"`). Defaults to `None`.
        train_on_validation: Override the recipe's `TrainConfig.train_on_validation`:
            `True` fits on the training and validation splits together (and turns early
            stopping off, since nothing is held out); `False` holds validation out.
            Compression measures its accuracy budget on validation: with `compress`,
            `None` holds the split out and `True` is refused. Defaults to `None`.
        mirror_average: Wrap the trained image classifier in
            `kerasopt.models.mirror_average`, so that `model.keras` and every TFLite
            file average the output over each image and its left-right mirror (no new
            weights, twice the inference arithmetic); `None` follows the scenario
            (`Scenario.mirror_average`). Compression starts from the model itself.
            Defaults to `None`.

    Example:

    >>> from kerasopt.pipeline import run_scenario
    >>> report = run_scenario("digits", quick=True, out_dir="saved_models/quick")  # doctest: +SKIP
    >>> report.tflite["int8"].metrics.accuracy  # doctest: +SKIP
    0.9861
    """
    check_strategy(strategy)
    if not isinstance(scenario, Scenario):
        scenario = get_scenario(scenario)
    model_name = scenario.check_model(model)
    options = scenario.check_data_options(data_options or {}, model=model_name)
    if compress and not scenario.compressible:
        compressible = [n for n in scenario_names() if get_scenario(n).compressible]
        raise InvalidValueError(
            f"Scenario {scenario.name!r} cannot be compressed. Received: compress={compress}. "
            f"Compress a scenario among {compressible}, or drop the compression options."
        )
    if mirror_average is None:
        mirror_average = model_name in scenario.mirror_average
    out = Path(out_dir) if out_dir is not None else default_out_dir(scenario, model_name)
    config = run_train_config(
        scenario,
        model_name,
        quick=quick,
        epochs=epochs,
        seed=seed,
        precision=precision,
        batch_norm=batch_norm,
        train_on_validation=train_on_validation,
        compress=compress,
    )
    with output_lock(out, f"kerasopt run {scenario.name}"):
        return _run(
            scenario,
            model_name,
            out,
            config,
            data_path,
            options,
            quick,
            verbose,
            compress,
            augment,
            strategy,
            mirror_average,
        )


def run_train_config(
    scenario: Scenario,
    model_name: str,
    *,
    quick: bool = False,
    epochs: int | None = None,
    seed: int | None = None,
    precision: str | None = None,
    batch_norm: str | None = None,
    train_on_validation: bool | None = None,
    compress: dict | None = None,
):
    """The `TrainConfig` `run_scenario` trains with: the recipe and the run's overrides.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> fashion = get_scenario("fashion_mnist")
    >>> config = run_train_config(fashion, "residual", compress={"prune": 0.8})
    >>> config.train_on_validation  # compression's budget needs validation held out
    False
    """
    config = scenario.train_config(quick=quick, model=model_name, epochs=epochs, seed=seed)
    if precision is not None:
        config = config.replace(precision=precision)
    if batch_norm is not None:
        config = config.replace(batch_norm=batch_norm)
    if train_on_validation is None and compress and config.train_on_validation:
        # The recipe's final fit on validation gives way to compression's budget.
        logger.info("Validation held out: compression measures its accuracy budget there.")
        train_on_validation = False
    if train_on_validation is not None:
        changes = {"train_on_validation": bool(train_on_validation)}
        if train_on_validation:
            changes["early_stopping_patience"] = None
        config = config.replace(**changes)
    if compress and config.train_on_validation:
        raise InvalidValueError(
            f"Scenario {scenario.name!r} trains on its validation split "
            "(TrainConfig.train_on_validation=True), and compression measures its accuracy "
            f"budget there. Received: compress={compress}. Hold the split out with "
            "--no-train-on-validation (Python: train_on_validation=False), or compress "
            "model.keras afterwards with `kerasopt compress`."
        )
    return config


def default_out_dir(scenario: Scenario, model: str) -> Path:
    """`saved_models/<name>`, or `saved_models/<name>_<model>` when it has several models.

    Example:

    >>> from kerasopt.scenarios import get_scenario
    >>> str(default_out_dir(get_scenario("imdb"), "bow"))
    'saved_models/imdb_bow'
    """
    name = scenario.name if len(scenario.models) == 1 else f"{scenario.name}_{model}"
    return DEFAULT_OUT_ROOT / name


def _run(
    scenario,
    model_name,
    out,
    config,
    data_path,
    options,
    quick,
    verbose,
    compress,
    augment,
    strategy,
    mirror,
) -> RunReport:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    data = scenario.load_data(data_path, seed=config.seed, **options)
    splits = data.splits
    timings["load_data"] = time.perf_counter() - started

    keras.utils.set_random_seed(config.seed)
    net = scenario.build_model(data, model_name)
    if mirror:
        check_mirrorable(net)  # a model without an image input fails before it trains
    # Built outside any strategy scope: `train` trains a mirrored copy and copies the
    # weights back, so export and analysis see a plain model.
    result = train(net, splits, config, out, verbose=verbose, augment=augment, strategy=strategy)
    timings["train"] = result.seconds
    if result.resumed_from_epoch:
        logger.info(
            "Resumed from epoch %d (state in %s).", result.resumed_from_epoch, out / "_backup"
        )
    trained = net  # what compression starts from
    if mirror:
        net = mirror_average(net)
    keras_probabilities = net.predict(splits.x_test, batch_size=256, verbose=0)
    with atomic_path(out / "model.keras") as tmp:
        net.save(tmp)

    exported = scenario.export.export(
        net, data, out, seed=config.seed, reference_probabilities=keras_probabilities
    )
    timings["export"] = sum(e.convert_seconds for e in exported)
    timings["verify"] = sum(e.measure_seconds for e in exported)

    tick = time.perf_counter()
    keras_analysis = error_analysis(
        keras_probabilities,
        splits.y_test,
        num_classes=splits.num_classes,
        images=_images_or_none(splits.x_test),
        class_names=splits.class_names,
        out_dir=out,
        title=f"{scenario.name}: Keras model, test split",
    )
    tflite = {
        e.variant: TFLiteResult(
            e,
            error_analysis(
                e.metrics.probabilities,
                splits.y_test,
                num_classes=splits.num_classes,
                class_names=splits.class_names,
            ),
        )
        for e in exported
    }
    plot_training_curves(result.history, out / "training_curves.png")
    timings["analysis"] = time.perf_counter() - tick

    robustness = None
    if scenario.input_range is not None:
        tick = time.perf_counter()
        low, high = (float(v) for v in scenario.input_range)
        curve = robustness_curve(
            net,
            splits.x_test,
            splits.y_test,
            ROBUSTNESS_EPSILONS,
            attack="fgsm",
            input_range=(low, high),
        )
        robustness = Robustness("fgsm", (low, high), curve)
        timings["robustness"] = time.perf_counter() - tick

    tick = time.perf_counter()
    context = SectionContext(
        scenario.name, model_name, net, data, out, keras_probabilities, tuple(exported)
    )
    sections = {}
    for make_section in scenario.sections:
        section = make_section(context)
        sections[section.name] = section
    timings["sections"] = time.perf_counter() - tick

    compression = None
    if compress:
        tick = time.perf_counter()
        compression = compress_model(trained, splits, **compress, out_dir=out / "compressed")
        timings["compress"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started

    report = RunReport(
        scenario=scenario.name,
        quick=quick,
        dataset={**splits.describe(), **data.details},
        model=scenario.describe_model(model_name),
        train={
            **config.to_dict(),
            "epochs_run": result.epochs_run,
            "resumed_from_epoch": result.resumed_from_epoch,
            "batch_augment": _augment_config(augment),
            "strategy": result.strategy,
            "replicas": result.replicas,
            "global_batch_size": result.global_batch_size,
            "batch_norm_recalibrated": result.batch_norm_recalibrated,
            "precision_used": result.precision,
            "batch_norm_fused": result.batch_norm_fused,
            "mirror_average": bool(mirror),
            "stage_results": [stage.to_dict() for stage in result.stages],
        },
        keras=KerasResult(
            accuracy=float(np.mean(keras_probabilities.argmax(-1) == splits.y_test)),
            params=int(net.count_params()),
            bytes=(out / "model.keras").stat().st_size,
            error_analysis=keras_analysis,
        ),
        tflite=tflite,
        robustness=robustness,
        sections=sections,
        timings=timings,
        resources={"peak_rss_mb": round(peak_resident_memory_mb(), 1)},
        versions=package_versions(),
        out_dir=out,
        compression=compression,
    )
    report.write(out)
    return report


def _images_or_none(x: np.ndarray) -> np.ndarray | None:
    """`x` when its samples are pictures (for the hardest-examples grid), else `None`."""
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (1, 3, 4)):
        return x
    return None


def _augment_config(augment) -> dict | str | None:
    if augment is None:
        return None
    return augment.get_config() if hasattr(augment, "get_config") else repr(augment)
