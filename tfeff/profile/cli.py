"""`tfeff-profile <variant or arch string> [--resolution N] [--latency]`."""

import argparse
import json
import sys

from tfeff._cli import add_traceback_flag
from tfeff._cli import errors_as_one_line
from tfeff.profile.cost import estimate_cost


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tfeff-profile",
        description="Print parameters and MACs (multiply-adds, the papers' "
        "'FLOPs') of a variant or arch string, per block.",
    )
    parser.add_argument(
        "arch", help="variant name (e.g. efficientnet_b0) or arch string"
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=None,
        help="input size (default: the variant's)",
    )
    parser.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="cost a classifier of this width (default: the variant's)",
    )
    parser.add_argument(
        "--no-top", action="store_true", help="cost the backbone only"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON"
    )
    parser.add_argument(
        "--latency",
        action="store_true",
        help="also measure the TFLite latency on this host (batch 1; the "
        "figure to anchor tfeff-search --latency-budget on)",
    )
    parser.add_argument(
        "--latency-mode",
        choices=("int8", "float32"),
        default="int8",
        help="the TFLite model timed: fully int8, as the search exports "
        "(default), or float32",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="interpreter threads for --latency (default 1, as the search)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's warnings while measuring",
    )
    add_traceback_flag(parser)
    args = parser.parse_args(argv)
    with errors_as_one_line(parser, args):
        return _run(parser, args)


def _run(parser, args):
    num_classes = None if args.no_top else (args.num_classes or "auto")
    try:
        if args.threads < 1:
            raise ValueError(
                f"--threads must be >= 1. Received: --threads={args.threads}"
            )
        report = estimate_cost(
            args.arch, args.resolution, num_classes=num_classes
        )
    except (ValueError, TypeError) as error:
        if args.traceback:
            raise
        parser.exit(2, f"tfeff-profile: error: {error}\n")
    result = report.to_dict()
    if args.latency:
        result["latency"] = _measure(report, args)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"arch: {report.arch}")
        print(report.table())
        if args.latency:
            latency = result["latency"]
            print(
                f"latency: {latency['milliseconds']:.2f} ms, "
                f"{latency['mode']} TFLite, batch 1, {latency['threads']} "
                f"thread{'s' if latency['threads'] != 1 else ''}, "
                f"{latency['input']}, {latency['host']}"
            )
    return 0


def _measure(report, args):
    """The report's network built with random weights, converted, timed."""
    from tfeff._console import set_verbose
    from tfeff.models.builder import build_backbone
    from tfeff.models.builder import build_image_classifier
    from tfeff.profile.latency import describe_host
    from tfeff.profile.latency import measure_model_latency

    set_verbose(args.verbose)
    height, width = report.input_size
    shape = (height, width, 3)
    if report.num_classes is None:
        model = build_backbone(report.arch, input_shape=shape)
    else:
        model = build_image_classifier(
            report.arch, num_classes=report.num_classes, input_shape=shape
        )
    milliseconds = measure_model_latency(
        model,
        mode=args.latency_mode,
        num_threads=args.threads,
        untrained=True,
    )
    return {
        "milliseconds": milliseconds,
        "mode": args.latency_mode,
        "threads": args.threads,
        "input": f"{height}x{width}",
        "host": describe_host(),
    }


if __name__ == "__main__":
    sys.exit(main())
