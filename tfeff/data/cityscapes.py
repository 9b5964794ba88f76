"""Cityscapes reader: `leftImg8bit` images with `gtFine` labelIds masks,
mapped to the 19 train ids (255 ignored) through cityscapesScripts' table
(`tfeff.data.cityscapes_labels`). Layout: ecosystem.md §5.1.

`CityscapesReader(data_dir, split).dataset(crop_size, batch_size=...,
training=...)` yields `(images float32 [0, 255], masks int32 trainIds)`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import glob
import os

import numpy as np

from tfeff.data.augment import CHUNK_SIZE
from tfeff.data.augment import DecodeErrors
from tfeff.data.augment import PerThreadTransform
from tfeff.data.augment import _check_size
from tfeff.data.augment import augmented_pipeline
from tfeff.data.augment import check_training_batch
from tfeff.data.augment import decode_image
from tfeff.data.augment import decode_mask
from tfeff.data.augment import over_chunk
from tfeff.data.augment import read_bytes
from tfeff.data.augment import segmentation_transform
from tfeff.data.cityscapes_labels import IGNORE_LABEL
from tfeff.data.cityscapes_labels import LABELS
from tfeff.data.cityscapes_labels import NUM_TRAIN_CLASSES
from tfeff.data.cityscapes_labels import label_id_to_train_id_table

_IMAGE_SUFFIX = "_leftImg8bit.png"
_MASK_SUFFIX = "_gtFine_labelIds.png"
KNOWN_LABEL_IDS = frozenset(lab.id for lab in LABELS if lab.id >= 0)


def to_train_ids(label_ids, source="mask"):
    """labelIds (uint8 array) → trainIds (uint8, 255 ignored).

    Raises:
        ValueError: an id that is not in cityscapesScripts' table.
    """
    label_ids = np.asarray(label_ids)
    present = set(np.unique(label_ids).tolist())
    unknown = sorted(present - KNOWN_LABEL_IDS)
    if unknown:
        raise ValueError(
            f"{source}: label ids {unknown[:5]} are not Cityscapes labelIds "
            f"(0..33). Is this a *_labelIds.png (not _color or _instanceIds)?"
        )
    return label_id_to_train_id_table()[label_ids]


class CityscapesReader:
    """One split (`train`, `val`, `test`) of Cityscapes' fine annotations.

    Attributes:
        pairs: list of (image path, labelIds path).
        num_classes: 19 (train ids); 255 is the ignore label.
        errors: `DecodeErrors` of the pairs skipped so far.
    """

    num_classes = NUM_TRAIN_CLASSES
    ignore_label = IGNORE_LABEL

    def __init__(self, data_dir, split="train"):
        data_dir = os.fspath(data_dir)
        image_root = os.path.join(data_dir, "leftImg8bit", split)
        mask_root = os.path.join(data_dir, "gtFine", split)
        for root in (image_root, mask_root):
            if not os.path.isdir(root):
                raise ValueError(
                    f"Missing split folder {root!r} (split={split!r}); expected "
                    "leftImg8bit/{split}/{city}/ and gtFine/{split}/{city}/ under "
                    f"data_dir={data_dir!r}."
                )
        self.data_dir, self.split = data_dir, split
        images = sorted(
            glob.glob(os.path.join(image_root, "*", f"*{_IMAGE_SUFFIX}"))
        )
        if not images:
            raise ValueError(f"No *{_IMAGE_SUFFIX} files under {image_root!r}.")
        self.pairs = []
        for image in images:
            city = os.path.basename(os.path.dirname(image))
            stem = os.path.basename(image)[: -len(_IMAGE_SUFFIX)]
            mask = os.path.join(mask_root, city, f"{stem}{_MASK_SUFFIX}")
            if not os.path.isfile(mask):
                raise ValueError(
                    f"No labelIds mask for {image!r}: expected {mask!r}."
                )
            self.pairs.append((image, mask))
        self.num_examples = len(self.pairs)
        self.errors = DecodeErrors()

    def dataset(
        self,
        crop_size=(256, 512),
        *,
        batch_size=None,
        training=False,
        seed=None,
        scale=(0.5, 2.0),
        shuffle_buffer=1000,
    ):
        """`tf.data.Dataset` of `(image (h, w, 3), mask (h, w) int32)`.

        Training: random scale, crop (pad with 255 in the mask), flip;
        evaluation: resize to `crop_size` (`(height, width)`).
        """
        import tensorflow as tf

        height, width = _check_size(crop_size, "crop_size")
        check_training_batch(batch_size, self.num_examples, training)
        transform = PerThreadTransform(
            lambda: segmentation_transform(
                (height, width), training=training, scale=scale
            )
        )
        errors = self.errors

        def load(element_seed, image_path, mask_path):
            image_path = image_path.decode()
            mask_path = mask_path.decode()
            image = decode_image(
                read_bytes(image_path, errors), image_path, errors
            )
            ids = decode_mask(read_bytes(mask_path, errors), mask_path, errors)
            if image is None or ids is None:
                empty = np.zeros((height, width), np.int32)
                return np.zeros((height, width, 3), np.float32), empty, False
            mask = to_train_ids(ids, mask_path)
            out = transform(element_seed, image=image, mask=mask)
            return (
                out["image"].astype(np.float32),
                out["mask"].astype(np.int32),
                True,
            )

        def to_numpy(element_seed, paths):
            image, mask, ok = tf.numpy_function(
                over_chunk(load),
                [element_seed, paths[:, 0], paths[:, 1]],
                [tf.float32, tf.int32, tf.bool],
                stateful=True,
            )
            image.set_shape((None, height, width, 3))
            mask.set_shape((None, height, width))
            ok.set_shape((None,))
            return image, mask, ok

        data = tf.data.Dataset.from_tensor_slices(
            [list(pair) for pair in self.pairs]
        )
        return augmented_pipeline(
            data,
            to_numpy,
            training=training,
            seed=seed,
            batch_size=batch_size,
            shuffle_buffer=shuffle_buffer,
            chunk_size=CHUNK_SIZE,
        )
