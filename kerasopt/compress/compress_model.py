"""`compress_model`: channel pruning → magnitude pruning → int8 TFLite, every stage measured."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from kerasopt.core.errors import InvalidValueError
from kerasopt.data.splits import DatasetSplits

BACKENDS = ("native", "tfmot")
STRUCTURES = (None, "2:4")


def compress_model(
    model,
    data: DatasetSplits,
    *,
    prune: float | None = None,
    structure: str | None = None,
    backend: str = "native",
    channels: float | None = None,
    cluster: int | None = None,
    qat: bool = False,
    epochs: int = 2,
    learning_rate: float = 1e-3,
    out_dir: str | os.PathLike | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> dict:
    """Compresses a trained Keras 3 classifier in stages and measures every stage.

    Stages run in this order, each on the previous one's model: `dense` (the input,
    untouched), `channels` (structured pruning of `channels` of the filters/units, then
    `epochs` of fine-tuning), `prune` (magnitude pruning to `prune` sparsity, optionally
    2:4, fine-tuned by the chosen backend; a layer whose kernel cannot hold the m:n
    pattern, such as a first conv with one input channel, is left dense and listed in
    `left_dense`, never hidden), `cluster` (TF-MOT weight clustering to `cluster`
    centroids per kernel, sparsity-preserving after pruning), and `qat`
    (quantization-aware training through TF-MOT, exported by its own converter; without
    it, the last stage is post-training int8). Every stage is converted to full-integer
    int8 TFLite, checked to be full-integer, and measured on LiteRT: accuracy (Keras and
    LiteRT), kernel sparsity, unique weights per kernel, raw and gzip bytes, latency.
    The dense model's float32 TFLite is measured too, as the size baseline.

    With `out_dir` it writes `model.keras` (the last stage), `model_int8.tflite`,
    `report.json`, `report.md` and `compression.png`, each atomically.

    Args:
        model: A trained Keras 3 classifier (never modified).
        data: Dataset splits: fine-tuning uses train/val, measurements the test split.
        prune: Target kernel sparsity in `(0, 1)`, or `None`. Defaults to `None`.
        structure: `"2:4"` for m-by-n sparsity, or `None`. Defaults to `None`.
        backend: `"native"` (pure Keras 3) or `"tfmot"` (TF-MOT through the bridge).
            Defaults to `"native"`.
        channels: Fraction of filters/units to remove, in `(0, 1)`, or `None`.
            Defaults to `None`.
        cluster: Number of weight clusters per kernel (>= 2), or `None`. Defaults to
            `None`.
        qat: Finish with quantization-aware training. Defaults to `False`.
        epochs: Fine-tuning epochs per stage. Defaults to `2`.
        learning_rate: Fine-tuning learning rate. Defaults to `1e-3`.
        out_dir: Folder for the artifacts, or `None`. Defaults to `None`.
        seed: Seed for fine-tuning. Defaults to `0`.
        verbose: Keras verbosity while fine-tuning. Defaults to `0`.

    Returns:
        The report: `stages` (one row per stage), `float32_baseline`, `sparsity`
        (per-layer table of the last stage), `left_dense` (layer → reason), `settings`,
        `timings`.

    Example:

    >>> from kerasopt.compress import compress_model
    >>> from kerasopt.data import load_dataset
    >>> from kerasopt.models import load_model_safely
    >>> data = load_dataset("digits")
    >>> model = load_model_safely("saved_models/digits/model.keras")  # doctest: +SKIP
    >>> report = compress_model(model, data, prune=0.8, out_dir="compressed")  # doctest: +SKIP
    """
    _check_arguments(prune, structure, backend, channels, cluster, qat, epochs)
    import keras

    from kerasopt.compress.sparsity_table import sparsity_table

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    stages = []
    current = model

    baseline = _measure_float32(model, data)
    stages.append(_measure("dense", model, data))
    if channels is not None:
        t = time.perf_counter()
        current = _channel_stage(current, data, channels, epochs, learning_rate, seed, verbose)
        timings["channels"] = time.perf_counter() - t
        stages.append(_measure(f"channels -{channels:.0%}", current, data))
    left_dense = _left_dense_by_structure(current, structure) if prune is not None else {}
    if prune is not None:
        t = time.perf_counter()
        current = _prune_stage(
            current, data, prune, structure, backend, epochs, learning_rate, verbose, left_dense
        )
        timings["prune"] = time.perf_counter() - t
        label = f"prune {prune:.0%}" + (f" {structure}" if structure else "") + f" ({backend})"
        stages.append(_measure(label, current, data))
    if cluster is not None:
        from kerasopt.compress.tfmot_clustering import cluster_with_tfmot

        t = time.perf_counter()
        current = cluster_with_tfmot(
            current,
            data,
            clusters=cluster,
            preserve_sparsity=prune is not None,
            skip_layers=tuple(left_dense),
            epochs=epochs,
            verbose=verbose,
        )
        timings["cluster"] = time.perf_counter() - t
        stages.append(_measure(f"cluster {cluster}", current, data))
    if qat:
        t = time.perf_counter()
        preserve = "clusters" if cluster is not None else "sparsity" if prune else None
        stages.append(_qat_stage(current, data, epochs, verbose, preserve))
        stages[-1]["stage"] = {"clusters": "CQAT", "sparsity": "PQAT"}.get(preserve, "QAT")
        timings["qat"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - start

    last = stages[-1]
    report = {
        "settings": {
            "prune": prune,
            "structure": structure,
            "backend": backend,
            "channels": channels,
            "cluster": cluster,
            "qat": qat,
            "epochs": epochs,
            "learning_rate": learning_rate,
            "seed": seed,
        },
        "dataset": data.describe(),
        "float32_baseline": baseline,
        "stages": [{k: v for k, v in s.items() if k != "content"} for s in stages],
        "gzip_vs_dense_float32": last["gzip_bytes"] / baseline["gzip_bytes"],
        "sparsity": sparsity_table(current, structure=structure),
        "left_dense": left_dense,
        "timings": timings,
    }
    if out_dir is not None:
        _write_artifacts(report, current, last["content"], Path(out_dir))
    report["model"] = current
    return report


def _check_arguments(prune, structure, backend, channels, cluster, qat, epochs):
    for name, value in (("prune", prune), ("channels", channels)):
        if value is not None and not 0.0 < value < 1.0:
            raise InvalidValueError(
                f"compress_model expects {name} in (0, 1) or None. Received: {name}={value!r}."
            )
    if structure not in STRUCTURES:
        raise InvalidValueError(
            f"compress_model supports structure=None or '2:4'. Received: {structure!r}."
        )
    if structure is not None and prune is None:
        raise InvalidValueError(
            f"structure={structure!r} needs magnitude pruning: pass prune (--prune), e.g. 0.5."
        )
    if backend not in BACKENDS:
        raise InvalidValueError(
            f"compress_model backend must be one of {BACKENDS}. Received: {backend!r}."
        )
    if prune is None and channels is None and cluster is None and not qat:
        raise InvalidValueError(
            "compress_model has nothing to do: pass prune (--prune SPARSITY), channels "
            "(--channels FRACTION), cluster (--cluster N) and/or qat (--qat)."
        )
    if cluster is not None and (isinstance(cluster, bool) or not isinstance(cluster, int)):
        raise InvalidValueError(
            f"compress_model expects an integer cluster >= 2. Received: {cluster!r}."
        )
    if not isinstance(epochs, int) or epochs < 1:
        raise InvalidValueError(f"compress_model expects epochs >= 1. Received: {epochs!r}.")


def _channel_stage(model, data, fraction, epochs, learning_rate, seed, verbose):
    from kerasopt.compress.channel_pruning import prune_channels
    from kerasopt.training import TrainConfig, train

    smaller = prune_channels(model, fraction).model
    config = TrainConfig(
        epochs=epochs,
        learning_rate=learning_rate,
        lr_schedule="cosine",
        augment=None,
        early_stopping_patience=None,
        checkpoint=False,
        seed=seed,
    )
    train(smaller, data, config, verbose=verbose)
    return smaller


def _left_dense_by_structure(model, structure) -> dict[str, str]:
    """Layers m:n sparsity cannot cover: their kernel's input axis is not a multiple of n."""
    if structure is None:
        return {}
    n = int(structure.split(":")[1])
    left = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) >= 2 and kernel.shape[-2] % n:
            left[layer.name] = (
                f"input axis of {kernel.shape[-2]} is not a multiple of {n}: left dense, "
                f"not {structure}"
            )
    return left


