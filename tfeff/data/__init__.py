"""Data sets and readers: the embedded default for proxy tasks, readers of
ImageNet / COCO / Cityscapes on disk (tf.data + albumentations), and toy
data writers in their layouts. The readers import albumentations and
pycocotools (the `data` extra) when used."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)
from tfeff._lazy import register_serializables
from tfeff.data.classification import ImageDataset
from tfeff.data.classification import load_dataset
from tfeff.data.classification import load_digits
from tfeff.data.classification import load_image_folder

__all__ = ["ImageDataset", "load_dataset", "load_digits", "load_image_folder"]

register_serializables(ignore=(__name__,))
