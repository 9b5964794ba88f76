"""Block kinds: one module per kind, each owning its spec dataclass,
notation keys, readable names, rules, output width and cost.

Importing this package registers the built-in kinds. A new kind is one
module here (a `Kind` passed to `register_kind`) and its builder in
`tfeff.blocks` (`register_block` under the same name); nothing else names a
kind.
"""

from tfeff.spec.kinds.base import ACTIVATION_CODES
from tfeff.spec.kinds.base import ACTIVATION_NAMES
from tfeff.spec.kinds.base import Counter
from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import kind_named
from tfeff.spec.kinds.base import kind_of
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import registered_kinds
from tfeff.spec.kinds.base import same_size
from tfeff.spec.kinds.base import split_channels
from tfeff.spec.kinds.conv_bn_act import ConvBnActSpec
from tfeff.spec.kinds.dense import DenseSpec
from tfeff.spec.kinds.dice import ShuffleDICESpec
from tfeff.spec.kinds.dice import StridedDICESpec
from tfeff.spec.kinds.eesp import EESPSpec
from tfeff.spec.kinds.eesp import StridedEESPSpec
from tfeff.spec.kinds.esp import ESPStageSpec
from tfeff.spec.kinds.esp import ImageConcatSpec
from tfeff.spec.kinds.ghost import GhostBottleneckSpec
from tfeff.spec.kinds.igcv3 import IGCV3Spec
from tfeff.spec.kinds.mbconv import MBConvSpec
from tfeff.spec.kinds.pool import MaxPoolSpec
from tfeff.spec.kinds.shuffle import ShuffleUnitSpec

__all__ = [
    "ACTIVATION_CODES",
    "ACTIVATION_NAMES",
    "ConvBnActSpec",
    "Counter",
    "DenseSpec",
    "EESPSpec",
    "ESPStageSpec",
    "GhostBottleneckSpec",
    "IGCV3Spec",
    "ImageConcatSpec",
    "Key",
    "Kind",
    "MBConvSpec",
    "MaxPoolSpec",
    "ShuffleDICESpec",
    "ShuffleUnitSpec",
    "StridedDICESpec",
    "StridedEESPSpec",
    "kind_named",
    "kind_of",
    "register_kind",
    "registered_kinds",
    "same_size",
    "split_channels",
]
