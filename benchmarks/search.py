"""Search winner against published families scaled to the same budget.

    python benchmarks/search.py [--budget 0.4GFLOPs] [--out runs/bench-search]

One run: the search command's pipeline on the embedded digits proxy (its
defaults), then EfficientNet-B0, MixNet-S and GhostNet 1.0x, each with the
largest channel multiplier whose cost fits the budget (MACs at 224x224, 10
classes), trained with the same proxy settings and the same number of epochs
as the winner's retrain. Prints a table and writes `search.json` beside this
file; paste the table into RESULTS.md with the date and host.

Not a test: a single proxy run is noisy (359 validation images, ~1 point
per 4 images), so read the table as one draw, not a ranking.
"""

import argparse
import dataclasses
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from tfeff import estimate_cost  # noqa: E402
from tfeff import scale_arch  # noqa: E402
from tfeff.data import load_dataset  # noqa: E402
from tfeff.files import atomic_write_json  # noqa: E402
from tfeff.models.registry import get_variant  # noqa: E402
from tfeff.nas.pipeline import SearchConfig  # noqa: E402
from tfeff.nas.pipeline import run_search  # noqa: E402
from tfeff.nas.proxy import train_candidate  # noqa: E402
from tfeff.profile.budget import format_macs  # noqa: E402
from tfeff.profile.budget import parse_budget  # noqa: E402
from tfeff.spec.notation import encode_arch  # noqa: E402

BASELINES = {
    "EfficientNet-B0": "efficientnet_b0",
    "MixNet-S": "mixnet_s",
    "GhostNet 1.0x": "ghostnet_100",
}


def scaled_to_budget(name, budget, num_classes, resolution=224):
    """The variant with the largest width multiplier (step 0.01) in budget."""
    variant = get_variant(name)
    best = None
    for step in range(50, 301):
        multiplier = step / 100
        scaling = dataclasses.replace(
            variant.scaling, channel_multiplier=multiplier
        )
        arch = scale_arch(variant.base_arch, scaling)
        cost = estimate_cost(arch, resolution, num_classes=num_classes)
        if cost.macs <= budget:
            best = (multiplier, encode_arch(arch), cost)
        elif best is not None:
            break
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="0.4GFLOPs")
    parser.add_argument("--out", default="runs/bench-search")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    budget = parse_budget(args.budget)
    start = time.perf_counter()
    config = SearchConfig(budget_macs=budget, out=args.out, seed=args.seed)
    resume = os.path.isfile(os.path.join(args.out, "config.json"))
    if resume:
        print(f"Continuing the search in {args.out}")
    summary = run_search(config)
    search_seconds = time.perf_counter() - start
    data = load_dataset(
        config.dataset, config.proxy_resolution, seed=config.seed
    )
    settings = dataclasses.replace(config.proxy, epochs=config.retrain_epochs)
    winner = summary["winner"]
    rows = [
        {
            "model": f"search winner (trial {winner['trial_id']})",
            "channel_multiplier": None,
            "params": winner["params"],
            "macs": winner["macs"],
            "val_accuracy": winner["val_accuracy"],
            "arch": winner["arch"],
        }
    ]
    for label, name in BASELINES.items():
        multiplier, arch, cost = scaled_to_budget(
            name, budget, data.num_classes
        )
        print(
            f"[baseline] {label} x{multiplier:.2f}: {format_macs(cost.macs)}, "
            f"{config.retrain_epochs} epochs",
            flush=True,
        )
        _, metrics = train_candidate(
            arch, data, config.proxy_resolution, settings
        )
        keras.backend.clear_session()
        rows.append(
            {
                "model": f"{label} x{multiplier:.2f}",
                "channel_multiplier": multiplier,
                "params": cost.params,
                "macs": cost.macs,
                "val_accuracy": metrics["val_accuracy"],
                "arch": arch,
            }
        )
    wall = time.perf_counter() - start
    print()
    print(
        f"Proxy: {data.describe()}; {config.retrain_epochs} epochs each; "
        f"budget {format_macs(budget)} at 224x224"
    )
    print(
        "| model | params | MACs (multiply-adds) at 224 | proxy val. accuracy |"
    )
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['model']} | {row['params'] / 1e6:.2f} M | "
            f"{row['macs'] / 1e6:.0f} M | {row['val_accuracy']:.4f} |"
        )
    beats = all(
        rows[0]["val_accuracy"] > row["val_accuracy"] for row in rows[1:]
    )
    print(f"\nWinner beats every baseline: {beats}")
    print(
        f"Wall time: search pipeline {search_seconds:.0f} s, whole benchmark "
        f"{wall:.0f} s on {os.cpu_count()} cores ({platform.processor() or platform.machine()})"
    )
    atomic_write_json(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "search.json"),
        {
            "budget_macs": budget,
            "macs_unit": "MACs (multiply-adds)",
            "rows": rows,
            "winner_beats_every_baseline": beats,
            "search_seconds": search_seconds,
            "wall_seconds": wall,
            "resumed": resume,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
