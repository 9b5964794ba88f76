"""Compound scaling of any registered variant (EfficientNet's rule)."""

import dataclasses
import typing

from tfeff.models.registry import Variant
from tfeff.models.registry import get_variant
from tfeff.profile.cost import estimate_cost


class ScaledVariant(typing.NamedTuple):
    """A compound-scaled variant and what it costs at its resolution."""

    variant: Variant
    cost: object  # tfeff.profile.CostReport


def compound_scale(
    variant, phi, alpha=1.2, beta=1.1, gamma=1.15, *, resolution_divisor=8
):
    """Scales depth by `alpha**phi`, width by `beta**phi`, resolution by `gamma**phi`.

    EfficientNet's compound scaling (arXiv 1905.11946 §3.3, alpha=1.2,
    beta=1.1, gamma=1.15), applied to any family: multipliers multiply the
    variant's own, and rounding follows the family's channel divisor.

    Args:
        variant: str or Variant. The base.
        phi: float. Compound coefficient (0 returns the base).
        alpha, beta, gamma: float > 0. Depth, width and resolution bases.
        resolution_divisor: int. The resolution is rounded to a multiple.

    Returns:
        ScaledVariant `(variant, cost)`; `tfeff.create_model` accepts the
        variant.

    Example:

    >>> scaled = tfeff.models.compound_scale("mixnet_s", 1)
    >>> scaled.variant.resolution, scaled.cost.macs > tfeff.estimate_cost("mixnet_s").macs
    (256, True)
    """
    base = variant if isinstance(variant, Variant) else get_variant(variant)
    for name, value in (
        ("phi", phi),
        ("alpha", alpha),
        ("beta", beta),
        ("gamma", gamma),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"`{name}` must be a number. Received: {name}={value!r}"
            )
    for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        if not value > 0:
            raise ValueError(
                f"`{name}` must be > 0. Received: {name}={value!r}"
            )
    scaling = base.scaling
    resolution = scaling.resolution * gamma**phi
    resolution = max(
        resolution_divisor,
        int(round(resolution / resolution_divisor)) * resolution_divisor,
    )
    scaled = dataclasses.replace(
        base,
        name=f"{base.name}_phi{phi:g}",
        scaling=dataclasses.replace(
            scaling,
            channel_multiplier=scaling.channel_multiplier * beta**phi,
            repeat_multiplier=scaling.repeat_multiplier * alpha**phi,
            resolution=resolution,
        ),
    )
    cost = estimate_cost(
        scaled.resolved_arch(),
        scaled.resolution,
        num_classes=scaled.num_classes,
    )
    return ScaledVariant(scaled, cost)
