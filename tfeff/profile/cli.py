"""`tfeff-profile <variant or arch string> [--resolution N]`."""

import argparse
import json
import sys

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
    args = parser.parse_args(argv)
    num_classes = None if args.no_top else (args.num_classes or "auto")
    try:
        report = estimate_cost(
            args.arch, args.resolution, num_classes=num_classes
        )
    except (ValueError, TypeError) as error:
        parser.exit(2, f"tfeff-profile: error: {error}\n")
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        print()
    else:
        print(f"arch: {report.arch}")
        print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
