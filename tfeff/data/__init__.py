"""Data sets and readers: the embedded default for proxy tasks, readers of
ImageNet / COCO / Cityscapes on disk (tf.data + albumentations), and toy
data writers in their layouts. The readers import albumentations and
pycocotools (the `data` extra) when used.

Names import on first use (`tfeff/_lazy.py`); `tfeff.data.names` is pure
Python.
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = (
    "augment",
    "cityscapes",
    "cityscapes_labels",
    "classification",
    "coco",
    "imagenet",
    "images",
    "make_toy",
    "names",
    "synthetic",
    "toy",
)
_EXPORTS = {
    "ImageDataset": "tfeff.data.classification",
    "load_dataset": "tfeff.data.classification",
    "load_digits": "tfeff.data.classification",
    "load_image_folder": "tfeff.data.classification",
    **{name: f"tfeff.data.{name}" for name in _SUBMODULES},
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = ["ImageDataset", "load_dataset", "load_digits", "load_image_folder"]
