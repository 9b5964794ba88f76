"""`dicedown` and `dice`: DiCENet's strided DiCE unit and shuffle-DiCE
block (dimension-wise convolutions, so built for one input size)."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class StridedDICESpec:
    """DiCENet's strided DICE: dw-s2 + 1x1 ‖ avg-pool + DICE + 1x1, concat,
    shuffle. Doubles the width.

    Args:
        activation: str. Defaults to `"prelu"`.
    """

    activation: str = "prelu"

    @property
    def strides(self):
        return 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleDICESpec:
    """DiCENet's shuffle-DICE block stage: half the channels pass, the other
    half go through a 1x1 CBR and a DICE unit; concat and shuffle.

    Args:
        filters: int. Output channels.
        repeats: int. Defaults to `1`.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    repeats: int = 1
    activation: str = "prelu"

    @property
    def strides(self):
        return 1


def shuffle_dice_split(in_channels, filters):
    """(passed, branch in, branch out) channels of a shuffle-DICE block:
    `left = round(0.5 * in)` passes through (EdgeNets dicenet.py, c_tag=0.5)."""
    left = int(round(0.5 * in_channels))
    return left, in_channels - left, filters - left


def _dice_unit_cost(counter, channels, hw, activation):
    height, width = hw
    counter.depthwise(channels, 3, hw)
    # Height- and width-wise convs: H (resp. W) channels over C x W
    # (resp. H x C) positions, 3x3 kernels.
    counter.params += 9 * height + 9 * width
    counter.macs += 2 * 9 * height * width * channels
    for _ in range(3):
        counter.bn(channels)
        counter.act(channels, activation)
        counter.depthwise(channels, 1, hw)
    counter.bn(channels)
    counter.act(channels, activation)
    counter.conv(channels, channels // 4, 1, (1, 1))
    counter.conv(channels // 4, channels, 1, (1, 1))
    counter.depthwise(channels, 3, hw)
    counter.bn(channels)
    counter.act(channels, activation)


def _strided_cost(counter, spec, in_channels, hw, image_channels):
    out = same_size(hw, 2)
    counter.depthwise(in_channels, 3, out)
    counter.bn(in_channels)
    counter.act(in_channels, spec.activation)
    counter.cbr_1x1(in_channels, in_channels, out, spec.activation)
    _dice_unit_cost(counter, in_channels, out, spec.activation)
    counter.cbr_1x1(in_channels, in_channels, out, spec.activation)
    return out


def _shuffle_problems(spec, in_channels):
    if in_channels is None:
        return
    left, _, branch_out = shuffle_dice_split(in_channels, spec.filters)
    if branch_out < 4:
        yield (
            f"a shuffle-DICE block passes {left} of its {in_channels}"
            f" input channels, so filters={spec.filters} leaves too few for "
            "its DICE branch"
        )


def _shuffle_cost(counter, spec, in_channels, hw, image_channels):
    _, right_in, right_out = shuffle_dice_split(in_channels, spec.filters)
    counter.cbr_1x1(right_in, right_out, hw, spec.activation)
    _dice_unit_cost(counter, right_out, hw, spec.activation)
    return hw


STRIDED_DICE = register_kind(
    Kind(
        name="dicedown",
        spec=StridedDICESpec,
        keys=(Key("n", "activation", "activation"),),
        title="strided DiCE unit",
        problems=lambda spec, in_channels: (),
        cost=_strided_cost,
        output_channels=lambda spec, in_channels, image_channels: (
            2 * in_channels
        ),
        static_size=True,
    )
)
SHUFFLE_DICE = register_kind(
    Kind(
        name="dice",
        spec=ShuffleDICESpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("c", "filters", "int"),
            Key("n", "activation", "activation"),
        ),
        title="DiCE unit",
        problems=_shuffle_problems,
        cost=_shuffle_cost,
        static_size=True,
    )
)
