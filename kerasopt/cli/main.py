"""The `kerasopt` command line: `run`, `evaluate`, `export`, `compress`, `tune`, `bench`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kerasopt.core.errors import InvalidValueError, MissingFileError

DESCRIPTION = """\
Train, compress, export and verify Keras 3 models for phones.

  kerasopt run digits                      train, export to TFLite, verify on LiteRT, report
  kerasopt evaluate saved_models/digits/model_int8.tflite --data digits
  kerasopt export saved_models/digits/model.keras --quantize int8 --data digits
  kerasopt compress saved_models/digits/model.keras --data digits --prune 0.8 --out small/
  kerasopt tune tuning/digits.toml         Hyperband search from a TOML spec, resumable
  kerasopt bench augment                   batched tf.data augmentation vs a per-image loop
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from kerasopt.data.loaders import DATASETS
    from kerasopt.export.tflite_converter import TFLITE_VARIANTS
    from kerasopt.scenarios.registry import SCENARIOS

    parser = argparse.ArgumentParser(
        prog="kerasopt",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="train, export every TFLite variant, verify on LiteRT, write the report",
        description=(
            "Train a scenario's model, export float32/dynamic/float16/int8 TFLite, verify each "
            "on the LiteRT interpreter against Keras, and write model.keras, *.tflite, "
            "report.json, report.md and PNG plots. A killed run started again with the same "
            "--out resumes from its last finished epoch."
        ),
    )
    run.add_argument(
        "scenario",
        choices=sorted([*SCENARIOS, "imdb"]),
        help="what to train ('digits' needs no network)",
    )
    run.add_argument(
        "--data",
        metavar="PATH",
        help="local .npz with x_train, y_train, x_test, y_test; for imdb also an aclImdb folder",
    )
    run.add_argument(
        "--model",
        choices=["bow", "tfidf", "cnn", "bilstm", "transformer"],
        help="imdb: the text model (default: bow)",
    )
    run.add_argument("--out", metavar="DIR", help="output folder (default: saved_models/SCENARIO/)")
    run.add_argument(
        "--epochs", type=_positive_int, metavar="N", help="override the scenario's epochs"
    )
    run.add_argument("--seed", type=int, metavar="S", help="random seed (default: 0)")
    run.add_argument("--quick", action="store_true", help="a few epochs only: a smoke run")
    run.add_argument(
        "--prune", type=_fraction, metavar="SPARSITY", help="also compress: magnitude pruning"
    )
    run.add_argument("--structure", choices=["2:4"], help="m-by-n sparsity (with --prune)")
    run.add_argument("--backend", choices=["native", "tfmot"], default="native")
    run.add_argument(
        "--channels", type=_fraction, metavar="FRACTION", help="also compress: channel pruning"
    )
    run.add_argument("--cluster", type=_positive_int, metavar="N", help="also compress: clusters")
    run.add_argument("--qat", action="store_true", help="also compress: quantization-aware")

    evaluate = commands.add_parser(
        "evaluate",
        help="measure a .tflite or .keras model on a dataset's test split",
        description="Accuracy on the test split; for .tflite also sizes and LiteRT latency.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a .tflite or .keras file")
    evaluate.add_argument(
        "--data",
        required=True,
        choices=DATASETS,
        metavar="SCENARIO",
        help=f"dataset whose test split is used: {', '.join(DATASETS)}",
    )
    evaluate.add_argument("--data-path", metavar="PATH", help="local .npz for a Keras dataset")

    export = commands.add_parser(
        "export",
        help="convert a .keras model to TFLite and verify it on LiteRT",
        description="Convert MODEL.keras to TFLite (int8 calibrates on --data) and verify it.",
    )
    export.add_argument("model", metavar="MODEL.keras")
    export.add_argument(
        "--quantize",
        choices=[*TFLITE_VARIANTS[1:], "none"],
        default="int8",
        help="int8 (full-integer), float16, dynamic (int8 weights), none (float32)",
    )
    export.add_argument(
        "--data",
        required=True,
        choices=DATASETS,
        metavar="SCENARIO",
        help="dataset for calibration and verification",
    )
    export.add_argument("--data-path", metavar="PATH", help="local .npz for a Keras dataset")
    export.add_argument("--out", metavar="FILE", help="output .tflite (default: beside MODEL)")

    compress = commands.add_parser(
        "compress",
        help="prune (unstructured, 2:4, channels), export int8 TFLite, measure every stage",
        description=(
            "Compress a trained .keras classifier in stages (channel pruning, then magnitude "
            "pruning), fine-tuning after each, export full-integer int8 TFLite, verify it on "
            "LiteRT, and write model.keras, model_int8.tflite, report.json, report.md and "
            "compression.png to --out. MODEL is never modified."
        ),
    )
    compress.add_argument("model", metavar="MODEL.keras")
    compress.add_argument(
        "--data",
        required=True,
        metavar="SCENARIO|PATH",
        help=f"{', '.join(DATASETS)}, or a .npz with x_train, y_train, x_test, y_test",
    )
    compress.add_argument("--data-path", metavar="PATH", help="local .npz for a Keras dataset")
    compress.add_argument(
        "--prune", type=_fraction, metavar="SPARSITY", help="magnitude pruning, e.g. 0.8"
    )
    compress.add_argument("--structure", choices=["2:4"], help="m-by-n sparsity (with --prune)")
    compress.add_argument(
        "--backend",
        choices=["native", "tfmot"],
        default="native",
        help="pure Keras 3 pruning, or TF-MOT through the Keras 2 bridge (default: native)",
    )
    compress.add_argument(
        "--channels",
        type=_fraction,
        metavar="FRACTION",
        help="remove this fraction of conv filters and dense units (smaller and faster)",
    )
    compress.add_argument(
        "--cluster", type=_positive_int, metavar="N", help="TF-MOT weight clustering, N centroids"
    )
    compress.add_argument(
        "--qat", action="store_true", help="finish with quantization-aware training (TF-MOT)"
    )
    compress.add_argument(
        "--epochs", type=_positive_int, default=2, metavar="N", help="fine-tuning epochs per stage"
    )
    compress.add_argument(
        "--learning-rate", type=float, default=1e-3, metavar="LR", help="fine-tuning rate"
    )
    compress.add_argument("--seed", type=int, default=0, metavar="S")
    compress.add_argument("--out", required=True, metavar="DIR")

    from kerasopt.cli.tune_command import add_tune_parser

    add_tune_parser(commands, _positive_int)

    bench = commands.add_parser(
        "bench",
        help="measure throughput (not part of the tests: minutes, not seconds)",
        description=(
            "augment: images/s of a batched, on-graph tf.data augmentation policy against "
            "the per-image Python loop over tf.image that many tutorials use, on the same "
            "random MNIST-size images, with the ratio. "
            "techniques: the digits CNN trained once per training technique and seed, each "
            "changing one thing from the baseline; writes techniques.json, techniques.md "
            "and techniques.png to --out."
        ),
    )
    bench.add_argument("what", choices=["augment", "techniques"], help="what to measure")
    bench.add_argument(
        "--policy",
        default="flip(horizontal), rot90, crop_pad(2), brightness(0.2)",
        metavar="SPEC",
        help="augmentation policy string (default: %(default)r)",
    )
    bench.add_argument(
        "--images", type=_positive_int, default=4096, metavar="N", help="default: %(default)s"
    )
    bench.add_argument(
        "--size", type=_positive_int, default=28, metavar="PIXELS", help="default: %(default)s"
    )
    bench.add_argument(
        "--batch-size", type=_positive_int, default=128, metavar="B", help="default: %(default)s"
    )
    bench.add_argument(
        "--epochs", type=_positive_int, default=15, metavar="N", help="techniques: epochs per run"
    )
    bench.add_argument(
        "--seeds", type=_positive_int, default=3, metavar="N", help="techniques: seeds per row"
    )
    bench.add_argument(
        "--only", metavar="NAMES", help="techniques: comma-separated names (default: all)"
    )
    bench.add_argument(
        "--out", metavar="DIR", default="saved_models/bench", help="default: %(default)s"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out
    args = build_parser().parse_args(argv)
    from kerasopt.cli.errors import USER_ERRORS

    try:
        if args.command == "run":
            return _run(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "bench":
            return _bench(args)
        if args.command == "compress":
            return _compress(args)
        if args.command == "tune":
            from kerasopt.cli.tune_command import run_tune

            return run_tune(args)
        return _export(args)
    except USER_ERRORS as error:
        print(f"kerasopt {args.command}: error: {error}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from kerasopt.scenarios import format_table, run_imdb, run_scenario, summary_rows

    if args.scenario == "imdb":
        if _compression_flags(args):
            raise InvalidValueError("The compression flags apply to the image scenarios, not imdb.")
        report = run_imdb(
            model=args.model or "bow",
            out_dir=args.out,
            data_path=args.data,
            epochs=args.epochs,
            seed=args.seed,
            quick=args.quick,
        )
        ((mode, lite),) = report["tflite"].items()
        print()
        print(format_table(summary_rows(report)))
        if lite["reason"]:
            print(f"\nNot full-integer int8: {lite['reason']}")
        agreement = report["tokenizer"]["agreement"]
        print(f"Pure-Python tokenizer agrees with TextVectorization on {agreement:.2%} of reviews.")
        out = Path(args.out) if args.out else Path("saved_models") / f"imdb_{args.model or 'bow'}"
        print(f"\nTotal {report['timings']['total']:.1f} s. Artifacts and report.md in {out}/")
        return 0
    if args.model:
        raise InvalidValueError(f"--model applies to imdb; {args.scenario} trains its CNN.")
    report = run_scenario(
        args.scenario,
        out_dir=args.out,
        data_path=args.data,
        epochs=args.epochs,
        seed=args.seed,
        quick=args.quick,
        compress=_compression_flags(args),
    )
    out = Path(args.out) if args.out else Path("saved_models") / args.scenario
    print()
    print(format_table(summary_rows(report)))
    if "compression" in report:
        from kerasopt.compress import format_stages

        print("\nCompression (artifacts in compressed/):")
        print(format_stages(report["compression"]))
    print(f"\nTotal {report['timings']['total']:.1f} s. Artifacts and report.md in {out}/")
    return 0


def _compression_flags(args) -> dict | None:
    if args.prune is None and args.channels is None and args.cluster is None and not args.qat:
        if args.structure:
            raise InvalidValueError("--structure 2:4 needs --prune SPARSITY.")
        return None
    return {
        "prune": args.prune,
        "structure": args.structure,
        "backend": args.backend,
        "channels": args.channels,
        "cluster": args.cluster,
        "qat": args.qat,
    }


def _evaluate(args) -> int:
    from kerasopt.data import load_dataset
    from kerasopt.export import verify_tflite
    from kerasopt.models import load_model_safely

    data = load_dataset(args.data, args.data_path)
    path = Path(args.model)
    if path.suffix == ".tflite":
        if not path.is_file():
            raise MissingFileError(f"No TFLite file at {str(path)!r}.")
        result = verify_tflite(path.read_bytes(), data.x_test, data.y_test)
        print(
            f"{path.name}: accuracy {result['accuracy']:.4f} on {len(data.y_test)} test samples, "
            f"{result['bytes']:,} bytes ({result['gzip_bytes']:,} gzip), "
            f"latency {result['latency_us']:.0f} µs (batch 1, one thread)"
        )
    else:
        model = load_model_safely(path)
        probabilities = model.predict(data.x_test, batch_size=256, verbose=0)
        accuracy = float((probabilities.argmax(-1) == data.y_test).mean())
        print(f"{path.name}: accuracy {accuracy:.4f} on {len(data.y_test)} test samples")
    return 0


def _export(args) -> int:
    from kerasopt.core.atomic import write_bytes_atomic
    from kerasopt.data import load_dataset
    from kerasopt.export import convert_to_tflite, verify_tflite
    from kerasopt.models import load_model_safely

    variant = "float32" if args.quantize == "none" else args.quantize
    model = load_model_safely(args.model)
    data = load_dataset(args.data, args.data_path)
    content = convert_to_tflite(model, variant, representative_data=data.x_train)
    out = (
        Path(args.out)
        if args.out
        else Path(args.model).with_name(f"{Path(args.model).stem}_{variant}.tflite")
    )
    result = verify_tflite(
        content,
        data.x_test,
        data.y_test,
        reference_probabilities=model.predict(data.x_test, batch_size=256, verbose=0),
        require_full_integer=variant == "int8",
    )
    write_bytes_atomic(out, content)
    print(
        f"wrote {out} ({variant}): accuracy {result['accuracy']:.4f}, agreement with Keras "
        f"{result['agreement']:.2%}, {result['bytes']:,} bytes ({result['gzip_bytes']:,} gzip), "
        f"latency {result['latency_us']:.0f} µs"
    )
    return 0


def _compress(args) -> int:
    from kerasopt.compress import compress_model, format_stages
    from kerasopt.data import load_dataset_or_file
    from kerasopt.models import load_model_safely

    source, out = Path(args.model).resolve(), Path(args.out).resolve()
    if source == out / "model.keras":
        raise InvalidValueError(
            f"--out {args.out} would overwrite the input model {args.model}; MODEL is never "
            "modified. Choose another --out folder."
        )
    model = load_model_safely(args.model)
    data = load_dataset_or_file(args.data, args.data_path)
    report = compress_model(
        model,
        data,
        prune=args.prune,
        structure=args.structure,
        backend=args.backend,
        channels=args.channels,
        cluster=args.cluster,
        qat=args.qat,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        out_dir=args.out,
        seed=args.seed,
        verbose=0,
    )
    print(format_stages(report))
    for layer, reason in report["left_dense"].items():
        print(f"left dense: {layer}: {reason}")
    ratio = report["gzip_vs_dense_float32"]
    print(f"\ngzip(int8 of the last stage) / gzip(dense float32) = {ratio:.3f}")
    print(f"Wrote model.keras, model_int8.tflite, report.md and compression.png to {args.out}/")
    return 0


def _bench(args) -> int:
    if args.what == "techniques":
        return _bench_techniques(args)
    import numpy as np

    from kerasopt.augment import benchmark_throughput

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(args.images, args.size, args.size), dtype="uint8")
    labels = rng.integers(0, 10, size=args.images)
    result = benchmark_throughput(args.policy, images, labels, batch_size=args.batch_size)
    print(f"policy: {args.policy}; {args.images} images of {args.size}x{args.size}")
    print(f"  batched tf.data  {result['batched_images_per_s']:>12,.0f} images/s")
    print(f"  per-image loop   {result['loop_images_per_s']:>12,.0f} images/s")
    print(f"  speedup          {result['speedup']:>12.1f}x")
    return 0


def _bench_techniques(args) -> int:
    import json

    from kerasopt.analysis import plot_technique_comparison
    from kerasopt.core.atomic import write_text_atomic
    from kerasopt.data import load_dataset
    from kerasopt.models import build_cnn
    from kerasopt.scenarios.registry import SCENARIOS
    from kerasopt.training import compare_techniques, format_comparison, standard_techniques

    scenario = SCENARIOS["digits"]
    data = load_dataset("digits")
    include = [name.strip() for name in args.only.split(",")] if args.only else None
    techniques = standard_techniques(scenario.model["input_max"], include=include)
    base = scenario.train.replace(epochs=args.epochs, augment=None)
    rows = compare_techniques(
        data,
        techniques,
        lambda: build_cnn(data.input_shape, data.num_classes, **scenario.model),
        base,
        seeds=tuple(range(args.seeds)),
        attack_epsilon=0.05,
        input_range=(0.0, scenario.model["input_max"]),
    )
    table = format_comparison(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {"epochs": args.epochs, "seeds": args.seeds, "fgsm_epsilon": 0.05}
    write_text_atomic(out / "techniques.json", json.dumps({**settings, "rows": rows}, indent=2))
    write_text_atomic(out / "techniques.md", f"```\n{table}\n```\n")
    plot_technique_comparison(rows, out / "techniques.png")
    print(table)
    print(f"\nWrote techniques.json, techniques.md and techniques.png to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
