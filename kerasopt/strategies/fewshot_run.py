"""`fewshot`: meta-train with Reptile, score K-way S-shot held-out episodes, export int8."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import nullcontext

import keras
import numpy as np

from kerasopt.core.locking import output_lock
from kerasopt.core.validation import (
    check_float,
    check_option,
    check_positive_int,
    check_seed,
    check_type,
)
from kerasopt.data.splits import DatasetSplits
from kerasopt.export import measure_int8
from kerasopt.export.model_files import write_model_files
from kerasopt.strategies.fewshot_episodes import (
    CLASS_AUGMENTATIONS,
    EpisodeSampler,
    augment_classes,
)
from kerasopt.strategies.fewshot_evaluation import (
    FEWSHOT_BASELINES,
    evaluate_initializations,
    pretrain_body,
    with_new_head,
)
from kerasopt.strategies.fewshot_report import FewShotReport, PhoneRow
from kerasopt.strategies.fewshot_reptile import ADAPT_OPTIMIZERS, TaskAdapter, reptile_meta_train
from kerasopt.strategies.fewshot_task import check_fewshot, fewshot_builder

#: Adam's learning rate for the pre-trained baseline's ordinary supervised training.
PRETRAIN_LEARNING_RATE = 1e-3
_OWNER = "fewshot"


def fewshot(
    data: DatasetSplits,
    *,
    ways: int = 5,
    shots: int = 1,
    method: str = "reptile",
    meta_classes=None,
    test_classes=None,
    meta_iterations: int = 2000,
    inner_steps: int = 5,
    train_shots: int = 10,
    meta_step: float = 1.0,
    class_augmentation: str = "dihedral",
    adapt_steps: int = 5,
    long_adapt_steps: int | None = 50,
    optimizer: str = "sgd",
    learning_rate: float = 0.1,
    episodes: int = 100,
    queries: int = 15,
    pretrain_epochs: int = 10,
    build_model: Callable[[int], keras.Model] | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    latency_runs: int = 100,
) -> FewShotReport:
    """Meta-trains an initialisation with Reptile and scores it on held-out few-shot tasks.

    1. **Split**: meta-train classes and held-out classes (`split_classes`).
    2. **Meta-train**: Reptile on `ways`-way tasks of `train_shots` images per class drawn
       from the meta-train training images (each class and its rotations and mirror
       images, `augment_classes`), `inner_steps` optimizer steps per task.
    3. **Baselines**: the same architecture from its random init ("scratch"), and one
       pre-trained on all meta-train classes for `pretrain_epochs` epochs with a fresh
       `ways`-unit head ("pretrained").
    4. **Score**: `episodes` held-out episodes of the test split (`shots` support +
       `queries` query images per class); each start adapts `adapt_steps` steps on the
       support set and is scored on the queries; again with `long_adapt_steps`, so a
       start that only adapts faster is told apart from one that ends better.
    5. **Phone**: each start adapts on `shots` training images per held-out class and is
       exported to full-integer int8 and measured on LiteRT on every held-out test image
       (`measure_int8`). With `out_dir`, `fewshot.keras` (the meta-learned init),
       `adapted_int8.tflite` (the adapted Reptile model), `report.json` and `report.md`
       are written atomically under the folder's output lock.

    Every argument is checked before anything trains or is written.

    Args:
        data: Dataset splits with at least `2 * ways` classes.
        ways: Classes per task, `K`. Defaults to `5`.
        shots: Support images per class at test time, `S`. Defaults to `1`.
        method: `"reptile"`. Defaults to `"reptile"`.
        meta_classes: Class ids to meta-train on, or `None` for the first half.
            Defaults to `None`.
        test_classes: Held-out class ids, or `None` for the rest. Defaults to `None`.
        meta_iterations: Reptile outer steps. Defaults to `2000`.
        inner_steps: Optimizer steps per meta-training task. Defaults to `5`.
        train_shots: Images per class of a meta-training task. Defaults to `10`.
        meta_step: Outer step size at the start, annealed linearly to 0. Defaults to `1.0`.
        class_augmentation: `"dihedral"` or `"none"` (see `augment_classes`). Defaults
            to `"dihedral"`.
        adapt_steps: Adaptation steps on a support set, the same for every method.
            Defaults to `5`.
        long_adapt_steps: A second, longer adaptation scored on the same episodes, or
            `None` to skip it. Defaults to `50`.
        optimizer: `"sgd"` or `"adam"` (`TaskAdapter`), for meta-training tasks and every
            method's adaptation. Defaults to `"sgd"`.
        learning_rate: Its learning rate. Defaults to `0.1`.
        episodes: Held-out episodes scored. Defaults to `100`.
        queries: Query images per class of an episode. Defaults to `15`.
        pretrain_epochs: Epochs of the pre-trained baseline (Adam, `PRETRAIN_LEARNING_RATE`).
            Defaults to `10`.
        build_model: `num_classes -> uncompiled classifier` whose last layer is the
            head; `None` means `fewshot_builder(data)`. Defaults to `None`.
        seed: Seed of weights, episodes and shots. Defaults to `0`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        latency_runs: Single-sample LiteRT runs timed per model. Defaults to `100`.

    Example:

    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.strategies import fewshot
    >>> data = load_dataset("digits")
    >>> report = fewshot(data, ways=5, shots=1, meta_iterations=200)  # doctest: +SKIP
    >>> print(report.summary())  # doctest: +SKIP
    """
    check_type(_OWNER, "data", data, DatasetSplits, expected="DatasetSplits (load_dataset)")
    meta, test = check_fewshot(
        data,
        ways=ways,
        shots=shots,
        method=method,
        meta_classes=meta_classes,
        test_classes=test_classes,
        queries=queries,
        train_shots=train_shots,
    )
    seed = check_seed(_OWNER, seed) or 0
    counts = {"meta_iterations": meta_iterations, "inner_steps": inner_steps}
    counts |= {"adapt_steps": adapt_steps, "episodes": episodes}
    counts |= {"pretrain_epochs": pretrain_epochs, "latency_runs": latency_runs}
    for name, value in counts.items():
        check_positive_int(_OWNER, name, value)
    if long_adapt_steps is not None:
        check_positive_int(_OWNER, "long_adapt_steps", long_adapt_steps, example=50)
    check_float(_OWNER, "meta_step", meta_step, 0, 1, closed="right", example=1.0)
    check_float(_OWNER, "learning_rate", learning_rate, 0, closed="neither", example=0.1)
    check_option(_OWNER, "optimizer", optimizer, ADAPT_OPTIMIZERS)
    check_option(_OWNER, "class_augmentation", class_augmentation, CLASS_AUGMENTATIONS)
    data.check()
    build_model = build_model or fewshot_builder(data)
    settings = {"method": method, "ways": ways, "shots": shots, "queries": queries}
    settings |= counts | {"train_shots": train_shots, "meta_step": meta_step}
    settings |= {"class_augmentation": class_augmentation, "optimizer": optimizer}
    settings |= {"learning_rate": learning_rate, "long_adapt_steps": long_adapt_steps}
    settings |= {"seed": seed}
    lock = output_lock(out_dir, _OWNER) if out_dir is not None else nullcontext()
    with lock:
        report, adapted_int8 = _run(data, meta, test, settings, build_model)
        if out_dir is not None:
            write_model_files(
                out_dir,
                report.model,
                adapted_int8,
                model_file="fewshot.keras",
                int8_file="adapted_int8.tflite",
            )
            report.write(out_dir)
    return report


def _run(data, meta, test, settings, build_model) -> tuple[FewShotReport, bytes]:
    s = settings
    seed, ways = s["seed"], s["ways"]
    meta_data, test_data = data.select_classes(meta), data.select_classes(test)
    keras.utils.set_random_seed(seed)
    model = build_model(ways)
    scratch = model.get_weights()
    adapter = TaskAdapter(model, s["learning_rate"], s["optimizer"])
    pool_x, pool_y = augment_classes(meta_data.x_train, meta_data.y_train, s["class_augmentation"])
    tasks = EpisodeSampler(
        pool_x, pool_y, ways=ways, shots=s["train_shots"], seed=seed + 1, pool="meta-train"
    )
    meta_training = reptile_meta_train(
        adapter,
        tasks,
        scratch,
        iterations=s["meta_iterations"],
        inner_steps=s["inner_steps"],
        meta_step=s["meta_step"],
    )
    keras.utils.set_random_seed(seed)
    pretrained, pretrain_seconds = pretrain_body(
        build_model(len(meta)),
        meta_data.x_train,
        meta_data.y_train,
        epochs=s["pretrain_epochs"],
        learning_rate=PRETRAIN_LEARNING_RATE,
    )
    starts = {
        "reptile": meta_training.weights,
        "scratch": scratch,
        "pretrained": with_new_head(pretrained, scratch),
    }
    episodes = EpisodeSampler(
        test_data.x_test,
        test_data.y_test,
        ways=ways,
        shots=s["shots"],
        queries=s["queries"],
        seed=seed + 2,
        pool="held-out test",
    )
    start = time.perf_counter()
    scores, _ = evaluate_initializations(
        adapter, episodes, starts, episodes=s["episodes"], steps=s["adapt_steps"]
    )
    long_scores = []
    if s["long_adapt_steps"] is not None:
        long_scores, _ = evaluate_initializations(
            adapter, episodes, starts, episodes=s["episodes"], steps=s["long_adapt_steps"]
        )
    evaluate_seconds = time.perf_counter() - start
    start = time.perf_counter()
    phone_data = data.select_classes(test[:ways])
    phone, adapted_int8 = _phone(adapter, starts, meta_data, phone_data, s, build_model)
    export_seconds = time.perf_counter() - start
    init = build_model(ways)
    init.set_weights(meta_training.weights)
    timings = {
        "meta_train_seconds": meta_training.seconds,
        "meta_iterations_per_second": meta_training.iterations_per_second,
        "pretrain_seconds": pretrain_seconds,
        "evaluate_seconds": evaluate_seconds,
        "export_seconds": export_seconds,
    }
    notes = [
        f"Episodes are K-way subsets of the held-out classes' test images, labels "
        f"permuted per episode (seed {seed + 2}); the phone models adapt on "
        f"{s['shots']} training image(s) of each of the held-out classes {test[:ways]} "
        f"(seed {seed}), output j meaning class {test[:ways]}[j].",
    ]
    return FewShotReport(
        settings=dict(settings),
        dataset=data.describe(),
        meta_classes=list(meta),
        test_classes=list(test),
        scores=scores,
        long_scores=long_scores,
        phone=phone,
        timings=timings,
        notes=notes,
        model=init,
    ), adapted_int8


def _phone(adapter, starts, meta_data, test_data, s, build_model):
    """Each start adapted on `shots` images per held-out class, measured as int8."""
    shots = test_data.per_class_train(s["shots"], seed=s["seed"])
    rng = np.random.default_rng(s["seed"])
    calibration_rows = rng.permutation(len(meta_data.x_train))[:500]
    calibration = np.concatenate([shots.x_train, meta_data.x_train[calibration_rows]])
    rows, reptile_content = [], None
    for method in FEWSHOT_BASELINES:
        weights = adapter.adapt(
            starts[method], shots.x_train, shots.y_train, steps=s["adapt_steps"]
        )
        model = build_model(s["ways"])
        model.set_weights(weights)
        measured = measure_int8(
            model,
            calibration,
            test_data.x_test,
            test_data.y_test,
            seed=s["seed"],
            latency_runs=s["latency_runs"],
        )
        rows.append(PhoneRow(method, measured.keras_accuracy, measured.tflite))
        if method == "reptile":
            reptile_content = measured.content
    return rows, reptile_content
