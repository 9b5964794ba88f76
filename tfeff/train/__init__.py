"""Training helpers shared by recipes: metrics, losses, schedules.

Imported with the first Keras-using tfeff name (`tfeff/_lazy.py`,
`register_serializables`), so the `.keras` files recipes write (their
compile config names these losses, metrics and schedules) load with
`tfeff.load_model`, or with plain `keras.saving.load_model` once tfeff has
built a model or any Keras-using tfeff package is imported.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)
from tfeff._lazy import register_serializables
from tfeff.train.backup import AtomicBackupAndRestore
from tfeff.train.coco_eval import coco_detection_metrics
from tfeff.train.coco_eval import detections_to_coco
from tfeff.train.losses import SparseCrossEntropyIgnore
from tfeff.train.metrics import SegmentationIoU
from tfeff.train.metrics import confusion_matrix
from tfeff.train.metrics import iou_from_confusion
from tfeff.train.schedules import PerEpochSchedule
from tfeff.train.schedules import WarmupExponentialDecay

__all__ = [
    "AtomicBackupAndRestore",
    "PerEpochSchedule",
    "SegmentationIoU",
    "SparseCrossEntropyIgnore",
    "WarmupExponentialDecay",
    "coco_detection_metrics",
    "confusion_matrix",
    "detections_to_coco",
    "iou_from_confusion",
]

register_serializables(ignore=(__name__,))
