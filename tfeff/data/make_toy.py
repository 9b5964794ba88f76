"""`python -m tfeff.data.make_toy --format imagenet|coco|cityscapes --out DIR`.

Writes a small data set of drawn shapes in exactly the real layout (see
`tfeff.data.toy`), so tests and smoke runs go through the real readers.
"""

import argparse
import sys

from tfeff.data.toy import FORMATS
from tfeff.data.toy import make_toy


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tfeff.data.make_toy",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    summary = make_toy(args.format, args.out, seed=args.seed)
    counts = ", ".join(f"{k} {summary[k]}" for k in ("train", "val"))
    print(f"wrote toy {args.format} ({counts} images) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
