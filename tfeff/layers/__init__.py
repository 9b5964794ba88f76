"""Public Keras layers: tfeff's blocks and the weightless helpers."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables
from tfeff.blocks.ops import BilinearResize
from tfeff.blocks.ops import ChannelShuffle
from tfeff.blocks.ops import ChannelSlice
from tfeff.blocks.ops import ChannelSplit
from tfeff.layers.blocks import DICE
from tfeff.layers.blocks import EESP
from tfeff.layers.blocks import ESPModule
from tfeff.layers.blocks import GhostBottleneck
from tfeff.layers.blocks import GhostModule
from tfeff.layers.blocks import IGCV3Block
from tfeff.layers.blocks import MBConv
from tfeff.layers.blocks import MixConv
from tfeff.layers.blocks import ShuffleUnit
from tfeff.layers.blocks import SqueezeExcite
from tfeff.layers.blocks import StridedEESP

__all__ = [
    "DICE",
    "EESP",
    "ESPModule",
    "BilinearResize",
    "ChannelShuffle",
    "ChannelSlice",
    "ChannelSplit",
    "GhostBottleneck",
    "GhostModule",
    "IGCV3Block",
    "MBConv",
    "MixConv",
    "ShuffleUnit",
    "SqueezeExcite",
    "StridedEESP",
]

register_serializables(ignore=(__name__,))
