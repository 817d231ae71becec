"""`kerasopt bench augment|techniques|pareto|compress|transfer`: what each approach buys."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kerasopt.cli.arguments import (
    add_out_flag,
    add_seed_flag,
    class_list,
    fraction,
    positive_int,
)

DESCRIPTION = (
    "augment: images/s of a batched, on-graph tf.data augmentation policy against the "
    "per-image Python loop over tf.image that many tutorials use, on the same random "
    "MNIST-size images, with the ratio. techniques: the digits CNN trained once per "
    "training technique and seed, each changing one thing from the baseline; writes "
    "techniques.json, techniques.md and techniques.png to --out. pareto: the scenario's "
    "residual CNN at several widths beside keras.io's simple convnet (the plain path), "
    "the small ones of both also trained with kerasopt's small-model recipe "
    "(--recipe-widths, --recipe-filters), each trained, converted to full-integer int8 "
    "TFLite and scored on LiteRT, and with --channels the widest residual CNN "
    "channel-pruned by compress_model at each fraction; writes "
    "pareto.json, pareto.md and pareto.png to --out. compress: models shaped like users' "
    "(kerasopt.models.user_shaped) trained per seed, then compressed by compress_model with "
    "the defaults (80 % sparsity, half the channels, 2:4) and with and without distillation "
    "at equal fine-tuning epochs; writes compress_bench.json and compress_bench.md to --out. "
    "transfer: a residual CNN trained on --source-classes, then transfer (kerasopt transfer) "
    "against the same architecture from scratch on --target-classes at each --per-class "
    "count of labelled images, both as int8 on LiteRT; writes source.keras, a folder per "
    "run, transfer_bench.json and transfer_bench.md to --out."
)


def add_parser(commands) -> None:
    """Adds `kerasopt bench`."""
    bench = commands.add_parser(
        "bench",
        help="measure speed, accuracy and size (not part of the tests: minutes, not seconds)",
        description=DESCRIPTION,
    )
    bench.add_argument(
        "what",
        choices=["augment", "techniques", "pareto", "compress", "transfer"],
        help="what to measure",
    )
    bench.add_argument(
        "--policy",
        default="flip(horizontal), rot90, crop_pad(2), brightness(0.2)",
        metavar="SPEC",
        help="augmentation policy string (default: %(default)r)",
    )
    for flag, default, metavar, help in (
        ("--images", 4096, "N", "default: %(default)s"),
        ("--size", 28, "PIXELS", "default: %(default)s"),
        ("--batch-size", 128, "B", "default: %(default)s"),
        (
            "--epochs",
            None,
            "N",
            "techniques: epochs per run (15); pareto: the scenario's; compress: dense "
            "training (30); transfer: the source model (3)",
        ),
        ("--seeds", None, "N", "techniques, compress: seeds per row (3); transfer: (1)"),
    ):
        bench.add_argument(flag, type=positive_int, default=default, metavar=metavar, help=help)
    bench.add_argument(
        "--only",
        metavar="NAMES",
        help="techniques, compress: comma-separated techniques / models (default: all)",
    )
    bench.add_argument(
        "--data",
        metavar="SCENARIO",
        help="pareto, transfer: fashion_mnist (default); compress: digits",
    )
    bench.add_argument(
        "--data-path", metavar="PATH", help="pareto: idx folder or .npz for the scenario"
    )
    bench.add_argument(
        "--widths",
        type=int_list,
        metavar="W,W,...",
        help="pareto: stem widths of the residual CNNs (default: 4,8,12,16,20)",
    )
    bench.add_argument(
        "--plain-filters",
        type=filter_pairs,
        metavar="AxB,...",
        help="pareto: the plain path's two filter counts per point, or 'none' (default: "
        "8x16,...,64x128)",
    )
    bench.add_argument(
        "--recipe-widths",
        type=int_list,
        metavar="W,W,...",
        help="pareto: stem widths of residual CNNs trained with kerasopt's small-model "
        "recipe too, a point each, or 'none' (default: 4,8)",
    )
    bench.add_argument(
        "--recipe-filters",
        type=filter_pairs,
        metavar="AxB,...",
        help="pareto: the plain path's CNN trained with kerasopt's small-model recipe too, "
        "a point each, or 'none' (default: 8x16)",
    )
    bench.add_argument(
        "--train-samples", type=positive_int, metavar="N", help="pareto: train on N samples"
    )
    bench.add_argument(
        "--channels",
        type=fraction_list,
        default=(),
        metavar="F,F,...",
        help="pareto: also compress the widest residual CNN, removing each fraction of its "
        "channels (compress_model's defaults), a point each (default: none)",
    )
    bench.add_argument(
        "--allocate",
        action="store_true",
        help="pareto: split each --channels fraction across layers by measured sensitivity",
    )
    bench.add_argument(
        "--source-classes",
        type=class_list,
        default=[0, 1, 2, 3, 4],
        metavar="0-4",
        help="transfer: classes of the source task (default: 0-4)",
    )
    bench.add_argument(
        "--target-classes",
        type=class_list,
        default=[5, 6, 7, 8, 9],
        metavar="5-9",
        help="transfer: classes of the target task (default: 5-9)",
    )
    bench.add_argument(
        "--per-class",
        type=int_list,
        default=(10, 50, 100),
        metavar="N,N,...",
        help="transfer: labelled target images per class, one run each (default: 10,50,100)",
    )
    add_seed_flag(bench, 0, "pareto: seed (default: %(default)s)")
    add_out_flag(bench, "default: %(default)s", default="saved_models/bench")
    bench.set_defaults(handler=bench_command)


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: `"8,12,16"` -> `(8, 12, 16)`, each >= 1; `"none"` -> `()`."""
    if text.strip() == "none":
        return ()
    return tuple(positive_int(part) for part in text.split(",") if part.strip())


