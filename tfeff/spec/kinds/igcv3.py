"""`igcv3`: the IGCV3 block (grouped 1x1s around a depthwise conv)."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size
from tfeff.spec.kinds.mbconv import mbconv_expanded_filters


@dataclasses.dataclass(frozen=True, kw_only=True)
class IGCV3Spec:
    """IGCV3 block stage: grouped 1x1 expand (linear), channel shuffle,
    depthwise, grouped 1x1 project.

    Args:
        filters: int. Output channels.
        repeats: int. Defaults to `1`.
        kernel_size: int. Defaults to `3`.
        strides: int. Defaults to `1`.
        expand_ratio: float. Defaults to `6.0`.
        groups: int. Groups of both 1x1 convs (G1 = G2). Defaults to `2`.
        activation: str. Defaults to `"relu6"`.
    """

    filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    expand_ratio: float = 6.0
    groups: int = 2
    activation: str = "relu6"


def _problems(spec, in_channels):
    if not spec.expand_ratio >= 1:
        yield f"expand_ratio must be >= 1, got {spec.expand_ratio}"
    if not positive(spec.groups):
        yield f"groups must be >= 1, got {spec.groups}"
        return
    if in_channels is None:  # The rule below reads the input's width.
        return
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    if (
        in_channels % spec.groups
        or mid % spec.groups
        or spec.filters % spec.groups
    ):
        yield (
            f"groups={spec.groups} must divide the input ({in_channels}),"
            f" expanded ({mid}) and output ({spec.filters}) channels"
        )


def _cost(counter, spec, in_channels, hw, image_channels):
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    counter.conv(in_channels, mid, 1, hw, groups=spec.groups)
    counter.bn(mid)
    out = same_size(hw, spec.strides)
    counter.depthwise(
        mid, spec.kernel_size, out, in_hw=hw, strides=spec.strides
    )
    counter.bn(mid)
    counter.conv(mid, spec.filters, 1, out, groups=spec.groups)
    counter.bn(spec.filters)
    return out


IGCV3 = register_kind(
    Kind(
        name="igcv3",
        spec=IGCV3Spec,
        keys=(
            Key("r", "repeats", "int"),
            Key("k", "kernel_size", "int", "kernel", shown=True),
            Key("s", "strides", "int"),
            Key("e", "expand_ratio", "float", "expand", shown=True),
            Key("g", "groups", "int", optional=True),
            Key("c", "filters", "int"),
            Key("n", "activation", "activation"),
        ),
        title="IGCV3 block",
        problems=_problems,
        cost=_cost,
    )
)
