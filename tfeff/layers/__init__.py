"""Public Keras layers: tfeff's blocks and the weightless helpers."""

from tfeff.layers.blocks import EESP
from tfeff.layers.blocks import GhostBottleneck
from tfeff.layers.blocks import GhostModule
from tfeff.layers.blocks import MBConv
from tfeff.layers.blocks import MixConv
from tfeff.layers.blocks import SqueezeExcite
from tfeff.layers.blocks import StridedEESP
from tfeff.layers.helpers import ChannelSlice
from tfeff.layers.helpers import ChannelSplit

__all__ = [
    "EESP",
    "ChannelSlice",
    "ChannelSplit",
    "GhostBottleneck",
    "GhostModule",
    "MBConv",
    "MixConv",
    "SqueezeExcite",
    "StridedEESP",
]
