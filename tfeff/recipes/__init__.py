"""The published training recipes, installed with the package.

`python -m tfeff.recipes.imagenet`, `tfeff.recipes.coco` and
`tfeff.recipes.cityscapes` (or the repository's `recipes/*.py`, which run
these) train on the real data set formats; `configs/` holds each recipe's
published numbers. Every recipe takes `--weights` to start from ImageNet
weights (the backbone, for detection and segmentation).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables

register_serializables(ignore=(__name__,))
