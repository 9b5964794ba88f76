"""SSD detection on any backbone: anchors, box coding, matching, multibox
loss, and post-processing that exports to TFLite.

`SSDDetector(arch, num_classes, input_size=300)` reads the backbone's P3,
P4 and P5 (strides 8, 16, 32), adds extra layers down to 1x1, optionally
fuses the levels top-down with efficient pyramid pooling (ESPNetv2-SSD),
and puts a box head and a class head on each level. Calling it returns
`[box_offsets (batch, anchors, 4), class_logits (batch, anchors,
num_classes + 1)]`; channel 0 of the logits is the background.
Post-processing (`tfeff.export.detection.SSDPostprocess`, TensorFlow
ops, part of the exported graph) is a separate layer, so training and
export can each take what they need.

Reference: sacmehta/EdgeNets model/detection/ssd.py, espnetv2.py,
ssd_config.py, generate_priors.py, utilities/box_utils.py (@ 5067df1f,
493c2280); ../shared/reference/architectures.md §5.3.

Conventions:
- Boxes are normalized to [0, 1]; "corner" boxes are `(x1, y1, x2, y2)`,
  "center" boxes `(cx, cy, w, h)`, both in image x/y order.
- Labels: 0 is the background, objects are 1..num_classes.

Deviations from reference:
- None in padding and batch norm: the heads compute with the backbone's
  numerics (`ArchSpec.numerics`; EdgeNets' are PyTorch's).
- Bilinear resizes use half-pixel centres, not `align_corners=True`;
  the pyramid pooling follows `tfeff.models.segmentation`'s deviations.
- Post-processing: see `tfeff.export.detection`.
"""

import dataclasses
import math

import keras
import numpy as np

from tfeff.blocks.common import activation_layer
from tfeff.blocks.common import batch_norm
from tfeff.blocks.common import conv
from tfeff.blocks.common import depthwise_conv
from tfeff.blocks.common import numerics_scope
from tfeff.layers.helpers import BilinearResize
from tfeff.models.builder import IMAGENET_MEAN
from tfeff.models.builder import IMAGENET_STD
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import _SpecModelMixin
from tfeff.models.segmentation import efficient_pyramid_pool

DEFAULT_VARIANCES = (0.1, 0.2)  # EdgeNets ssd_config.py center/size variance.
DEFAULT_EXTRA_CHANNELS = (512, 256, 128)  # EdgeNets espnetv2.py config[5:8].
# EdgeNets espnetv2.py: pyramid scales of the top-down fusion, coarse to fine.
FUSION_SCALES = (
    (2.0, 1.0),
    (2.0, 1.0, 0.5),
    (2.0, 1.0, 0.5, 0.25),
    (2.0, 1.0, 0.5, 0.25),
)


# --- Anchors ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AnchorSpec:
    """SSD prior boxes (EdgeNets ssd_config.py, generate_priors.py).

    At every location of level k: a square of `sizes[k]`, a square of
    `sqrt(sizes[k] * sizes[k + 1])`, and for each aspect ratio r the
    `sizes[k]` square stretched by `sqrt(r)` both ways.

    Attributes:
        image_size: int. Square input size in pixels.
        strides: tuple of float. Level k's map is `ceil(image_size /
            strides[k])` wide and its centres are `(j + 0.5) * strides[k]`.
        aspect_ratios: tuple of float.
        min_scale, max_scale: box sizes are `linspace(ceil(min_scale * S),
            ceil(max_scale * S), levels + 1)`, truncated to int.
        clip: bool. Clip anchors to [0, 1] (center form, as the reference).
    """

    image_size: int
    strides: tuple
    aspect_ratios: tuple = (2.0, 3.0)
    min_scale: float = 0.1
    max_scale: float = 1.05
    clip: bool = True

    @property
    def feature_maps(self):
        return tuple(math.ceil(self.image_size / s) for s in self.strides)

    @property
    def sizes(self):
        levels = len(self.strides)
        low = math.ceil(self.min_scale * self.image_size)
        high = math.ceil(self.max_scale * self.image_size)
        return tuple(int(v) for v in np.linspace(low, high, levels + 1))

    @property
    def boxes_per_location(self):
        return 2 + 2 * len(self.aspect_ratios)

    @property
    def num_anchors(self):
        return sum(m * m for m in self.feature_maps) * self.boxes_per_location

    @classmethod
    def for_image_size(cls, image_size):
        """EdgeNets' configurations for 300 and 512; for any other size,
        strides 8, 16, 32, 64, ... with the last level 1x1."""
        if image_size == 300:
            return cls(300, (8, 16, 32, 64, 100, 300))
        if image_size == 512:
            return cls(512, (8, 16, 32, 64, 128, 512))
        maps = _feature_map_sizes(image_size)
        return cls(image_size, tuple(image_size / m for m in maps))


