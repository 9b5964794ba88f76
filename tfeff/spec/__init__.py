"""Architecture notation, block kinds, scaling, validation and transforms
(pure Python: nothing here imports Keras, TensorFlow or `tfeff.models`)."""

from tfeff.spec import kinds
from tfeff.spec.describe import describe_arch
from tfeff.spec.describe import describe_rows
from tfeff.spec.kinds import Key
from tfeff.spec.kinds import Kind
from tfeff.spec.kinds import kind_of
from tfeff.spec.kinds import register_kind
from tfeff.spec.kinds import registered_kinds
from tfeff.spec.notation import TF_NUMERICS
from tfeff.spec.notation import TORCH_NUMERICS
from tfeff.spec.notation import ArchSpec
from tfeff.spec.notation import ConvBnActSpec
from tfeff.spec.notation import EESPSpec
from tfeff.spec.notation import GhostBottleneckSpec
from tfeff.spec.notation import MBConvSpec
from tfeff.spec.notation import NumericsSpec
from tfeff.spec.notation import StridedEESPSpec
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import block_kind
from tfeff.spec.notation import decode_arch
from tfeff.spec.notation import encode_arch
from tfeff.spec.notation import encode_block
from tfeff.spec.scaling import CompoundScaling
from tfeff.spec.scaling import round_channels
from tfeff.spec.scaling import round_repeats
from tfeff.spec.scaling import scale_arch
from tfeff.spec.structure import BlockInstance
from tfeff.spec.structure import eesp_dilations
from tfeff.spec.structure import expand_blocks
from tfeff.spec.structure import split_channels
from tfeff.spec.transforms import make_edge_friendly
from tfeff.spec.validate import block_problems
from tfeff.spec.validate import validate_arch

__all__ = [
    "Key",
    "Kind",
    "block_problems",
    "kind_of",
    "kinds",
    "register_kind",
    "registered_kinds",
    "NumericsSpec",
    "TF_NUMERICS",
    "TORCH_NUMERICS",
    "ArchSpec",
    "BlockInstance",
    "CompoundScaling",
    "ConvBnActSpec",
    "EESPSpec",
    "GhostBottleneckSpec",
    "MBConvSpec",
    "StridedEESPSpec",
    "as_arch_spec",
    "block_kind",
    "decode_arch",
    "describe_arch",
    "describe_rows",
    "eesp_dilations",
    "encode_arch",
    "encode_block",
    "expand_blocks",
    "make_edge_friendly",
    "round_channels",
    "round_repeats",
    "scale_arch",
    "split_channels",
    "validate_arch",
]
