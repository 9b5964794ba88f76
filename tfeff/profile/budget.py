"""`parse_budget`: "0.4GFLOPs" → 400_000_000 multiply-adds."""

import re

_SCALE = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_PATTERN = re.compile(
    r"^\s*(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*"
    r"(?P<scale>[KMGT]?)\s*(?P<unit>FLOPS|FLOPs|flops|MACs|MACS|macs|MAdds|MADDs|madds)?\s*$"
)


def parse_budget(budget):
    """Parses a multiply-add budget.

    "FLOPs" here means multiply-adds, as the EfficientNet, MobileNet and
    GhostNet papers count them (EfficientNet-B0 = 0.39 GFLOPs = 0.39 G MACs).

    Args:
        budget: str like `"0.4GFLOPs"`, `"400MFLOPs"`, `"400M"`, `"4e8"`,
            `"400MMACs"`, or a positive number.

    Returns:
        int. Multiply-adds.

    Raises:
        ValueError: for anything else, naming the value.

    Example:

    >>> tfeff.profile.parse_budget("0.4GFLOPs")
    400000000
    >>> tfeff.profile.parse_budget("4e8")
    400000000
    """
    if isinstance(budget, bool):
        raise TypeError(
            f"`budget` must be a string or number. Received: budget={budget!r}"
        )
    if isinstance(budget, (int, float)):
        value = float(budget)
    elif isinstance(budget, str):
        match = _PATTERN.match(budget)
        if not match:
            raise ValueError(
                "`budget` must look like '0.4GFLOPs', '400MFLOPs', '400M' or "
                f"'4e8' (multiply-adds). Received: budget={budget!r}"
            )
        value = float(match["number"]) * _SCALE[match["scale"]]
    else:
        raise TypeError(
            f"`budget` must be a string or number. Received: budget={budget!r}"
        )
    if not 1 <= value < float("inf"):
        raise ValueError(
            "`budget` must be a finite number of at least 1 multiply-add. "
            f"Received: budget={budget!r}"
        )
    return int(round(value))


def format_macs(macs):
    """`385_900_000` → `"0.386 G MACs (multiply-adds)"`."""
    if macs >= 10**9:
        return f"{macs / 1e9:.3f} G MACs (multiply-adds)"
    return f"{macs / 1e6:.1f} M MACs (multiply-adds)"
