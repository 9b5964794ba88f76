"""`describe_arch`: an arch string as a table a person reads at a glance."""

import dataclasses

from tfeff.spec.kinds import kind_of
from tfeff.spec.notation import as_arch_spec

# Shown in columns of their own, not in "details".
_OWN_COLUMNS = ("filters", "repeats", "strides", "activation")


def _value(value):
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _details(spec):
    kind = kind_of(spec)
    shown = {key.field for key in kind.keys if key.shown}
    parts = []
    for field in dataclasses.fields(spec):
        if field.name in _OWN_COLUMNS:
            continue
        value = getattr(spec, field.name)
        if field.name not in shown and value == field.default:
            continue
        parts.append(f"{kind.label(field.name)} {_value(value)}")
    return ", ".join(parts)


def describe_rows(arch):
    """One dict per stem, stage and head token of `arch`.

    Args:
        arch: ArchSpec, arch string, or a registered `Variant`
            (`tfeff.models.get_variant(name)`; its arch at its scaling).

    Keys: `part` ("stem", "stage 3", "head"), `block` (the paper's name:
    MBConv, MixConv, Ghost bottleneck, ...), `repeats`, `stride`,
    `channels` (output), `activation`, `details` (kernel, expansion,
    squeeze-excite ratio and whatever else differs from the defaults).
    """
    if hasattr(arch, "resolved_arch"):
        arch = arch.resolved_arch()
    arch = as_arch_spec(arch)
    parts = [("stem", arch.stem)]
    parts += [(f"stage {i}", spec) for i, spec in enumerate(arch.blocks, 1)]
    parts += [("head", spec) for spec in arch.head]
    rows = []
    for part, spec in parts:
        rows.append(
            {
                "part": part,
                "block": kind_of(spec).describe(spec),
                "repeats": getattr(spec, "repeats", 1),
                "stride": getattr(spec, "strides", 1),
                "channels": getattr(spec, "filters", None),
                "activation": getattr(spec, "activation", None),
                "details": _details(spec),
            }
        )
    return rows


def describe_arch(arch):
    """A plain-text table of `arch` (a spec, an arch string or a `Variant`).

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
