"""Training helpers shared by recipes: metrics."""

from tfeff.train.coco_eval import coco_detection_metrics
from tfeff.train.coco_eval import detections_to_coco
from tfeff.train.metrics import SegmentationIoU
from tfeff.train.metrics import confusion_matrix
from tfeff.train.metrics import iou_from_confusion

__all__ = [
    "SegmentationIoU",
    "coco_detection_metrics",
    "confusion_matrix",
    "detections_to_coco",
    "iou_from_confusion",
]
