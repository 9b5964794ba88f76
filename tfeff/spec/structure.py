"""The walk from an ArchSpec to concrete blocks.

The numbers blocks derive (SE bottleneck, MixConv split, Ghost primary
width, EESP dilations) live with their kinds in `tfeff.spec.kinds`; they
are re-exported here for the builders (`tfeff.blocks`), so each is computed
in exactly one place.
"""

import dataclasses

from tfeff.spec.kinds import kind_of
from tfeff.spec.kinds import split_channels
from tfeff.spec.kinds.dice import shuffle_dice_split
from tfeff.spec.kinds.eesp import eesp_branch_filters
from tfeff.spec.kinds.eesp import eesp_dilations
from tfeff.spec.kinds.eesp import eespdown_inner_filters
from tfeff.spec.kinds.esp import ESP_DILATIONS
from tfeff.spec.kinds.esp import esp_branch_filters
from tfeff.spec.kinds.ghost import ghost_primary_filters
from tfeff.spec.kinds.ghost import ghost_se_filters
from tfeff.spec.kinds.mbconv import mbconv_expanded_filters
from tfeff.spec.kinds.mbconv import mbconv_se_filters
from tfeff.spec.notation import as_arch_spec


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
            if kind_of(block).composite:
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
    concatenated widths of the ESPNet and DiCENet kinds (its kind says)."""
    return kind_of(spec).width(spec, in_channels, image_channels)


def needs_static_size(spec):
    """Whether the network is built for one input size (DiCENet's DICE)."""
    return any(kind_of(block).static_size for block in spec.blocks)


__all__ = [
    "needs_static_size",
    "shuffle_dice_split",
    "ESP_DILATIONS",
    "esp_branch_filters",
    "output_channels",
    "BlockInstance",
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
