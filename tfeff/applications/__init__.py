"""keras.applications-style constructors."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables
from tfeff.applications.common import list_models
from tfeff.applications.detection import ESPNetV2SSD
from tfeff.applications.efficientnet import EfficientNetB0
from tfeff.applications.efficientnet import EfficientNetB1
from tfeff.applications.efficientnet import EfficientNetB2
from tfeff.applications.efficientnet import EfficientNetB3
from tfeff.applications.efficientnet import EfficientNetB4
from tfeff.applications.efficientnet import EfficientNetB5
from tfeff.applications.efficientnet import EfficientNetB6
from tfeff.applications.efficientnet import EfficientNetB7
from tfeff.applications.efficientnet import EfficientNetLite0
from tfeff.applications.efficientnet import EfficientNetLite1
from tfeff.applications.efficientnet import EfficientNetLite2
from tfeff.applications.efficientnet import EfficientNetLite3
from tfeff.applications.efficientnet import EfficientNetLite4
from tfeff.applications.families import IGCV3
from tfeff.applications.families import DiCENet
from tfeff.applications.families import ESPNetC
from tfeff.applications.families import ESPNetV2
from tfeff.applications.families import GhostNet
from tfeff.applications.families import MixNetL
from tfeff.applications.families import MixNetM
from tfeff.applications.families import MixNetS
from tfeff.applications.families import MobileNetV2
from tfeff.applications.families import ShuffleNetV2
from tfeff.applications.imagenet_utils import decode_predictions
from tfeff.applications.imagenet_utils import preprocess_input
from tfeff.applications.segmentation import ESPNetSeg
from tfeff.applications.segmentation import ESPNetV2Seg

__all__ = [
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetLite0",
    "EfficientNetLite1",
    "EfficientNetLite2",
    "EfficientNetLite3",
    "EfficientNetLite4",
    "DiCENet",
    "ESPNetC",
    "ESPNetSeg",
    "ESPNetV2SSD",
    "ESPNetV2Seg",
    "ESPNetV2",
    "GhostNet",
    "IGCV3",
    "MixNetL",
    "MixNetM",
    "MixNetS",
    "MobileNetV2",
    "ShuffleNetV2",
    "decode_predictions",
    "list_models",
    "preprocess_input",
]

register_serializables(ignore=(__name__,))
