"""COCO reader: `annotations/instances_{split}.json` + `{split}/` images
through pycocotools (ecosystem.md §5.2).

- Category ids (1..90 with gaps) map to contiguous labels 1..C over the
  sorted ids (0 is the background), and back (`label_to_category_id`).
- Crowd regions (`iscrowd=1`) are left out of the training targets, as
  the reference SSD loaders do; `COCOeval` still sees them in the ground
  truth, where they make matching detections neither right nor wrong.

`CocoReader(data_dir, split).dataset(image_size, batch_size=...,
training=...)` yields `(images float32 [0, 255], targets)` with targets
`{"boxes": (max_boxes, 4) normalized (x1, y1, x2, y2), "labels":
(max_boxes,) int32 (0 = padding), "num_boxes", "image_id"}`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import contextlib
import io
import json
import os

import numpy as np

from tfeff.data.augment import DecodeErrors
from tfeff.data.augment import PerThreadTransform
from tfeff.data.augment import _check_size
from tfeff.data.augment import augmented_pipeline
from tfeff.data.augment import check_training_batch
from tfeff.data.augment import decode_image
from tfeff.data.augment import detection_transform
from tfeff.data.augment import read_bytes


class CocoReader:
    """One split of a COCO-format detection data set.

    Args:
        data_dir: str. Holds `annotations/instances_{split}.json` and the
            image folder `{split}/`.
        split: e.g. `"train2017"`, `"val2017"` (`"train"`/`"val"` also
            find the 2017 files).
        skip_empty: bool. Leave out images without a non-crowd box
            (training); evaluation keeps them.

    Attributes:
        coco: the pycocotools `COCO` index.
        category_ids: sorted COCO category ids; label `i` is
            `category_ids[i - 1]`.
        class_names: their names.
        image_ids: the images read, sorted.
        errors: `DecodeErrors`.
    """

    def __init__(self, data_dir, split="train2017", *, skip_empty=False):
        from pycocotools.coco import COCO

        data_dir = os.fspath(data_dir)
        names = (
            [split]
            if split.endswith(("2014", "2017"))
            else [split, f"{split}2017"]
        )
        for name in names:
            annotation_file = os.path.join(
                data_dir, "annotations", f"instances_{name}.json"
            )
            if os.path.isfile(annotation_file):
                break
        else:
            raise ValueError(
                f"No annotation file annotations/instances_{names[-1]}.json under "
                f"data_dir={data_dir!r} (split={split!r})."
            )
        image_dir = os.path.join(data_dir, name)
        if not os.path.isdir(image_dir):
            raise ValueError(
                f"Missing split folder {image_dir!r} (split={split!r}) beside "
                f"{annotation_file!r}."
            )
        try:
            with open(annotation_file) as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"Annotation file {annotation_file!r} does not parse as JSON: {error}"
            ) from None
        if not isinstance(data, dict) or not all(
            k in data for k in ("images", "annotations", "categories")
        ):
            raise ValueError(
                f"Annotation file {annotation_file!r} is not a COCO instances file "
                "(needs 'images', 'annotations' and 'categories')."
            )
        self.coco = COCO()
        self.coco.dataset = data
        with contextlib.redirect_stdout(io.StringIO()):
            self.coco.createIndex()
        self.data_dir, self.split, self.image_dir = data_dir, name, image_dir
        self.annotation_file = annotation_file
        self.category_ids = sorted(self.coco.getCatIds())
        self.class_names = [
            self.coco.cats[c]["name"] for c in self.category_ids
        ]
        self.category_id_to_label = {
            c: i + 1 for i, c in enumerate(self.category_ids)
        }
        for ann in data["annotations"]:
            if ann["category_id"] not in self.category_id_to_label:
                raise ValueError(
                    f"Annotation {ann.get('id')} has category_id "
                    f"{ann['category_id']}, which is not in the file's categories "
                    f"{self.category_ids}."
                )
        image_ids = sorted(self.coco.getImgIds())
        if skip_empty:
            image_ids = [i for i in image_ids if len(self.annotations(i)[1])]
        self.image_ids = image_ids
        self.num_examples = len(image_ids)
        self.errors = DecodeErrors()

    @property
    def num_classes(self):
        return len(self.category_ids)

    def label_to_category_id(self, label):
        return self.category_ids[int(label) - 1]

    def annotations(self, image_id):
        """(boxes (n, 4) normalized corners, labels (n,), crowd boxes) of
        one image; zero-size boxes are dropped."""
        info = self.coco.imgs[image_id]
        width, height = float(info["width"]), float(info["height"])
        boxes, labels, crowd = [], [], []
        for ann in self.coco.imgToAnns.get(image_id, []):
            x, y, w, h = ann["bbox"]
            if w <= 0 or h <= 0:
                continue
            box = [x / width, y / height, (x + w) / width, (y + h) / height]
            box = [min(max(v, 0.0), 1.0) for v in box]
            if ann.get("iscrowd", 0):
                crowd.append(box)
            else:
                boxes.append(box)
                labels.append(self.category_id_to_label[ann["category_id"]])
        as_boxes = lambda b: np.asarray(b, np.float32).reshape(-1, 4)  # noqa: E731
        return as_boxes(boxes), np.asarray(labels, np.int32), as_boxes(crowd)

    def dataset(
        self,
        image_size=300,
        *,
        batch_size=None,
        training=False,
        seed=None,
        max_boxes=100,
        shuffle_buffer=1000,
    ):
        """`tf.data.Dataset` of `(image, targets)`; see the module doc."""
        import tensorflow as tf

        height, width = _check_size(image_size, "image_size")
        check_training_batch(batch_size, self.num_examples, training)
        transform = PerThreadTransform(
            lambda: detection_transform((height, width), training=training)
        )
        errors = self.errors

        def load(element_seed, image_id):
            image_id = int(image_id)
            path = os.path.join(
                self.image_dir, self.coco.imgs[image_id]["file_name"]
            )
            boxes = np.zeros((max_boxes, 4), np.float32)
            labels = np.zeros((max_boxes,), np.int32)
            image = decode_image(read_bytes(path, errors), path, errors)
            if image is None:
                return (
                    np.zeros((height, width, 3), np.float32),
                    boxes,
                    labels,
                    0,
                    False,
                )
            gt_boxes, gt_labels, _ = self.annotations(image_id)
            out = transform(
                element_seed, image=image, bboxes=gt_boxes, labels=gt_labels
            )
            kept = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)[
                :max_boxes
            ]
            count = len(kept)
            boxes[:count] = kept
            labels[:count] = np.asarray(out["labels"], np.int32)[:count]
            return out["image"].astype(np.float32), boxes, labels, count, True

        def to_numpy(element_seed, image_id):
            image, boxes, labels, count, ok = tf.numpy_function(
                load,
                [element_seed, image_id],
                [tf.float32, tf.float32, tf.int32, tf.int64, tf.bool],
                stateful=True,
            )
            image.set_shape((height, width, 3))
            boxes.set_shape((max_boxes, 4))
            labels.set_shape((max_boxes,))
            count.set_shape(())
            ok.set_shape(())
            targets = {
                "boxes": boxes,
                "labels": labels,
                "num_boxes": tf.cast(count, tf.int32),
                "image_id": image_id,
            }
            return image, targets, ok

        data = tf.data.Dataset.from_tensor_slices(
            np.asarray(self.image_ids, np.int64)
        )
        return augmented_pipeline(
            data,
            to_numpy,
            training=training,
            seed=seed,
            batch_size=batch_size,
            shuffle_buffer=shuffle_buffer,
        )
