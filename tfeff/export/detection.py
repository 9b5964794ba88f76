"""SSD post-processing: box offsets and class logits → detections.

TensorFlow ops (NMS has no `keras.ops` counterpart), so it lives with the
export code: the layer is part of the exported TFLite graph
(SOFTMAX, TOPK_V2, GATHER, NON_MAX_SUPPRESSION_V5). Deviation from
EdgeNets' box_predictor.py: one NMS over (anchor, class) candidates with
boxes offset per class (so classes never suppress each other) instead of a
loop over classes; the best `candidates` scores enter it (reference: every
score above the threshold, top 200 per class).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras
import numpy as np

from tfeff.models.ssd import DEFAULT_VARIANCES
from tfeff.models.ssd import SSDDetector
from tfeff.models.ssd import _check_int
from tfeff.models.ssd import decode_boxes


@keras.saving.register_keras_serializable(package="tfeff")
class SSDPostprocess(keras.layers.Layer):
    """Box offsets and class logits → the top detections of each image.

    Softmax over classes; the best `candidates` (anchor, class) scores
    above `score_threshold` go through one NMS with boxes offset by class
    (per-class NMS); the `max_detections` best survive. TensorFlow backend
    only (its ops convert to TFLite builtins: SOFTMAX, TOPK_V2, GATHER,
    NON_MAX_SUPPRESSION_V5).

    Args:
        anchors: `(num_anchors, 4)` center-form anchors (`model.anchors`).
        score_threshold, iou_threshold: floats. EdgeNets: 0.01, 0.45.
        max_detections: int. EdgeNets' top_k: 200.
        candidates: int. Scores entering the NMS.
        variances: the box coding's variances.

    Call returns a dict: `boxes` `(batch, max_detections, 4)` corner boxes
    in [0, 1], `scores` `(batch, max_detections)`, `classes`
    `(batch, max_detections)` int32 labels >= 1, `num_detections`
    `(batch,)` int32; rows past `num_detections` are zero.
    """

    def __init__(
        self,
        anchors,
        *,
        score_threshold=0.01,
        iou_threshold=0.45,
        max_detections=200,
        candidates=1000,
        variances=DEFAULT_VARIANCES,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.anchors = np.asarray(anchors, dtype="float32")
        if self.anchors.ndim != 2 or self.anchors.shape[1] != 4:
            raise ValueError(
                "`anchors` must have shape (num_anchors, 4). Received: "
                f"shape {self.anchors.shape}"
            )
        for key, value in (
            ("score_threshold", score_threshold),
            ("iou_threshold", iou_threshold),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"`{key}` must be in [0, 1]. Received: {key}={value!r}"
                )
        _check_int(max_detections, "max_detections", 1)
        _check_int(candidates, "candidates", 1)
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = max_detections
        self.candidates = candidates
        self.variances = tuple(variances)

    def _one_image(self, args):
        import tensorflow as tf

        offsets, logits = args
        boxes = decode_boxes(offsets, self.anchors, self.variances)
        half = boxes[:, 2:] / 2
        corners = tf.clip_by_value(
            tf.concat([boxes[:, :2] - half, boxes[:, :2] + half], -1), 0.0, 1.0
        )
        scores = tf.nn.softmax(logits, axis=-1)[:, 1:]
        classes = tf.shape(scores)[1]
        flat = tf.reshape(scores, [-1])
        count = min(
            self.candidates, int(self.anchors.shape[0]) * (logits.shape[-1] - 1)
        )
        top_scores, top_index = tf.math.top_k(flat, k=count)
        anchor_index = top_index // classes
        labels = top_index % classes
        top_boxes = tf.gather(corners, anchor_index)
        # Boxes of different classes never overlap after the offset, so one
        # NMS is a per-class NMS. NMS takes (y1, x1, y2, x2).
        shift = tf.cast(labels, tf.float32)[:, None] * 2.0
        shifted = tf.gather(top_boxes + shift, [1, 0, 3, 2], axis=1)
        selected, selected_scores, valid = tf.raw_ops.NonMaxSuppressionV5(
            boxes=shifted,
            scores=top_scores,
            max_output_size=self.max_detections,
            iou_threshold=self.iou_threshold,
            score_threshold=self.score_threshold,
            soft_nms_sigma=0.0,
            pad_to_max_output_size=True,
        )
        keep = tf.cast(tf.range(self.max_detections) < valid, tf.float32)
        out_boxes = tf.gather(top_boxes, selected) * keep[:, None]
        out_classes = (tf.gather(labels, selected) + 1) * tf.cast(
            keep, tf.int32
        )
        return out_boxes, selected_scores * keep, out_classes, valid

    def call(self, box_offsets, class_logits):
        import tensorflow as tf

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "SSDPostprocess needs the TensorFlow backend (it is part of "
                "the exported TFLite graph); decode with "
                "tfeff.models.ssd.decode_boxes on other backends."
            )
        batch = box_offsets.shape[0]
        if isinstance(batch, int):
            # A static batch (the exporter fixes it to 1): unrolled, as
            # TFLite's WHILE cannot run this body.
            per_image = [
                self._one_image((box_offsets[i], class_logits[i]))
                for i in range(batch)
            ]
            boxes, scores, classes, valid = (
                tf.stack(parts) for parts in zip(*per_image)
            )
        else:
            boxes, scores, classes, valid = tf.map_fn(
                self._one_image,
                (box_offsets, class_logits),
                fn_output_signature=(
                    tf.float32,
                    tf.float32,
                    tf.int32,
                    tf.int32,
                ),
            )
        return {
            "boxes": boxes,
            "scores": scores,
            "classes": classes,
            "num_detections": valid,
        }

    def compute_output_spec(self, box_offsets, class_logits):
        batch = box_offsets.shape[0]
        k = self.max_detections
        return {
            "boxes": keras.KerasTensor((batch, k, 4)),
            "scores": keras.KerasTensor((batch, k)),
            "classes": keras.KerasTensor((batch, k), dtype="int32"),
            "num_detections": keras.KerasTensor((batch,), dtype="int32"),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "anchors": self.anchors.tolist(),
                "score_threshold": self.score_threshold,
                "iou_threshold": self.iou_threshold,
                "max_detections": self.max_detections,
                "candidates": self.candidates,
                "variances": list(self.variances),
            }
        )
        return config


def with_postprocessing(detector, **kwargs):
    """A model from images to `SSDPostprocess`'s detections (for export and
    inference). `kwargs` go to `SSDPostprocess`."""
    if not isinstance(detector, SSDDetector):
        raise TypeError(
            f"`detector` must be an SSDDetector. Received: {type(detector).__name__}"
        )
    box_offsets, class_logits = detector.outputs
    detections = SSDPostprocess(detector.anchors, name="postprocess", **kwargs)(
        box_offsets, class_logits
    )
    return keras.Model(
        detector.inputs, detections, name=f"{detector.name}_detect"
    )
