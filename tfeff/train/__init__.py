"""Training helpers shared by recipes: metrics."""

from tfeff.train.metrics import SegmentationIoU
from tfeff.train.metrics import confusion_matrix
from tfeff.train.metrics import iou_from_confusion

__all__ = ["SegmentationIoU", "confusion_matrix", "iou_from_confusion"]