def _feature_map_sizes(image_size):
    """Map sizes of the SSD levels: P3, P4, P5, then stride-2 extras, then 1."""
    size = math.ceil(image_size / 8)
    maps = [size]
    for _ in range(4):
        size = math.ceil(size / 2)
        maps.append(size)
    maps.append(1)
    return tuple(maps)


def generate_anchors(spec):
    """Anchors of `spec` as a float32 array `(num_anchors, 4)`, center form.

    Order: level, row, column, then the boxes of one location (the order
    of the heads' reshaped outputs).
    """
    anchors = []
    size = spec.image_size
    sizes = spec.sizes
    for k, (stride, fmap) in enumerate(zip(spec.strides, spec.feature_maps)):
        small = sizes[k] / size
        large = math.sqrt(sizes[k] * sizes[k + 1]) / size
        location = [(small, small), (large, large)]
        for ratio in spec.aspect_ratios:
            r = math.sqrt(ratio)
            location += [(small * r, small / r), (small / r, small * r)]
        scale = size / stride
        for i in range(fmap):
            for j in range(fmap):
                cx, cy = (j + 0.5) / scale, (i + 0.5) / scale
                anchors += [(cx, cy, w, h) for w, h in location]
    anchors = np.asarray(anchors, dtype="float64")
    if spec.clip:
        anchors = np.clip(anchors, 0.0, 1.0)
    return anchors.astype("float32")


# --- Box coding (numpy, for the data side and tests) -----------------------


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


# --- Losses (keras.ops, any backend) ---------------------------------------


def _positive_count(labels):
    positives = keras.ops.cast(labels > 0, "float32")
    return positives, keras.ops.maximum(keras.ops.sum(positives), 1.0)


@keras.saving.register_keras_serializable(package="tfeff")
class SSDBoxLoss(keras.losses.Loss):
    """Smooth L1 of the box offsets over positive anchors, divided by the
    batch's positives (EdgeNets utilities/..., MultiBoxLoss).

    `y_true`: `(batch, anchors, 5)`: the encoded offsets and, last, the
    label (0 = background); `y_pred`: `(batch, anchors, 4)`.
    """

    def __init__(self, name="ssd_box_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ops = keras.ops
        y_true = ops.cast(y_true, y_pred.dtype)
        positives, count = _positive_count(y_true[..., 4])
        diff = ops.abs(y_true[..., :4] - y_pred)
        smooth = ops.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5)
        per_image = ops.sum(ops.sum(smooth, -1) * positives, -1)
        # Keras averages over the batch; scale so the result is the sum over
        # the batch divided by its positives, as the reference.
        batch = ops.cast(ops.shape(y_pred)[0], "float32")
        return per_image * batch / count


