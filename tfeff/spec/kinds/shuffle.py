"""`shuffle`: the ShuffleNetV2 unit."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleUnitSpec:
    """ShuffleNetV2 unit stage: split, 1x1-dw-1x1 branch, concat, shuffle.

    Args:
        filters: int. Output channels (even).
        repeats: int. Defaults to `1`.
        kernel_size: int. Depthwise kernel. Defaults to `3`.
        strides: int. Stride of the first unit. Defaults to `1`.
        activation: str. Defaults to `"relu"`.
    """

    filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    activation: str = "relu"


def _problems(spec, in_channels):
    if spec.filters % 2:
        yield f"filters must be even, got {spec.filters}"
    if (
        spec.strides == 1
        and in_channels is not None
        and spec.filters != in_channels
    ):
        yield (
            "a stride-1 shuffle unit keeps its width: "
            f"filters={spec.filters}, input {in_channels}"
        )


def _cost(counter, spec, in_channels, hw, image_channels):
    out = same_size(hw, spec.strides)
    mid = spec.filters // 2
    if spec.strides == 1:
        branch_in = in_channels // 2
        branch_out = spec.filters - (in_channels - branch_in)
    else:  # torchvision's strided unit: both branches make filters // 2.
        branch_in, branch_out = in_channels, spec.filters - mid
        counter.depthwise(
            in_channels, spec.kernel_size, out, in_hw=hw, strides=spec.strides
        )
        counter.bn(in_channels)
        counter.cbr_1x1(in_channels, mid, out, spec.activation)
    counter.cbr_1x1(branch_in, mid, hw, spec.activation)
    counter.depthwise(
        mid, spec.kernel_size, out, in_hw=hw, strides=spec.strides
    )
    counter.bn(mid)
    counter.cbr_1x1(mid, branch_out, out, spec.activation)
    return out


SHUFFLE_UNIT = register_kind(
    Kind(
        name="shuffle",
        spec=ShuffleUnitSpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("k", "kernel_size", "int", "kernel", shown=True),
            Key("s", "strides", "int"),
            Key("c", "filters", "int"),
            Key("n", "activation", "activation"),
        ),
        title="ShuffleNetV2 unit",
        problems=_problems,
        cost=_cost,
    )
)
