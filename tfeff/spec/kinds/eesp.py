"""`eesp` and `eespdown`: ESPNetv2's EESP unit and its strided form."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class EESPSpec:
    """ESPNetv2 EESP stage (stride 1, residual).

    Args:
        filters: int. Output channels; divisible by `branches`.
        repeats: int. Defaults to `1`.
        branches: int. Dilated depthwise branches K. Defaults to `4`.
        receptive_field: int. Largest effective kernel a branch may have
            (`r_lim`). Defaults to `7`.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    repeats: int = 1
    branches: int = 4
    receptive_field: int = 7
    activation: str = "prelu"

    @property
    def strides(self):
        return 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class StridedEESPSpec:
    """ESPNetv2 strided EESP (the DownSampler): avg-pool ‖ EESP(s2), + image.

    Args:
        filters: int. Output channels; more than the input channels.
        branches: int. Defaults to `4`.
        receptive_field: int. Defaults to `7`.
        reinforce: bool. Add the input-image reinforcement path. Defaults to
            `True`.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    branches: int = 4
    receptive_field: int = 7
    reinforce: bool = True
    activation: str = "prelu"

    @property
    def strides(self):
        return 2


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


def _branch_problems(spec, in_channels, inner):
    if not positive(spec.branches):
        yield f"branches must be >= 1, got {spec.branches}"
        return
    if not (positive(spec.receptive_field) and spec.receptive_field >= 3):
        yield f"receptive_field must be >= 3, got {spec.receptive_field}"
    if in_channels is None:  # The rules below read the input's width.
        return
    if inner % spec.branches or in_channels % spec.branches:
        yield (
            f"branches={spec.branches} must divide the input "
            f"({in_channels}) and EESP output ({inner}) channels"
        )
    # The reduce 1x1 is grouped by `branches` (the reference's
    # CBR(nIn, n, 1, groups=k) with n = nOut / k), so each branch's width
    # must split into `branches` groups as well.
    elif (inner // spec.branches) % spec.branches:
        yield (
            f"branches={spec.branches} must divide the branch width "
            f"{inner // spec.branches} (the grouped reduce conv)"
        )


def _eesp_problems(spec, in_channels):
    if in_channels is not None and spec.filters != in_channels:
        yield (
            f"an EESP block keeps its width (its residual adds the input): "
            f"filters={spec.filters}, input {in_channels}"
        )
    yield from _branch_problems(spec, in_channels, spec.filters)


def _eespdown_problems(spec, in_channels):
    if in_channels is None:
        yield from _branch_problems(spec, None, None)
        return
    inner = eespdown_inner_filters(in_channels, spec.filters)
    if inner <= 0:
        yield (
            f"a strided EESP widens its input: filters={spec.filters} "
            f"<= input channels {in_channels}"
        )
        return
    yield from _branch_problems(spec, in_channels, inner)


def _core_cost(counter, in_channels, filters, hw, strides, spec):
    width = eesp_branch_filters(filters, spec.branches)
    counter.conv(in_channels, width, 1, hw, groups=spec.branches)
    counter.bn(width)
    counter.act(width, spec.activation)
    out = same_size(hw, strides)
    for _ in eesp_dilations(spec.branches, spec.receptive_field):
        counter.depthwise(width, 3, out)
    counter.bn(filters)
    counter.act(filters, spec.activation)
    counter.conv(filters, filters, 1, out, groups=spec.branches)
    counter.bn(filters)
    return out


def _eesp_cost(counter, spec, in_channels, hw, image_channels):
    out = _core_cost(counter, in_channels, spec.filters, hw, 1, spec)
    counter.act(spec.filters, spec.activation)
    return out


def _eespdown_cost(counter, spec, in_channels, hw, image_channels):
    inner = eespdown_inner_filters(in_channels, spec.filters)
    out = _core_cost(counter, in_channels, inner, hw, 2, spec)
    if spec.reinforce:
        counter.conv(image_channels, image_channels, 3, out)
        counter.bn(image_channels)
        counter.act(image_channels, spec.activation)
        counter.conv(image_channels, spec.filters, 1, out)
        counter.bn(spec.filters)
    counter.act(spec.filters, spec.activation)
    return out


_BRANCH_KEYS = (
    Key("b", "branches", "int"),
    Key("rf", "receptive_field", "int", "RF limit"),
)

EESP = register_kind(
    Kind(
        name="eesp",
        spec=EESPSpec,
        keys=(
            Key("r", "repeats", "int"),
            Key("c", "filters", "int"),
            *_BRANCH_KEYS,
            Key("n", "activation", "activation"),
        ),
        title="EESP",
        problems=_eesp_problems,
        cost=_eesp_cost,
    )
)
STRIDED_EESP = register_kind(
    Kind(
        name="eespdown",
        spec=StridedEESPSpec,
        keys=(
            Key("c", "filters", "int"),
            *_BRANCH_KEYS,
            Key("noreinf", "reinforce", "noflag"),
            Key("n", "activation", "activation"),
        ),
        title="strided EESP",
        problems=_eespdown_problems,
        cost=_eespdown_cost,
    )
)
