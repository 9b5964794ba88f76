"""`mbconv`: the inverted residual of MobileNetV2 and EfficientNet, with
squeeze-excite; a kernel list makes it MixNet's MixConv block."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import kernel_sizes
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class MBConvSpec:
    """Inverted residual (MBConv) stage; MixConv when `kernel_size` has several.

    Args:
        filters: int. Output channels.
        repeats: int. Blocks in the stage. Defaults to `1`.
        kernel_size: tuple of int. Depthwise kernel sizes; several sizes split
            the expanded channels as MixNet does. Defaults to `(3,)`.
        strides: int. Stride of the first block. Defaults to `1`.
        expand_ratio: float. `1` means no expansion conv. Defaults to `1.0`.
        se_ratio: float in [0, 1]. Squeeze-excite width as a fraction of the
            block's *input* channels (EfficientNet, MixNet). `0` disables SE.
        activation: str. Defaults to `"swish"`.
        skip: bool. Identity shortcut where stride is 1 and widths match.
        expand_groups: int. Groups of the expansion 1x1 conv. Defaults to `1`.
        project_groups: int. Groups of the projection 1x1 conv. Defaults to `1`.
    """

    filters: int
    repeats: int = 1
    kernel_size: tuple = (3,)
    strides: int = 1
    expand_ratio: float = 1.0
    se_ratio: float = 0.0
    activation: str = "swish"
    skip: bool = True
    expand_groups: int = 1
    project_groups: int = 1


def mbconv_expanded_filters(in_channels, expand_ratio):
    """Width after the expansion conv of an MBConv block."""
    return int(round(in_channels * expand_ratio))


def mbconv_se_filters(in_channels, se_ratio):
    """SE bottleneck of MBConv: a fraction of the block *input* channels.

    `max(1, int(input_filters * se_ratio))` as in tensorflow/tpu
    efficientnet_model.py and keras.applications.
    """
    return max(1, int(in_channels * se_ratio))


def _problems(spec, in_channels):
    if not spec.expand_ratio >= 1:
        yield f"expand_ratio must be >= 1, got {spec.expand_ratio}"
    if not 0 <= spec.se_ratio <= 1:
        yield f"se_ratio must be in [0, 1], got {spec.se_ratio}"
    for field in ("expand_groups", "project_groups"):
        if not positive(getattr(spec, field)):
            yield f"{field} must be >= 1, got {getattr(spec, field)}"
    if in_channels is None:  # The rules below read the input's width.
        return
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    kernels = kernel_sizes(spec)
    if len(kernels) > mid:
        yield f"{len(kernels)} kernel sizes for {mid} channels"
    for field in ("expand_groups", "project_groups"):
        groups = getattr(spec, field)
        if groups > min(mid, spec.filters):
            yield f"{field}={groups} is more than the channels"


def _cost(counter, spec, in_channels, hw, image_channels):
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    if spec.expand_ratio != 1:
        counter.conv(in_channels, mid, 1, hw, groups=spec.expand_groups)
        counter.bn(mid)
        counter.act(mid, spec.activation)
    out = same_size(hw, spec.strides)
    counter.depthwise(
        mid, spec.kernel_size, out, in_hw=hw, strides=spec.strides
    )
    counter.bn(mid)
    counter.act(mid, spec.activation)
    if spec.se_ratio > 0:
        counter.se(mid, mbconv_se_filters(in_channels, spec.se_ratio))
    counter.conv(mid, spec.filters, 1, out, groups=spec.project_groups)
    counter.bn(spec.filters)
    return out


def _title(spec):
    return "MixConv" if len(spec.kernel_size) > 1 else None


MBCONV = register_kind(
    Kind(
        name="mbconv",
        spec=MBConvSpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("k", "kernel_size", "int_list", "kernel", shown=True),
            Key("a", "expand_groups", "groups", "expand groups"),
            Key("p", "project_groups", "groups", "project groups"),
            Key("s", "strides", "int"),
            Key("e", "expand_ratio", "float", "expand", shown=True),
            Key("c", "filters", "int"),
            Key("se", "se_ratio", "float", "SE", optional=True),
            Key("n", "activation", "activation"),
            Key("noskip", "skip", "noflag"),
        ),
        title="MBConv",
        problems=_problems,
        cost=_cost,
        title_of=_title,
    )
)