def fraction_list(text: str) -> tuple[float, ...]:
    """argparse type: `"0.5,0.75"` -> `(0.5, 0.75)`, each strictly between 0 and 1."""
    return tuple(fraction(part) for part in text.split(",") if part.strip())


def filter_pairs(text: str) -> tuple[tuple[int, int], ...]:
    """argparse type: `"8x16,32x64"` -> `((8, 16), (32, 64))`; `"none"` -> `()`."""
    if text.strip() == "none":
        return ()
    pairs = []
    for part in text.split(","):
        first, sep, second = part.strip().partition("x")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected pairs such as 32x64, got {part!r}")
        pairs.append((positive_int(first), positive_int(second)))
    return tuple(pairs)


def bench_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt bench`; returns the exit code."""
    if args.what == "techniques":
        return _bench_techniques(args)
    if args.what == "pareto":
        return _bench_pareto(args)
    if args.what == "compress":
        return _bench_compress(args)
    if args.what == "transfer":
        return _bench_transfer(args)
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


def _bench_techniques(args: argparse.Namespace) -> int:
    from kerasopt.analysis import plot_technique_comparison
    from kerasopt.core.atomic import write_text_atomic
    from kerasopt.scenarios import get_scenario
    from kerasopt.training import compare_techniques, format_comparison, standard_techniques

    scenario = get_scenario("digits")
    scenario_data = scenario.load_data(None, seed=0)
    data = scenario_data.splits
    include = [name.strip() for name in args.only.split(",")] if args.only else None
    techniques = standard_techniques(scenario.input_range[1], include=include)
    base = scenario.train.replace(epochs=args.epochs or 15, augment=None)
    rows = compare_techniques(
        data,
        techniques,
        lambda: scenario.build_model(scenario_data, scenario.models[0]),
        base,
        seeds=tuple(range(args.seeds or 3)),
        attack_epsilon=0.05,
        input_range=scenario.input_range,
    )
    table = format_comparison(rows)
    out = Path(args.out)
    settings = {"epochs": args.epochs or 15, "seeds": args.seeds or 3, "fgsm_epsilon": 0.05}
    write_text_atomic(out / "techniques.json", json.dumps({**settings, "rows": rows}, indent=2))
    write_text_atomic(out / "techniques.md", f"```\n{table}\n```\n")
    plot_technique_comparison(rows, out / "techniques.png")
    print(table)
    print(f"\nWrote techniques.json, techniques.md and techniques.png to {out}/")
    return 0


def _bench_pareto(args: argparse.Namespace) -> int:
    from kerasopt.pipeline import run_pareto_bench
    from kerasopt.pipeline.pareto_bench import (
        PLAIN_PATH_FILTERS,
        RECIPE_FILTERS,
        RECIPE_WIDTHS,
        RESIDUAL_WIDTHS,
    )

    out = Path(args.out)
    report = run_pareto_bench(
        args.data or "fashion_mnist",
        data_path=args.data_path,
        widths=args.widths or RESIDUAL_WIDTHS,
        plain_filters=PLAIN_PATH_FILTERS if args.plain_filters is None else args.plain_filters,
        recipe_widths=RECIPE_WIDTHS if args.recipe_widths is None else args.recipe_widths,
        recipe_filters=RECIPE_FILTERS if args.recipe_filters is None else args.recipe_filters,
        epochs=args.epochs,
        train_samples=args.train_samples,
        channels=args.channels,
        allocate=args.allocate,
        seed=args.seed,
        out_dir=out,
    )
    print(report.table())
    print()
    print(report.to_markdown().split("```")[0].strip())
    print(f"\nWrote pareto.json, pareto.md and pareto.png to {out}/")
    return 0


def _bench_compress(args: argparse.Namespace) -> int:
    from kerasopt.models.user_shaped import USER_SHAPED_MODELS
    from kerasopt.pipeline.compression_bench import (
        format_summary,
        run_compression_bench,
        summarize,
        write_compression_bench,
    )
    from kerasopt.scenarios import get_scenario

    scenario = get_scenario(args.data or "digits")
    data = scenario.load_data(args.data_path, seed=0).splits
    models = [m.strip() for m in args.only.split(",")] if args.only else list(USER_SHAPED_MODELS)
    settings = {
        "data": scenario.name,
        "models": models,
        "seeds": args.seeds or 3,
        "train_epochs": args.epochs or 30,
    }
    rows = run_compression_bench(
        data,
        models=models,
        seeds=tuple(range(args.seeds or 3)),
        train_epochs=args.epochs or 30,
        input_max=scenario.input_range[1],
    )
    out = write_compression_bench(rows, args.out, settings)
    print(format_summary(summarize(rows)))
    print(f"\nWrote compress_bench.json and compress_bench.md to {out}/")
    return 0


def _bench_transfer(args: argparse.Namespace) -> int:
    from kerasopt.data import load_dataset_or_file
    from kerasopt.strategies import transfer_bench

    data = load_dataset_or_file(args.data or "fashion_mnist", args.data_path)
    report = transfer_bench(
        data,
        source_classes=args.source_classes,
        target_classes=args.target_classes,
        per_class=args.per_class,
        seeds=tuple(range(args.seeds or 1)),
        source_epochs=args.epochs or 3,
        out_dir=args.out,
        verbose=2,  # the source model trains for minutes on Fashion-MNIST
    )
    print(report.table())
    print(f"\n{report.summary()}")
    print(f"Wrote source.keras, transfer_bench.json and transfer_bench.md to {args.out}/")
    return 0
