"""`maxpool`: a max-pooling stage (ShuffleNetV2's and DiCENet's stems)."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import register_kind
from tfeff.spec.kinds.base import same_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class MaxPoolSpec:
    """Max pooling stage (ShuffleNetV2 and DiCENet stems).

    Args:
        kernel_size: int. Defaults to `3`.
        strides: int. Defaults to `2`.
    """

    kernel_size: int = 3
    strides: int = 2


def _problems(spec, in_channels):
    return ()


def _cost(counter, spec, in_channels, hw, image_channels):
    return same_size(hw, spec.strides)


MAX_POOL = register_kind(
    Kind(
        name="maxpool",
        spec=MaxPoolSpec,
        keys=(
            Key("k", "kernel_size", "int", "kernel", shown=True),
            Key("s", "strides", "int"),
        ),
        title="max pool",
        problems=_problems,
        cost=_cost,
    )
)
