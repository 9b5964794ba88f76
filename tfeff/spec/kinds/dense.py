"""`fc`: a dense layer after global pooling (part of the classification
top, written after the head tokens)."""

import dataclasses

from tfeff.spec.kinds.base import Key
from tfeff.spec.kinds.base import Kind
from tfeff.spec.kinds.base import positive
from tfeff.spec.kinds.base import register_kind


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenseSpec:
    """A dense layer after global pooling, before the classifier (`fc`).

    GhostNet's 1x1 `conv_head` and DiCENet's grouped 1x1 on the pooled
    features are dense layers on a 1x1 map.

    Args:
        filters: int. Output units.
        groups: int. Grouped (split-dense-concat). Defaults to `1`.
        activation: str. Defaults to `"linear"`.
        use_bias: bool. Defaults to `True`.
    """

    filters: int
    groups: int = 1
    activation: str = "linear"
    use_bias: bool = True


def _problems(spec, in_channels):
    if not positive(spec.groups):
        yield f"groups must be >= 1, got {spec.groups}"


def _cost(counter, spec, in_channels, hw, image_channels):
    counter.dense(in_channels, spec.filters, spec.groups, spec.use_bias)
    return (1, 1)


DENSE = register_kind(
    Kind(
        name="fc",
        spec=DenseSpec,
        keys=(
            Key("c", "filters", "int"),
            Key("g", "groups", "int", optional=True),
            Key("n", "activation", "activation"),
            Key("nobias", "use_bias", "noflag"),
        ),
        title="dense",
        problems=_problems,
        cost=_cost,
    )
)
