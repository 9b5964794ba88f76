"""ImageNet readers: the class-per-folder layout and the TPU TFRecords.

- Folder: `{data_dir}/{split}/<wnid>/*.JPEG`; classes are the sorted wnid
  folders (Keras' `image_dataset_from_directory` order).
- TFRecord: `{data_dir}/train-%05d-of-%05d` / `validation-%05d-of-%05d`
  written by the TPU tooling's imagenet_to_gcs.py, read through its
  feature names `image/encoded` and `image/class/label` (1-based: minus 1,
  as the EfficientNet reader does). ecosystem.md §5.3.

`ImageNetReader(data_dir, split).dataset(image_size, batch_size=...,
training=...)` yields `(images float32 [0, 255], labels int32)`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import glob
import os

import numpy as np

from tfeff.data.augment import CHUNK_SIZE
from tfeff.data.augment import DecodeErrors
from tfeff.data.augment import PerThreadTransform
from tfeff.data.augment import augmented_pipeline
from tfeff.data.augment import check_training_batch
from tfeff.data.augment import classification_transform
from tfeff.data.augment import decode_image
from tfeff.data.augment import over_chunk
from tfeff.data.augment import read_bytes

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
_TFRECORD_PREFIX = {
    "train": "train",
    "val": "validation",
    "validation": "validation",
}


def _tfrecord_files(data_dir, split):
    prefix = _TFRECORD_PREFIX.get(split, split)
    return sorted(glob.glob(os.path.join(data_dir, f"{prefix}-*-of-*")))


def _unreadable_shard(path):
    """Why a TFRecord shard cannot be used, or None: it must open and start
    with a record header (8-byte length, 4-byte CRC)."""
    try:
        with open(path, "rb") as file:
            header = file.read(12)
    except OSError as error:
        return error.strerror or str(error)
    if 0 < len(header) < 12:  # empty is a shard of no records
        return "shorter than one TFRecord header"
    return None


class ImageNetReader:
    """One split of ImageNet on disk.

    Args:
        data_dir: str. The folder holding `train/`, `val/` (folder layout)
            or the TFRecord shards.
        split: `"train"` or `"val"` (`"validation"` for the TFRecords).
        layout: `"auto"`, `"folder"` or `"tfrecord"`.

    Attributes:
        class_names: sorted wnids (folder layout), else None.
        num_examples: int (folder layout), else None.
        errors: `DecodeErrors` of the images skipped so far.
    """

    def __init__(self, data_dir, split="train", *, layout="auto"):
        if layout not in ("auto", "folder", "tfrecord"):
            raise ValueError(
                "`layout` must be 'auto', 'folder' or 'tfrecord'. Received: "
                f"layout={layout!r}"
            )
        data_dir = os.fspath(data_dir)
        if not os.path.isdir(data_dir):
            raise ValueError(
                f"`data_dir` is not a directory. Received: {data_dir!r}"
            )
        self.data_dir, self.split = data_dir, split
        shards = _tfrecord_files(data_dir, split)
        folder = os.path.join(data_dir, split)
        if layout == "auto":
            layout = "tfrecord" if shards else "folder"
        self.layout = layout
        self.errors = DecodeErrors()
        self.class_names = None
        self.num_examples = None
        if layout == "tfrecord":
            if not shards:
                raise ValueError(
                    f"No TFRecord shards '{_TFRECORD_PREFIX.get(split, split)}"
                    f"-*-of-*' in {data_dir!r} (split={split!r})."
                )
            self.files = []
            for shard in shards:
                problem = _unreadable_shard(shard)
                if problem:
                    self.errors.add(shard, problem)
                else:
                    self.files.append(shard)
            if not self.files:
                raise ValueError(
                    f"None of the {len(shards)} TFRecord shards of "
                    f"split={split!r} in {data_dir!r} can be read "
                    f"({self.errors.examples[0]})."
                )
            return
        if not os.path.isdir(folder):
            found = sorted(os.listdir(data_dir))[:10]
            raise ValueError(
                f"Missing split folder {folder!r} (split={split!r}); {data_dir!r} "
                f"holds {found}."
            )
        self.class_names = sorted(
            d
            for d in os.listdir(folder)
            if os.path.isdir(os.path.join(folder, d))
        )
        if not self.class_names:
            raise ValueError(f"No class folders in {folder!r}.")
        paths, labels = [], []
        for label, name in enumerate(self.class_names):
            for file in sorted(os.listdir(os.path.join(folder, name))):
                if file.lower().endswith(IMAGE_SUFFIXES):
                    paths.append(os.path.join(folder, name, file))
                    labels.append(label)
        self.files, self.labels = paths, np.asarray(labels, np.int32)
        self.num_examples = len(paths)

    @property
    def num_classes(self):
        return None if self.class_names is None else len(self.class_names)

    def _records(self):
        """(bytes, label, source) elements; the bytes are empty for the
        folder layout (read where they are decoded)."""
        import tensorflow as tf

        if self.layout == "folder":
            # The bytes are read in Python with the decoding (`dataset`):
            # tf.io.read_file's NotFoundError on one dangling link or
            # unreadable file ends the whole process mid-epoch.
            data = tf.data.Dataset.from_tensor_slices((self.files, self.labels))
            return data.map(lambda path, label: (tf.constant(b""), label, path))
        features = {
            "image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/class/label": tf.io.FixedLenFeature([], tf.int64),
            "image/filename": tf.io.FixedLenFeature(
                [], tf.string, default_value=""
            ),
        }

        def parse(record):
            parsed = tf.io.parse_single_example(record, features)
            label = tf.cast(parsed["image/class/label"], tf.int32) - 1
            tf.debugging.assert_non_negative(
                label,
                message="image/class/label must be 1-based (1..num_classes)",
            )
            return parsed["image/encoded"], label, parsed["image/filename"]

        # One shard at a time, in order; a shard corrupt part-way loses
        # its remaining records, not the run (DataLossError would end it).
        files = tf.data.Dataset.from_tensor_slices(self.files)
        records = files.interleave(
            lambda file: tf.data.TFRecordDataset(file).ignore_errors(),
            cycle_length=1,  # sequential: the shards' order, as before
        )
        return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE)

    def dataset(
        self,
        image_size=224,
        *,
        batch_size=None,
        training=False,
        seed=None,
        scale=(0.08, 1.0),
        shuffle_buffer=10_000,
    ):
        """`tf.data.Dataset` of `(image, label)` (batched if `batch_size`).

        Training: shuffled, RandomResizedCrop(`scale`) + flip + colour;
        evaluation: resize + centre crop. Deterministic for a given `seed`.
        """
        import tensorflow as tf

        from tfeff.data.augment import _check_size

        height, width = _check_size(image_size, "image_size")
        check_training_batch(batch_size, self.num_examples, training)
        transform = PerThreadTransform(
            lambda: classification_transform(
                (height, width), training=training, scale=scale
            )
        )
        errors = self.errors
        from_files = self.layout == "folder"

        def load(element_seed, data, label, source):
            source = source.decode(errors="replace")
            if from_files:
                data = read_bytes(source, errors)
            image = decode_image(data, source, errors)
            if image is None:
                return np.zeros((height, width, 3), np.float32), label, False
            image = transform(element_seed, image=image)["image"]
            return image.astype(np.float32), label, True

        def to_numpy(element_seed, record):
            data, label, source = record
            image, label, ok = tf.numpy_function(
                over_chunk(load),
                [element_seed, data, label, source],
                [tf.float32, tf.int32, tf.bool],
                stateful=True,
            )
            image.set_shape((None, height, width, 3))
            label.set_shape((None,))
            ok.set_shape((None,))
            return image, label, ok

        data = self._records()
        return augmented_pipeline(
            data,
            to_numpy,
            training=training,
            seed=seed,
            batch_size=batch_size,
            shuffle_buffer=shuffle_buffer,
            chunk_size=CHUNK_SIZE,
        )
