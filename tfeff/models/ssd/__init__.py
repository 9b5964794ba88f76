"""SSD detection on any backbone: anchors (`anchors`), box coding and
matching (`boxes`), multibox losses (`losses`), the model (`model`), and
post-processing that exports to TFLite.

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

from tfeff.models.ssd.anchors import AnchorSpec
from tfeff.models.ssd.anchors import generate_anchors
from tfeff.models.ssd.boxes import DEFAULT_VARIANCES
from tfeff.models.ssd.boxes import center_to_corner
from tfeff.models.ssd.boxes import corner_to_center
from tfeff.models.ssd.boxes import decode_boxes
from tfeff.models.ssd.boxes import encode_boxes
from tfeff.models.ssd.boxes import iou_matrix
from tfeff.models.ssd.boxes import match_anchors
from tfeff.models.ssd.boxes import ssd_targets
from tfeff.models.ssd.losses import SSDBoxLoss
from tfeff.models.ssd.losses import SSDClassLoss
from tfeff.models.ssd.model import DEFAULT_EXTRA_CHANNELS
from tfeff.models.ssd.model import FUSION_SCALES
from tfeff.models.ssd.model import HEADS
from tfeff.models.ssd.model import SSDDetector
from tfeff.models.ssd.model import _check_int
from tfeff.models.ssd.model import ssd_extra_layer

__all__ = [
    "DEFAULT_EXTRA_CHANNELS",
    "DEFAULT_VARIANCES",
    "FUSION_SCALES",
    "HEADS",
    "AnchorSpec",
    "SSDBoxLoss",
    "SSDClassLoss",
    "SSDDetector",
    "_check_int",
    "center_to_corner",
    "corner_to_center",
    "decode_boxes",
    "encode_boxes",
    "generate_anchors",
    "iou_matrix",
    "match_anchors",
    "ssd_extra_layer",
    "ssd_targets",
]
