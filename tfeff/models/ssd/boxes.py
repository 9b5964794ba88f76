"""SSD box coding and matching (numpy, for the data side and tests;
EdgeNets utilities/box_utils.py). Corner boxes are `(x1, y1, x2, y2)`,
center boxes `(cx, cy, w, h)`, normalized; label 0 is the background."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras
import numpy as np

DEFAULT_VARIANCES = (0.1, 0.2)  # EdgeNets ssd_config.py center/size variance.


def center_to_corner(boxes):
    boxes = np.asarray(boxes, dtype="float32")
    half = boxes[..., 2:] / 2
    return np.concatenate([boxes[..., :2] - half, boxes[..., :2] + half], -1)


def corner_to_center(boxes):
    boxes = np.asarray(boxes, dtype="float32")
    return np.concatenate(
        [
            (boxes[..., :2] + boxes[..., 2:]) / 2,
            boxes[..., 2:] - boxes[..., :2],
        ],
        -1,
    )


def encode_boxes(boxes, anchors, variances=DEFAULT_VARIANCES):
    """Center-form boxes → regression targets against center-form anchors."""
    boxes = np.asarray(boxes, dtype="float32")
    anchors = np.asarray(anchors, dtype="float32")
    center = (
        (boxes[..., :2] - anchors[..., :2]) / anchors[..., 2:] / variances[0]
    )
    with np.errstate(divide="ignore"):
        size = np.log(boxes[..., 2:] / anchors[..., 2:]) / variances[1]
    return np.concatenate([center, size], -1).astype("float32")


def decode_boxes(offsets, anchors, variances=DEFAULT_VARIANCES):
    """Regression outputs → center-form boxes; `keras.ops`, any backend.

    Args:
        offsets: `(..., num_anchors, 4)` tensor.
        anchors: `(num_anchors, 4)` center-form anchors.
    """
    ops = keras.ops
    anchors = ops.convert_to_tensor(anchors, dtype=offsets.dtype)
    center = offsets[..., :2] * variances[0] * anchors[:, 2:] + anchors[:, :2]
    size = ops.exp(offsets[..., 2:] * variances[1]) * anchors[:, 2:]
    return ops.concatenate([center, size], axis=-1)


def iou_matrix(boxes_a, boxes_b):
    """IoU of every corner box in `boxes_a` (n, 4) with `boxes_b` (m, 4)."""
    a = np.asarray(boxes_a, dtype="float32")[:, None, :]
    b = np.asarray(boxes_b, dtype="float32")[None, :, :]
    top_left = np.maximum(a[..., :2], b[..., :2])
    bottom_right = np.minimum(a[..., 2:], b[..., 2:])
    overlap = np.prod(np.clip(bottom_right - top_left, 0, None), -1)
    area_a = np.prod(np.clip(a[..., 2:] - a[..., :2], 0, None), -1)
    area_b = np.prod(np.clip(b[..., 2:] - b[..., :2], 0, None), -1)
    return overlap / (area_a + area_b - overlap + 1e-5)


def match_anchors(
    gt_boxes,
    gt_labels,
    anchors,
    *,
    iou_threshold=0.45,
    variances=DEFAULT_VARIANCES,
):
    """Training targets of one image (EdgeNets box_utils.assign_priors).

    Each anchor takes the ground-truth box it overlaps most; each box also
    claims the anchor it overlaps most (so every box has one); anchors
    whose best IoU is below `iou_threshold` are background (label 0).

    Args:
        gt_boxes: `(n, 4)` corner boxes in [0, 1]; n may be 0.
        gt_labels: `(n,)` int labels >= 1.
        anchors: `(num_anchors, 4)` center-form anchors.

    Returns:
        (offsets `(num_anchors, 4)` float32, labels `(num_anchors,)` int32).
    """
    gt_boxes = np.asarray(gt_boxes, dtype="float32").reshape(-1, 4)
    gt_labels = np.asarray(gt_labels, dtype="int32").reshape(-1)
    if len(gt_boxes) != len(gt_labels):
        raise ValueError(
            "`gt_boxes` and `gt_labels` must have the same length. Received: "
            f"{len(gt_boxes)} boxes and {len(gt_labels)} labels"
        )
    if len(gt_labels) and gt_labels.min() < 1:
        raise ValueError(
            "`gt_labels` must be >= 1 (0 is the background). Received: "
            f"min label {int(gt_labels.min())}"
        )
    anchors = np.asarray(anchors, dtype="float32")
    count = len(anchors)
    if not len(gt_boxes):
        return np.zeros((count, 4), "float32"), np.zeros((count,), "int32")
    ious = iou_matrix(center_to_corner(anchors), gt_boxes)  # (anchors, n)
    best_target = ious.argmax(1)
    best_overlap = ious.max(1)
    best_anchor = ious.argmax(0)
    for target, anchor in enumerate(best_anchor):
        best_target[anchor] = target
    best_overlap[best_anchor] = 2.0  # Above any threshold.
    labels = gt_labels[best_target].copy()
    labels[best_overlap < iou_threshold] = 0
    matched = corner_to_center(gt_boxes[best_target])
    offsets = encode_boxes(matched, anchors, variances)
    return offsets, labels.astype("int32")


def ssd_targets(gt_boxes, gt_labels, anchors, **kwargs):
    """`match_anchors` shaped for `SSDBoxLoss` / `SSDClassLoss`:
    `(box_target (anchors, 5), labels (anchors,))`."""
    offsets, labels = match_anchors(gt_boxes, gt_labels, anchors, **kwargs)
    box_target = np.concatenate(
        [offsets, labels[:, None].astype("float32")], -1
    )
    return box_target, labels