@keras.saving.register_keras_serializable(package="tfeff")
class SSDClassLoss(keras.losses.Loss):
    """Softmax cross-entropy over positives and the hardest negatives
    (`neg_pos_ratio` per positive, per image), divided by the batch's
    positives (EdgeNets box_utils.hard_negative_mining, MultiBoxLoss).

    `y_true`: `(batch, anchors)` int labels; `y_pred`: logits
    `(batch, anchors, num_classes + 1)`.
    """

    def __init__(self, neg_pos_ratio=3, name="ssd_class_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(neg_pos_ratio, bool) or not neg_pos_ratio > 0:
            raise ValueError(
                "`neg_pos_ratio` must be > 0. Received: "
                f"neg_pos_ratio={neg_pos_ratio!r}"
            )
        self.neg_pos_ratio = neg_pos_ratio

    def call(self, y_true, y_pred):
        ops = keras.ops
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 3:
            labels = labels[..., 0]
        positives, count = _positive_count(labels)
        log_probs = ops.log_softmax(y_pred, axis=-1)
        background = -log_probs[..., 0]
        # Rank negatives by their background loss; positives rank last.
        mining = ops.where(positives > 0, -1e9, ops.stop_gradient(background))
        rank = ops.argsort(ops.argsort(-mining, axis=-1), axis=-1)
        num_negatives = (
            ops.sum(positives, -1, keepdims=True) * self.neg_pos_ratio
        )
        negatives = ops.cast(
            ops.cast(rank, "float32") < num_negatives, "float32"
        )
        negatives = negatives * (1.0 - positives)
        classes = ops.shape(y_pred)[-1]
        one_hot = ops.one_hot(labels, classes)
        cross_entropy = -ops.sum(one_hot * log_probs, -1)
        per_image = ops.sum(cross_entropy * (positives + negatives), -1)
        batch = ops.cast(ops.shape(y_pred)[0], "float32")
        return per_image * batch / count

    def get_config(self):
        config = super().get_config()
        config["neg_pos_ratio"] = self.neg_pos_ratio
        return config


def ssd_targets(gt_boxes, gt_labels, anchors, **kwargs):
    """`match_anchors` shaped for `SSDBoxLoss` / `SSDClassLoss`:
    `(box_target (anchors, 5), labels (anchors,))`."""
    offsets, labels = match_anchors(gt_boxes, gt_labels, anchors, **kwargs)
    box_target = np.concatenate(
        [offsets, labels[:, None].astype("float32")], -1
    )
    return box_target, labels


# --- Model -----------------------------------------------------------------


def _cbr(x, filters, kernel, name, *, strides=1, depthwise=False):
    # Strided convs pad as the backbone's numerics say (common.padded).
    if depthwise:
        x = depthwise_conv(x, kernel, strides=strides, name=f"{name}_conv")
    else:
        x = conv(x, filters, kernel, strides=strides, name=f"{name}_conv")
    x = batch_norm(x, f"{name}_bn")
    return activation_layer(x, "prelu", f"{name}_act")


def ssd_extra_layer(x, filters, *, name):
    """EdgeNets SSDExtraLayers: a 3x3 depthwise CBR at stride 2 and a 1x1
    CBR to `filters`."""
    x = _cbr(x, None, 3, f"{name}_down", strides=2, depthwise=True)
    return _cbr(x, filters, 1, f"{name}_expand")


HEADS = ("conv1x1", "separable")


def _head(x, filters, name, kind):
    """Box or class head: a 1x1 conv with bias (EdgeNets SSD300, the
    published models), or SSDLite's 3x3 depthwise CBR + 1x1 conv (EdgeNets'
    later SSDClassificationLayers)."""
    if kind == "separable" and min(x.shape[1:3]) > 1:
        x = _cbr(x, None, 3, f"{name}_dw", depthwise=True)
    return keras.layers.Conv2D(filters, 1, name=name)(x)


def _resize_to(x, reference, name):
    size = tuple(reference.shape[1:3])
    if tuple(x.shape[1:3]) == size:
        return x
    return BilinearResize(size[0], size[1], name=name)(x)


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}"
        )


