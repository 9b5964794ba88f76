"""`convbnact`: convolution, batch norm, activation (stems, heads, plain
stages); `stem` and `head` tokens are this kind at those positions."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvBnActSpec:
    """Convolution → batch norm → activation (stem, head, or a plain stage).

    Args:
        filters: int. Output channels.
        kernel_size: int. Square kernel size. Defaults to `3`.
        strides: int. Defaults to `1`.
        groups: int. Grouped convolution (split-conv-concat). Defaults to `1`.
        depthwise: bool. Depthwise convolution; `filters` must equal the input
            channels. Defaults to `False`.
        activation: str. Defaults to `"swish"`.
    """

    filters: int
    kernel_size: int = 3
    strides: int = 1
    groups: int = 1
    depthwise: bool = False
    activation: str = "swish"


def _problems(spec, in_channels):
    # in_channels None: the input is not known yet; its rules wait for it.
    if (
        spec.depthwise
        and in_channels is not None
        and spec.filters != in_channels
    ):
        yield (
            f"a depthwise conv keeps its width: filters={spec.filters} "
            f"but the input has {in_channels} channels"
        )
    if not positive(spec.groups):
        yield f"groups must be >= 1, got {spec.groups}"
    elif in_channels is not None and (
        in_channels % spec.groups or spec.filters % spec.groups
    ):
        yield (
            f"groups={spec.groups} must divide the input ({in_channels}) "
            f"and output ({spec.filters}) channels"
        )


def _cost(counter, spec, in_channels, hw, image_channels):
    out = same_size(hw, spec.strides)
    if spec.depthwise:
        counter.depthwise(
            in_channels, spec.kernel_size, out, in_hw=hw, strides=spec.strides
        )
    else:
        counter.conv(
            in_channels, spec.filters, spec.kernel_size, out, groups=spec.groups
        )
    counter.bn(spec.filters)
    counter.act(spec.filters, spec.activation)
    return out


CONV_BN_ACT = register_kind(
    Kind(
        name="convbnact",
        spec=ConvBnActSpec,
        keys=(
            Key("k", "kernel_size", "int", "kernel", shown=True),
            Key("s", "strides", "int"),
            Key("g", "groups", "int", optional=True),
            Key("c", "filters", "int"),
            Key("dw", "depthwise", "flag"),
            Key("n", "activation", "activation"),
        ),
        title="conv-BN-act",
        problems=_problems,
        cost=_cost,
    )
)
