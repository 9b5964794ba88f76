"""Cityscapes semantic segmentation with ESPNetv2's recipe (stage 1).

The recipe lives in the installed package (`tfeff.recipes.cityscapes`, also run
as `python -m tfeff.recipes.cityscapes`); this file keeps the repository's
`python recipes/cityscapes.py ...` working with the same flags (`--help`).
"""

import sys

from tfeff.recipes.cityscapes import main

if __name__ == "__main__":
    sys.exit(main())