@keras.saving.register_keras_serializable(package="tfeff")
class SSDDetector(_SpecModelMixin, keras.Model):
    """Backbone + SSD extras, optional top-down fusion, box and class heads.

    Args:
        arch: ArchSpec or arch string of a backbone with P3, P4, P5.
        num_classes: int >= 1. Object classes, background excluded (COCO:
            80); the logits have `num_classes + 1` channels.
        input_size: int. Square input size; 300 and 512 use EdgeNets'
            anchor configurations, other sizes strides 8..64 and a 1x1 top.
        fusion: bool. ESPNetv2-SSD's top-down fusion of the levels with
            efficient pyramid pooling.
        extra_channels: three ints: the two extra layers' widths and the
            1x1 top's.
        heads: `"conv1x1"` (the published ESPNetv2-SSD) or `"separable"`
            (SSDLite: a 3x3 depthwise CBR before each 1x1, except on 1x1
            maps).
        mean, std: in-model preprocessing, as `EfficientBackbone`.
        name: str.

    Attributes:
        anchor_spec: `AnchorSpec`.
        anchors: float32 array `(num_anchors, 4)`, center form.

    Example:

    >>> model = SSDDetector(
    ...     tfeff.models.get_variant("test_efficientnet").resolved_arch(),
    ...     num_classes=3, input_size=64)
    >>> [tuple(o.shape) for o in model.outputs]
    [(None, 522, 4), (None, 522, 4)]
    """

    def __init__(
        self,
        arch,
        *,
        num_classes,
        input_size=300,
        fusion=True,
        extra_channels=DEFAULT_EXTRA_CHANNELS,
        heads="conv1x1",
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        name=None,
        **kwargs,
    ):
        _check_int(num_classes, "num_classes", 1)
        if heads not in HEADS:
            raise ValueError(
                f"`heads` must be one of {HEADS}. Received: heads={heads!r}"
            )
        _check_int(input_size, "input_size", 32)
        extra_channels = tuple(extra_channels)
        if len(extra_channels) != 3 or not all(
            isinstance(c, int) and c > 0 for c in extra_channels
        ):
            raise ValueError(
                "`extra_channels` must be three positive ints. Received: "
                f"extra_channels={extra_channels!r}"
            )
        spec = AnchorSpec.for_image_size(input_size)
        backbone = EfficientBackbone(
            arch, input_shape=(input_size, input_size, 3), mean=mean, std=std
        )
        missing = [
            p for p in ("P3", "P4", "P5") if p not in backbone.pyramid_outputs
        ]
        if missing:
            raise ValueError(
                "SSDDetector reads pyramid levels P3, P4, P5; this backbone "
                f"has {sorted(backbone.pyramid_outputs)}. Received: "
                f"arch={backbone._settings['arch']!r}"
            )
        # The heads pad and normalise as the backbone does.
        with numerics_scope(backbone.arch.numerics):
            pyramid = backbone.pyramid_outputs
            levels = [pyramid["P3"], pyramid["P4"], pyramid["P5"]]
            levels.append(
                ssd_extra_layer(levels[-1], extra_channels[0], name="extra1")
            )
            levels.append(
                ssd_extra_layer(levels[-1], extra_channels[1], name="extra2")
            )
            top = keras.layers.GlobalAveragePooling2D(
                keepdims=True, name="extra3_pool"
            )(levels[-1])
            top = keras.layers.Conv2D(
                extra_channels[2], 1, use_bias=False, name="extra3_conv"
            )(top)
            levels.append(keras.layers.ReLU(name="extra3_relu")(top))
            maps = tuple(int(level.shape[1]) for level in levels)
            if maps != spec.feature_maps:
                raise ValueError(
                    f"input_size={input_size} gives feature maps {maps}, but its "
                    f"anchors expect {spec.feature_maps}."
                )
            if fusion:
                # Top-down (EdgeNets espnetv2.py): the coarser map, resized,
                # joins the finer one through a pyramid pool at its width.
                fused = list(levels)
                coarse = levels[4]
                for step, index in enumerate((3, 2, 1, 0)):
                    fine = levels[index]
                    up = _resize_to(coarse, fine, f"fuse{step + 1}_up")
                    joined = keras.layers.Concatenate(
                        name=f"fuse{step + 1}_concat"
                    )([up, fine])
                    width = fine.shape[-1]
                    coarse = efficient_pyramid_pool(
                        joined,
                        max(1, width // 5),
                        width,
                        name=f"fuse{step + 1}",
                        scales=FUSION_SCALES[step],
                    )
                    fused[index] = coarse
                levels = fused
            per_location = spec.boxes_per_location
            boxes, logits = [], []
            for index, level in enumerate(levels):
                box = _head(
                    level, per_location * 4, f"box_head{index + 1}", heads
                )
                cls = _head(
                    level,
                    per_location * (num_classes + 1),
                    f"class_head{index + 1}",
                    heads,
                )
                boxes.append(
                    keras.layers.Reshape((-1, 4), name=f"box{index + 1}")(box)
                )
                logits.append(
                    keras.layers.Reshape(
                        (-1, num_classes + 1), name=f"class{index + 1}"
                    )(cls)
                )
        box_offsets = keras.layers.Concatenate(axis=1, name="box_offsets")(
            boxes
        )
        class_logits = keras.layers.Concatenate(axis=1, name="class_logits")(
            logits
        )
        super().__init__(
            inputs=backbone.inputs,
            outputs=[box_offsets, class_logits],
            name=name,
            **kwargs,
        )
        self.arch = backbone.arch
        self.anchor_spec = spec
        self.anchors = generate_anchors(spec)
        self._settings = {
            "arch": backbone._settings["arch"],
            "num_classes": num_classes,
            "input_size": input_size,
            "fusion": bool(fusion),
            "extra_channels": list(extra_channels),
            "heads": heads,
            "mean": backbone._settings["mean"],
            "std": backbone._settings["std"],
        }
