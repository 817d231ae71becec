"""`kerasopt bench augment|techniques`: throughput and technique comparisons (minutes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kerasopt.cli.arguments import add_out_flag, positive_int

DESCRIPTION = (
    "augment: images/s of a batched, on-graph tf.data augmentation policy against the "
    "per-image Python loop over tf.image that many tutorials use, on the same random "
    "MNIST-size images, with the ratio. techniques: the digits CNN trained once per "
    "training technique and seed, each changing one thing from the baseline; writes "
    "techniques.json, techniques.md and techniques.png to --out."
)


def add_parser(commands) -> None:
    """Adds `kerasopt bench`."""
    bench = commands.add_parser(
        "bench",
        help="measure throughput (not part of the tests: minutes, not seconds)",
        description=DESCRIPTION,
    )
    bench.add_argument("what", choices=["augment", "techniques"], help="what to measure")
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
        ("--epochs", 15, "N", "techniques: epochs per run"),
        ("--seeds", 3, "N", "techniques: seeds per row"),
    ):
        bench.add_argument(flag, type=positive_int, default=default, metavar=metavar, help=help)
    bench.add_argument(
        "--only", metavar="NAMES", help="techniques: comma-separated names (default: all)"
    )
    add_out_flag(bench, "default: %(default)s", default="saved_models/bench")
    bench.set_defaults(handler=bench_command)


def bench_command(args: argparse.Namespace) -> int:
    """Runs `kerasopt bench`; returns the exit code."""
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
    base = scenario.train.replace(epochs=args.epochs, augment=None)
    rows = compare_techniques(
        data,
        techniques,
        lambda: scenario.build_model(scenario_data, scenario.models[0]),
        base,
        seeds=tuple(range(args.seeds)),
        attack_epsilon=0.05,
        input_range=scenario.input_range,
    )
    table = format_comparison(rows)
    out = Path(args.out)
    settings = {"epochs": args.epochs, "seeds": args.seeds, "fgsm_epsilon": 0.05}
    write_text_atomic(out / "techniques.json", json.dumps({**settings, "rows": rows}, indent=2))
    write_text_atomic(out / "techniques.md", f"```\n{table}\n```\n")
    plot_technique_comparison(rows, out / "techniques.png")
    print(table)
    print(f"\nWrote techniques.json, techniques.md and techniques.png to {out}/")
    return 0