def _prune_stage(
    model, data, sparsity, structure, backend, epochs, learning_rate, verbose, left_dense
):
    kwargs = dict(
        sparsity=sparsity,
        structure=structure,
        skip_layers=tuple(left_dense),
        epochs=epochs,
        learning_rate=learning_rate,
        verbose=verbose,
    )
    if backend == "native":
        from kerasopt.compress.native_pruning import prune_native

        return prune_native(model, data, **kwargs)
    from kerasopt.compress.tfmot_pruning import prune_with_tfmot

    return prune_with_tfmot(model, data, **kwargs)


def _qat_stage(model, data, epochs, verbose, preserve) -> dict:
    from kerasopt.compress.quantize_aware import quantize_aware
    from kerasopt.export import verify_tflite

    result = quantize_aware(model, data, epochs=epochs, preserve=preserve, verbose=verbose)
    probabilities = result.tf_keras_model.predict(data.x_test, batch_size=256, verbose=0)
    verified = verify_tflite(
        result.tflite,
        data.x_test,
        data.y_test,
        reference_probabilities=probabilities,
        require_full_integer=True,
    )
    kernels = [np.asarray(w) for w in result.tf_keras_model.weights if w.name.endswith("kernel:0")]
    return {
        "stage": "QAT",
        "keras_accuracy": float((probabilities.argmax(-1) == data.y_test).mean()),
        "litert_accuracy": verified["accuracy"],
        "agreement": verified["agreement"],
        **_array_stats(kernels, int(model.count_params())),
        "bytes": verified["bytes"],
        "gzip_bytes": verified["gzip_bytes"],
        "latency_us": verified["latency_us"],
        "content": result.tflite,
    }


