"""The walk from an ArchSpec to concrete blocks, and the numbers blocks derive.

Builders (`tfeff.blocks`) and the cost model (`tfeff.profile`) both read these
functions, so a derived width (SE bottleneck, MixConv split, Ghost primary
width, EESP dilations) is computed in exactly one place.
"""

import dataclasses
import math

from tfeff.spec.notation import ConvBnActSpec
from tfeff.spec.notation import EESPSpec
from tfeff.spec.notation import ESPStageSpec
from tfeff.spec.notation import GhostBottleneckSpec
from tfeff.spec.notation import ImageConcatSpec
from tfeff.spec.notation import MBConvSpec
from tfeff.spec.notation import ShuffleDICESpec
from tfeff.spec.notation import StridedDICESpec
from tfeff.spec.notation import StridedEESPSpec
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.scaling import round_channels


@dataclasses.dataclass(frozen=True)
class BlockInstance:
    """One concrete block of a network.

    Attributes:
        name: str. Layer-name prefix (`"stem"`, `"stage3_block2"`, `"head"`).
        spec: the block's spec, with `repeats=1` and its own stride.
        in_channels: int.
        out_channels: int.
        stride: int. Cumulative stride of the block's output.
        stage: int. 0 for the stem, 1.. for stages, -1 for head tokens.
    """

    name: str
    spec: object
    in_channels: int
    out_channels: int
    stride: int
    stage: int


def _field_names(spec):
    return {field.name for field in dataclasses.fields(spec)}


def expand_blocks(spec, in_channels=3):
    """Lists every block of `spec` in order, with inferred input channels.

    Args:
        spec: ArchSpec or arch string.
        in_channels: int. Image channels. Defaults to `3`.

    Returns:
        list of BlockInstance.
    """
    spec = as_arch_spec(spec)
    instances = []
    channels, stride = in_channels, 1

    def add(name, block, stage):
        nonlocal channels, stride
        stride *= getattr(block, "strides", 1)
        out = output_channels(block, channels, in_channels)
        instances.append(
            BlockInstance(name, block, channels, out, stride, stage)
        )
        channels = out

    add("stem", spec.stem, 0)
    for stage, block in enumerate(spec.blocks, start=1):
        repeats = getattr(block, "repeats", 1)
        for index in range(repeats):
            single = block
            if isinstance(block, ESPStageSpec):
                # A composite stage: its repeats are inside one block.
                add(f"stage{stage}_block1", block, stage)
                break
            if hasattr(block, "repeats"):
                changes = {"repeats": 1}
                if index > 0 and "strides" in _field_names(block):
                    changes["strides"] = 1
                single = dataclasses.replace(block, **changes)
            add(f"stage{stage}_block{index + 1}", single, stage)
    for index, head in enumerate(spec.head):
        add("head" if index == 0 else f"head{index + 1}", head, -1)
    return instances


def output_channels(spec, in_channels, image_channels=3):
    """Channels a block outputs: its `filters`, its input for a pool, or the
    concatenated widths of the ESPNet kinds."""
    if isinstance(spec, ImageConcatSpec):
        return in_channels + image_channels
    if isinstance(spec, ESPStageSpec):
        return 2 * spec.filters + (image_channels if spec.image else 0)
    if isinstance(spec, StridedDICESpec):
        return 2 * in_channels
    return getattr(spec, "filters", in_channels)


def esp_branch_filters(filters):
    """ESP module widths: 4 branches of `n = filters // 5` and one of the rest.

    (sacmehta/ESPNet train/Model.py `n = int(nOut/5); n1 = nOut - 4*n`.)
    """
    n = filters // 5
    return filters - 4 * n, n


def shuffle_dice_split(in_channels, filters):
    """(passed, branch in, branch out) channels of a shuffle-DICE block:
    `left = round(0.5 * in)` passes through (EdgeNets dicenet.py, c_tag=0.5)."""
    left = int(round(0.5 * in_channels))
    return left, in_channels - left, filters - left


def needs_static_size(spec):
    """Whether the network is built for one input size (DiCENet's DICE)."""
    return any(
        isinstance(block, (StridedDICESpec, ShuffleDICESpec))
        for block in spec.blocks
    )


# Dilations of the ESP module's branches (d1 is the wider, n1-channel one).
ESP_DILATIONS = (1, 2, 4, 8, 16)


def split_channels(total, groups):
    """Splits channels among groups; the remainder goes to the first group.

    This is MixNet's `_split_channels` (tensorflow/tpu mixnet/custom_layers.py;
    identical in timm `mixed_conv2d.py`).

    Example:

    >>> tfeff.spec.split_channels(10, 3)
    (4, 3, 3)
    """
    split = [total // groups] * groups
    split[0] += total - sum(split)
    return tuple(split)


def mbconv_expanded_filters(in_channels, expand_ratio):
    """Width after the expansion conv of an MBConv block."""
    return int(round(in_channels * expand_ratio))


def mbconv_se_filters(in_channels, se_ratio):
    """SE bottleneck of MBConv: a fraction of the block *input* channels.

    `max(1, int(input_filters * se_ratio))` as in tensorflow/tpu
    efficientnet_model.py and keras.applications.
    """
    return max(1, int(in_channels * se_ratio))


def ghost_se_filters(mid_filters, se_ratio):
    """SE bottleneck of a Ghost bottleneck: the *expanded* width, divisor 4.

    `_make_divisible(mid * se_ratio, 4)` (huawei-noah/ghostnet ghostnet.py).
    """
    return round_channels(mid_filters * se_ratio, divisor=4)


def ghost_primary_filters(filters, ratio=2):
    """Channels made by the Ghost module's primary conv: `ceil(out / ratio)`."""
    return int(math.ceil(filters / ratio))


def eesp_branch_filters(filters, branches):
    """Channels of each EESP branch (`n = nOut / K`)."""
    return filters // branches


def eesp_dilations(branches, receptive_field):
    """Dilation rates of the EESP branches, smallest first.

    Branch i has effective kernel `3 + 2i`; kernels above the receptive-field
    limit fall back to 3; the sorted kernels map to dilation `(k - 1) / 2`
    (EdgeNets nn_layers/eesp.py `map_receptive_ksize`).

    Example:

    >>> tfeff.spec.eesp_dilations(4, 7)
    (1, 1, 2, 3)
    """
    sizes = []
    for index in range(branches):
        size = 3 + 2 * index
        sizes.append(size if size <= receptive_field else 3)
    return tuple((size - 1) // 2 for size in sorted(sizes))


def eespdown_inner_filters(in_channels, filters):
    """The strided EESP makes `filters - in_channels`; the avg-pool the rest."""
    return filters - in_channels


__all__ = [
    "needs_static_size",
    "shuffle_dice_split",
    "ESP_DILATIONS",
    "esp_branch_filters",
    "output_channels",
    "BlockInstance",
    "ConvBnActSpec",
    "EESPSpec",
    "GhostBottleneckSpec",
    "MBConvSpec",
    "StridedEESPSpec",
    "eesp_branch_filters",
    "eesp_dilations",
    "eespdown_inner_filters",
    "expand_blocks",
    "ghost_primary_filters",
    "ghost_se_filters",
    "mbconv_expanded_filters",
    "mbconv_se_filters",
    "split_channels",
]
