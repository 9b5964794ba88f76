"""Task metrics: segmentation IoU from a streaming confusion matrix.

Backend-agnostic (`keras.ops`), so the metric runs inside `fit` on the
TensorFlow and JAX backends alike.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras
import numpy as np
from keras import ops

IGNORE_LABEL = 255  # Cityscapes' and PASCAL VOC's "void" pixels.


def _check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(
            f"`num_classes` must be an int. Received: num_classes={num_classes!r}"
        )
    if num_classes < 2:
        raise ValueError(
            f"`num_classes` must be >= 2. Received: num_classes={num_classes}"
        )


def confusion_matrix(y_true, y_pred, num_classes, ignore_label=IGNORE_LABEL):
    """`(num_classes, num_classes)` counts, rows true, columns predicted.

    Args:
        y_true: int labels of any shape; `ignore_label` pixels are skipped.
        y_pred: int class ids of `y_true`'s shape, or logits/probabilities
            with one more (last) axis of size `num_classes`.
        num_classes: int.
        ignore_label: int or None.

    Returns:
        int64 tensor.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    # Labels may carry a trailing axis of 1, (batch, H, W, 1), as Keras
    # data pipelines often give them.
    if len(y_true.shape) >= 1 and y_true.shape[-1] == 1:
        if len(y_pred.shape) == len(y_true.shape) and y_pred.shape[-1] != 1:
            y_true = ops.squeeze(y_true, -1)
        elif len(y_pred.shape) == len(y_true.shape) - 1:
            y_true = ops.squeeze(y_true, -1)
    if len(y_pred.shape) == len(y_true.shape) + 1:
        y_pred = ops.argmax(y_pred, axis=-1)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            "`y_true` and the predicted labels must have the same shape. "
            f"Received: y_true.shape={tuple(y_true.shape)}, "
            f"y_pred.shape={tuple(y_pred.shape)}"
        )
    y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    y_pred = ops.reshape(ops.cast(y_pred, "int32"), (-1,))
    valid = (y_true >= 0) & (y_true < num_classes)
    if ignore_label is not None:
        valid = valid & (y_true != ignore_label)
    # Ignored pixels go to an extra bin that is cut off afterwards, which
    # keeps shapes static (boolean masking is not, under jit).
    size = num_classes * num_classes
    index = ops.where(valid, y_true * num_classes + y_pred, size)
    counts = ops.bincount(index, minlength=size + 1)[:size]
    return ops.reshape(ops.cast(counts, "int64"), (num_classes, num_classes))


def iou_from_confusion(matrix):
    """Per-class IoU (NaN for classes absent from both truth and prediction)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positive = np.diag(matrix)
    union = matrix.sum(0) + matrix.sum(1) - true_positive
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, true_positive / union, np.nan)


@keras.saving.register_keras_serializable(package="tfeff")
class SegmentationIoU(keras.metrics.Metric):
    """Mean IoU over classes from a confusion matrix accumulated over batches.

    Pixels labelled `ignore_label` count nowhere. Classes that appear in
    neither the labels nor the predictions seen so far are left out of the
    mean (the Cityscapes and VOC evaluation convention), and
    `per_class_iou()` reports them as NaN.

    Args:
        num_classes: int.
        ignore_label: int or None. Default 255.
        name: str.

    Example:

    >>> metric = SegmentationIoU(num_classes=3)
    >>> metric.update_state([[0, 1, 255]], [[0, 2, 1]])
    >>> float(metric.result())  # class 0: 1/1, class 1: 0/1, class 2: 0/1
    0.3333333432674408
    """

    def __init__(
        self, num_classes, ignore_label=IGNORE_LABEL, name="mean_iou", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        _check_num_classes(num_classes)
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes),
            initializer="zeros",
            # Exact counts: int64, or int32 where JAX runs without x64
            # (2**31 pixels per cell, about 1000 Cityscapes frames of road).
            dtype="int32" if keras.backend.backend() == "jax" else "int64",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(
                "SegmentationIoU counts pixels; mark pixels to skip with "
                f"ignore_label={self.ignore_label}. Received: sample_weight"
            )
        matrix = confusion_matrix(
            y_true, y_pred, self.num_classes, self.ignore_label
        )
        self.confusion.assign(
            self.confusion + ops.cast(matrix, self.confusion.dtype)
        )

    def result(self):
        matrix = ops.cast(self.confusion, "float32")
        true_positive = ops.diagonal(matrix)
        union = ops.sum(matrix, 0) + ops.sum(matrix, 1) - true_positive
        present = ops.cast(union > 0, "float32")
        iou = true_positive / ops.maximum(union, 1.0)
        return ops.sum(iou * present) / ops.maximum(ops.sum(present), 1.0)

    def per_class_iou(self):
        """numpy array of each class's IoU (NaN where the class is absent)."""
        return iou_from_confusion(ops.convert_to_numpy(self.confusion))

    def reset_state(self):
        self.confusion.assign(ops.zeros_like(self.confusion))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "ignore_label": self.ignore_label,
        }
