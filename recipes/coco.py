"""COCO detection: SSD on any backbone with ESPNetv2-SSD's recipe.

The recipe lives in the installed package (`tfeff.recipes.coco`, also run
as `python -m tfeff.recipes.coco`); this file keeps the repository's
`python recipes/coco.py ...` working with the same flags (`--help`).
"""

import sys

from tfeff.recipes.coco import main

if __name__ == "__main__":
    sys.exit(main())
