"""Width, depth and resolution scaling (EfficientNet's compound scaling).

Rounding follows the TF reference exactly (tensorflow/tpu
models/official/efficientnet/efficientnet_model.py `round_filters`,
`round_repeats`; keras.applications and timm `make_divisible` agree).
"""

import dataclasses
import math


def round_channels(
    channels, multiplier=1.0, divisor=8, min_value=None, round_limit=0.9
):
    """Scales a channel count and rounds it to a multiple of `divisor`.

    Rounds to the nearest multiple, never below `min_value` (default:
    `divisor`), and never more than `1 - round_limit` (10%) below the scaled
    value, exactly as EfficientNet's `round_filters` and timm's
    `make_divisible` do.

    Args:
        channels: int or float. Channels before scaling.
        multiplier: float. Width multiplier. Defaults to `1.0`.
        divisor: int. Defaults to `8`.
        min_value: int or None. Defaults to `divisor`.
        round_limit: float. Defaults to `0.9`.

    Returns:
        int.

    Example:

    >>> tfeff.spec.round_channels(32, 1.1)
    32
    >>> tfeff.spec.round_channels(1280, 1.4)
    1792
    """
    if divisor < 1:
        raise ValueError(f"`divisor` must be >= 1. Received: divisor={divisor}")
    scaled = channels * multiplier
    min_value = min_value or divisor
    rounded = max(min_value, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < round_limit * scaled:
        rounded += divisor
    return int(rounded)


def round_repeats(repeats, multiplier=1.0):
    """Scales a stage's block count, rounding up (EfficientNet's rule).

    Example:

    >>> tfeff.spec.round_repeats(3, 1.4)
    5
    """
    return int(math.ceil(multiplier * repeats))


@dataclasses.dataclass(frozen=True)
class CompoundScaling:
    """How a base architecture is scaled.

    Args:
        channel_multiplier: float > 0. Width multiplier. Defaults to `1.0`.
        repeat_multiplier: float > 0. Depth multiplier. Defaults to `1.0`.
        resolution: int. Input size the variant is meant for. Defaults to
            `224`.
        channel_divisor: int. Channels are rounded to multiples of it
            (8 for EfficientNet, 4 for GhostNet). Defaults to `8`.
        scale_stem: bool. Whether the stem width scales. Defaults to `True`.
        scale_head: bool. Whether the head widths scale. Defaults to `True`.
        fixed_end_repeats: bool. Keep the repeats of the first and last stage
            (EfficientNet-Lite's `fix_head_stem`). Defaults to `False`.

    Example:

    >>> tfeff.CompoundScaling(1.1, 1.2, 260).channel_multiplier
    1.1
    """

    channel_multiplier: float = 1.0
    repeat_multiplier: float = 1.0
    resolution: int = 224
    channel_divisor: int = 8
    scale_stem: bool = True
    scale_head: bool = True
    fixed_end_repeats: bool = False

    def __post_init__(self):
        for name in ("channel_multiplier", "repeat_multiplier"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(
                    f"`{name}` must be a number. Received: {name}={value!r}"
                )
            if not value > 0:
                raise ValueError(
                    f"`{name}` must be > 0. Received: {name}={value!r}"
                )
        if not isinstance(self.resolution, int) or self.resolution < 1:
            raise ValueError(
                "`resolution` must be a positive int. Received: "
                f"resolution={self.resolution!r}"
            )
        if (
            not isinstance(self.channel_divisor, int)
            or self.channel_divisor < 1
        ):
            raise ValueError(
                "`channel_divisor` must be a positive int. Received: "
                f"channel_divisor={self.channel_divisor!r}"
            )


def _scale_filters(spec, scaling, *fields):
    if scaling.channel_multiplier == 1.0:
        # A multiplier of 1 is the published network: keep its widths even
        # where they are not multiples of the divisor (ShuffleNetV2's 116,
        # DiCENet's 86), which `round_channels` would otherwise round.
        return spec
    changes = {
        field: round_channels(
            getattr(spec, field),
            scaling.channel_multiplier,
            scaling.channel_divisor,
        )
        for field in fields
    }
    return dataclasses.replace(spec, **changes)


def scale_arch(spec, scaling):
    """Applies width and depth multipliers to an architecture.

    Args:
        spec: ArchSpec or arch string.
        scaling: CompoundScaling.

    Returns:
        ArchSpec with rounded widths and repeats.

    Example:

    >>> base = tfeff.models.get_variant("efficientnet_b0").base_arch
    >>> b4 = tfeff.scale_arch(base, tfeff.CompoundScaling(1.4, 1.8, 380))
    >>> b4.stem.filters, b4.head[0].filters
    (48, 1792)
    """
    from tfeff.spec.notation import as_arch_spec

    spec = as_arch_spec(spec)
    if not isinstance(scaling, CompoundScaling):
        raise TypeError(
            f"`scaling` must be a CompoundScaling. Received: scaling={scaling!r}"
        )
    stem = spec.stem
    if scaling.scale_stem:
        stem = _scale_filters(stem, scaling, "filters")
    blocks = []
    last = len(spec.blocks) - 1
    for index, block in enumerate(spec.blocks):
        fields = ("filters",) if hasattr(block, "filters") else ()
        if hasattr(block, "mid_filters"):
            fields += ("mid_filters",)
        block = _scale_filters(block, scaling, *fields)
        keep_repeats = scaling.fixed_end_repeats and index in (0, last)
        if hasattr(block, "repeats") and not keep_repeats:
            block = dataclasses.replace(
                block,
                repeats=round_repeats(block.repeats, scaling.repeat_multiplier),
            )
        blocks.append(block)
    head = spec.head
    if scaling.scale_head:
        # A depthwise head conv scales like its input, so it stays equal to it.
        head = tuple(_scale_filters(h, scaling, "filters") for h in head)
    return dataclasses.replace(spec, stem=stem, blocks=tuple(blocks), head=head)