def _array_stats(kernels: list, params: int) -> dict:
    total = sum(k.size for k in kernels)
    return {
        "kernel_sparsity": sum(int((k == 0).sum()) for k in kernels) / total if total else 0.0,
        "max_unique_weights_per_kernel": max((int(np.unique(k).size) for k in kernels), default=0),
        "params": params,
    }


def _kernel_stats(model) -> dict:
    kernels = [
        np.asarray(layer.kernel)
        for layer in model.layers
        if getattr(layer, "kernel", None) is not None
    ]
    return _array_stats(kernels, int(model.count_params()))


def _measure(stage: str, model, data) -> dict:
    from kerasopt.export import convert_to_tflite, verify_tflite

    probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
    content = convert_to_tflite(model, "int8", representative_data=data.x_train)
    verified = verify_tflite(
        content,
        data.x_test,
        data.y_test,
        reference_probabilities=probabilities,
        require_full_integer=True,
    )
    return {
        "stage": stage,
        "keras_accuracy": float((probabilities.argmax(-1) == data.y_test).mean()),
        "litert_accuracy": verified["accuracy"],
        "agreement": verified["agreement"],
        **_kernel_stats(model),
        "bytes": verified["bytes"],
        "gzip_bytes": verified["gzip_bytes"],
        "latency_us": verified["latency_us"],
        "content": content,
    }


def _measure_float32(model, data) -> dict:
    from kerasopt.export import convert_to_tflite, verify_tflite

    verified = verify_tflite(convert_to_tflite(model, "float32"), data.x_test, data.y_test)
    return {key: verified[key] for key in ("accuracy", "bytes", "gzip_bytes", "latency_us")}


def _write_artifacts(report: dict, model, content: bytes, out: Path) -> None:
    from kerasopt.compress.compression_report import markdown_report, plot_compression
    from kerasopt.core.atomic import atomic_path, write_bytes_atomic, write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:
        model.save(tmp)
    write_bytes_atomic(out / "model_int8.tflite", content)
    write_text_atomic(out / "report.json", json.dumps(report, indent=2, default=str))
    write_text_atomic(out / "report.md", markdown_report(report))
    plot_compression(report, out / "compression.png")
