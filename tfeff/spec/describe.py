"""`describe_arch`: an arch string as a table a person reads at a glance."""

import dataclasses

from tfeff.spec.notation import MBConvSpec
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import block_kind

# What each token kind is called in the papers.
_KIND_NAMES = {
    "convbnact": "conv-BN-act",
    "mbconv": "MBConv",
    "ghost": "Ghost bottleneck",
    "eesp": "EESP",
    "eespdown": "strided EESP",
    "maxpool": "max pool",
    "shuffle": "ShuffleNetV2 unit",
    "igcv3": "IGCV3 block",
    "imgcat": "image concat",
    "espstage": "ESP stage",
    "dicedown": "strided DiCE unit",
    "dice": "DiCE unit",
    "fc": "dense",
}

# Field -> short label in the "details" column; fields not listed are shown
# by their own name. Columns of their own are left out here.
_LABELS = {
    "kernel_size": "kernel",
    "expand_ratio": "expand",
    "se_ratio": "SE",
    "mid_filters": "mid",
    "receptive_field": "RF limit",
    "expand_groups": "expand groups",
    "project_groups": "project groups",
}
_OWN_COLUMNS = ("filters", "repeats", "strides", "activation")
# Shown even at their default value: what a reader compares between blocks.
_ALWAYS = ("kernel_size", "expand_ratio", "mid_filters")


def _kind_name(spec):
    kind = block_kind(spec)
    if isinstance(spec, MBConvSpec) and len(spec.kernel_size) > 1:
        return "MixConv"
    return _KIND_NAMES.get(kind, kind)


def _value(value):
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _details(spec):
    parts = []
    for field in dataclasses.fields(spec):
        if field.name in _OWN_COLUMNS:
            continue
        value = getattr(spec, field.name)
        if field.name not in _ALWAYS and value == field.default:
            continue
        parts.append(f"{_LABELS.get(field.name, field.name)} {_value(value)}")
    return ", ".join(parts)


def describe_rows(arch):
    """One dict per stem, stage and head token of `arch`.

    Keys: `part` ("stem", "stage 3", "head"), `block` (the paper's name:
    MBConv, MixConv, Ghost bottleneck, ...), `repeats`, `stride`,
    `channels` (output), `activation`, `details` (kernel, expansion,
    squeeze-excite ratio and whatever else differs from the defaults).
    """
    if isinstance(arch, str) and not arch.lstrip().startswith("stem"):
        # Not an arch string (those start with their stem): a variant name.
        from tfeff.models.registry import get_variant

        arch = get_variant(arch).resolved_arch()
    arch = as_arch_spec(arch)
    parts = [("stem", arch.stem)]
    parts += [(f"stage {i}", spec) for i, spec in enumerate(arch.blocks, 1)]
    parts += [("head", spec) for spec in arch.head]
    rows = []
    for part, spec in parts:
        rows.append(
            {
                "part": part,
                "block": _kind_name(spec),
                "repeats": getattr(spec, "repeats", 1),
                "stride": getattr(spec, "strides", 1),
                "channels": getattr(spec, "filters", None),
                "activation": getattr(spec, "activation", None),
                "details": _details(spec),
            }
        )
    return rows


def describe_arch(arch):
    """A plain-text table of `arch` (a spec, an arch string or a variant).

    Example:

    >>> print(tfeff.spec.describe_arch(
    ...     "stem_k3_s2_c32 | mbconv_r2_k3.5.7_s2_e6_c24_se0.25 | head_k1_c64"
    ... ))
    part     block        repeats  stride  channels  activation  details
    -------  -----------  -------  ------  --------  ----------  -------------------------------
    stem     conv-BN-act        1       2        32  swish       kernel 3
    stage 1  MixConv            2       2        24  swish       kernel 3/5/7, expand 6, SE 0.25
    head     conv-BN-act        1       1        64  swish       kernel 1
    """
    rows = describe_rows(arch)
    header = {
        "part": "part",
        "block": "block",
        "repeats": "repeats",
        "stride": "stride",
        "channels": "channels",
        "activation": "activation",
        "details": "details",
    }
    keys = list(header)
    numeric = ("repeats", "stride", "channels")
    table = [header] + [
        {k: "–" if row[k] is None else str(row[k]) for k in keys}
        for row in rows
    ]
    widths = {k: max(len(r[k]) for r in table) for k in keys}

    def line(row):
        cells = [
            row[k].rjust(widths[k]) if k in numeric else row[k].ljust(widths[k])
            for k in keys
        ]
        return "  ".join(cells).rstrip()

    lines = [line(header), "  ".join("-" * widths[k] for k in keys)]
    lines += [line(row) for row in table[1:]]
    return "\n".join(lines)
