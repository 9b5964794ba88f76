"""`python -m tfeff.data.make_toy --format imagenet|coco|cityscapes --out DIR`.

Writes a small data set of drawn shapes in exactly the real layout (see
`tfeff.data.toy`), so tests and smoke runs go through the real readers.
"""

import argparse
import sys

from tfeff._cli import add_traceback_flag
from tfeff._cli import check_output_folder
from tfeff._cli import errors_as_one_line
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
    add_traceback_flag(parser)
    args = parser.parse_args(argv)
    with errors_as_one_line(parser, args):
        check_output_folder(args.out, "--out")
        summary = make_toy(args.format, args.out, seed=args.seed)
    counts = ", ".join(f"{k} {summary[k]}" for k in ("train", "val"))
    print(f"wrote toy {args.format} ({counts} images) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
