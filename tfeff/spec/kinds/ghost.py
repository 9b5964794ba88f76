"""`ghost`: GhostNet's bottleneck of two Ghost modules."""

import dataclasses
import math

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size
from tfeff.spec.scaling import round_channels


@dataclasses.dataclass(frozen=True, kw_only=True)
class GhostBottleneckSpec:
    """GhostNet bottleneck stage.

    Args:
        filters: int. Output channels.
        mid_filters: int. Expanded width (GhostNet's `exp_size`).
        repeats: int. Defaults to `1`.
        kernel_size: int. Depthwise kernel of strided blocks and shortcut.
        strides: int. Defaults to `1`.
        se_ratio: float. Squeeze-excite width as a fraction of the *expanded*
            channels, rounded to a multiple of 4 (GhostNet). Defaults to `0`.
        activation: str. Defaults to `"relu"`.
    """

    filters: int
    mid_filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    se_ratio: float = 0.0
    activation: str = "relu"


def ghost_se_filters(mid_filters, se_ratio):
    """SE bottleneck of a Ghost bottleneck: the *expanded* width, divisor 4.

    `_make_divisible(mid * se_ratio, 4)` (huawei-noah/ghostnet ghostnet.py).
    """
    return round_channels(mid_filters * se_ratio, divisor=4)


def ghost_primary_filters(filters, ratio=2):
    """Channels made by the Ghost module's primary conv: `ceil(out / ratio)`."""
    return int(math.ceil(filters / ratio))


def _problems(spec, in_channels):
    if not positive(spec.mid_filters):
        yield "mid_filters must be >= 1"
    if not 0 <= spec.se_ratio <= 1:
        yield f"se_ratio must be in [0, 1], got {spec.se_ratio}"


def _ghost_module_cost(counter, in_channels, filters, hw, activation):
    primary = ghost_primary_filters(filters)
    counter.conv(in_channels, primary, 1, hw)
    counter.bn(primary)
    counter.act(primary, activation)
    counter.depthwise(primary, 3, hw)
    counter.bn(primary)
    counter.act(primary, activation)


def _cost(counter, spec, in_channels, hw, image_channels):
    _ghost_module_cost(
        counter, in_channels, spec.mid_filters, hw, spec.activation
    )
    out = same_size(hw, spec.strides)
    if spec.strides > 1:
        counter.depthwise(
            spec.mid_filters,
            spec.kernel_size,
            out,
            in_hw=hw,
            strides=spec.strides,
        )
        counter.bn(spec.mid_filters)
    if spec.se_ratio > 0:
        counter.se(
            spec.mid_filters, ghost_se_filters(spec.mid_filters, spec.se_ratio)
        )
    _ghost_module_cost(counter, spec.mid_filters, spec.filters, out, "linear")
    if not (spec.strides == 1 and in_channels == spec.filters):
        counter.depthwise(
            in_channels, spec.kernel_size, out, in_hw=hw, strides=spec.strides
        )
        counter.bn(in_channels)
        counter.conv(in_channels, spec.filters, 1, out)
        counter.bn(spec.filters)
    return out


GHOST = register_kind(
    Kind(
        name="ghost",
        spec=GhostBottleneckSpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("k", "kernel_size", "int", "kernel", shown=True),
            Key("s", "strides", "int"),
            Key("m", "mid_filters", "int", "mid", shown=True),
            Key("c", "filters", "int"),
            Key("se", "se_ratio", "float", "SE", optional=True),
            Key("n", "activation", "activation"),
        ),
        title="Ghost bottleneck",
        problems=_problems,
        cost=_cost,
    )
)
