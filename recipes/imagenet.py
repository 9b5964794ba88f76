"""ImageNet classification with a published recipe.

The recipe lives in the installed package (`tfeff.recipes.imagenet`, also run
as `python -m tfeff.recipes.imagenet`); this file keeps the repository's
`python recipes/imagenet.py ...` working with the same flags (`--help`).
"""

import sys

from tfeff.recipes.imagenet import main

if __name__ == "__main__":
    sys.exit(main())
