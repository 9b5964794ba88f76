"""Architecture notation: arch strings ⇄ frozen per-kind dataclasses.

An arch string is a sequence of block tokens separated by ``|``::

    stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16_se0.25 | ... | head_k1_c1280

A token is ``<kind>_<key><value>_<key><value>...``; keys may come in any order.
The first token must be a ``stem``; ``head`` tokens may close the string. Every
token between them is one *stage* (a block kind repeated ``r`` times), and
layers are named after it (``stage3_block2_dw_conv``). Input channels are never
written; they are inferred from the previous token.

Keys follow timm's notation where timm has one (``r k s e c se n noskip a p``);
the keys tfeff adds are marked (new):

| key | field | kinds | meaning |
|---|---|---|---|
| ``r`` | ``repeats`` | mbconv, ghost, eesp | blocks in the stage |
| ``k`` | ``kernel_size`` | all conv kinds | depthwise kernel; ``k3.5.7`` is a MixConv kernel list |
| ``s`` | ``strides`` | all | stride of the first block of the stage |
| ``e`` | ``expand_ratio`` | mbconv | expansion of the block input |
| ``c`` | ``filters`` | all | output channels |
| ``se`` | ``se_ratio`` | mbconv, ghost | squeeze-excite ratio (base: see the kind) |
| ``n`` | ``activation`` | all | ``nsw`` swish, ``nre`` relu, ``nr6`` relu6, ``nhs`` hard_swish, ``npr`` prelu (per channel), ``nid`` linear |
| ``noskip`` | ``skip=False`` | mbconv | no identity shortcut |
| ``a`` / ``p`` | ``expand_groups`` / ``project_groups`` | mbconv | timm/MixNet grouped 1x1: ``a1.1`` = 2 groups |
| ``g`` (new) | ``groups`` | stem, head, convbnact | grouped convolution |
| ``dw`` (new) | ``depthwise=True`` | stem, head, convbnact | depthwise convolution (``c`` must equal the input) |
| ``m`` (new) | ``mid_filters`` | ghost | absolute expanded width, as GhostNet's tables give it |
| ``b`` (new) | ``branches`` | eesp, eespdown | EESP branches K |
| ``rf`` (new) | ``receptive_field`` | eesp, eespdown | largest effective kernel of a branch (``r_lim``) |
| ``noreinf`` (new) | ``reinforce=False`` | eespdown | no input-image reinforcement |
| ``g`` (new) | ``groups`` | igcv3, fc | groups of the grouped 1x1 convs / dense |
| ``img`` (new) | ``image=True`` | espstage | concatenate the pooled input image |
| ``nobias`` (new) | ``use_bias=False`` | fc | dense layer without bias |
| ``pad`` (new) | ``padding`` | numerics | ``padsame`` TensorFlow "SAME", ``padsym`` PyTorch's symmetric padding |
| ``eps`` (new) | ``bn_epsilon`` | numerics | batch-norm epsilon (``eps1e-5``) |
| ``countpad`` (new) | ``count_include_pad=True`` | numerics | average pools count padded zeros |

Kinds: ``stem``/``head``/``convbnact`` (:class:`ConvBnActSpec`), ``mbconv``
(:class:`MBConvSpec`, MixConv when ``k`` is a list), ``ghost``
(:class:`GhostBottleneckSpec`), ``eesp`` (:class:`EESPSpec`), ``eespdown``
(:class:`StridedEESPSpec`, always stride 2), ``maxpool``
(:class:`MaxPoolSpec`), ``shuffle`` (:class:`ShuffleUnitSpec`), ``igcv3``
(:class:`IGCV3Spec`), ``imgcat`` (:class:`ImageConcatSpec`), ``espstage``
(:class:`ESPStageSpec`: a whole ESPNet level, one block in layer names),
``dicedown`` (:class:`StridedDICESpec`), ``dice`` (:class:`ShuffleDICESpec`)
and ``fc`` (:class:`DenseSpec`: dense layers after
global pooling, written after the head tokens; they belong to the
classification top).

A ``numerics`` token may open the string, before the stem. It says how the
network computes where frameworks differ (:class:`NumericsSpec`): the padding
of strided layers (``padsame`` TensorFlow "SAME", ``padsym`` PyTorch's
symmetric padding), the batch-norm epsilon (``eps1e-5``) and whether average
pools count padded zeros (``countpad``). Without it a network computes as
TensorFlow does (``numerics_padsame_eps1e-3``), so a checkpoint trained in
PyTorch needs ``numerics_padsym_eps1e-5_countpad`` to give its outputs
(``../shared/reference/checkpoints.md`` §1).

``encode_arch`` writes keys in one canonical order and leaves out fields that
hold their default, so ``decode_arch(encode_arch(spec)) == spec`` and equal
specs give equal strings.
"""

import dataclasses
import math
import re

from tfeff.spec.kinds import ACTIVATION_CODES
from tfeff.spec.kinds import ACTIVATION_NAMES
from tfeff.spec.kinds import ConvBnActSpec
from tfeff.spec.kinds import DenseSpec
from tfeff.spec.kinds import EESPSpec
from tfeff.spec.kinds import ESPStageSpec
from tfeff.spec.kinds import GhostBottleneckSpec
from tfeff.spec.kinds import IGCV3Spec
from tfeff.spec.kinds import ImageConcatSpec
from tfeff.spec.kinds import Key
from tfeff.spec.kinds import MaxPoolSpec
from tfeff.spec.kinds import MBConvSpec
from tfeff.spec.kinds import ShuffleDICESpec
from tfeff.spec.kinds import ShuffleUnitSpec
from tfeff.spec.kinds import StridedDICESpec
from tfeff.spec.kinds import StridedEESPSpec
from tfeff.spec.kinds import kind_named
from tfeff.spec.kinds import kind_of
from tfeff.spec.kinds import registered_kinds

TOKEN_SEPARATOR = "|"

PADDINGS = ("same", "symmetric")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NumericsSpec:
    """How a network computes where TensorFlow and PyTorch differ.

    Part of the architecture: a checkpoint gives its published outputs only
    with the numerics it was trained with (`../shared/reference/
    checkpoints.md` §1). Parameters and MACs do not depend on it.

    Args:
        padding: str. Padding of strided convolutions, depthwise
            convolutions and pools: `"same"` is TensorFlow's "SAME" (on an
            even map the extra row and column go to the bottom and right),
            `"symmetric"` is PyTorch's `padding=(k - 1) // 2 * dilation` on
            every side. Stride-1 layers pad alike either way. Defaults to
            `"same"`.
        bn_epsilon: float. Batch-norm epsilon: 1e-3 in the TensorFlow
            references (Keras' default), 1e-5 in PyTorch's. Defaults to
            `1e-3`.
        count_include_pad: bool. Whether average pools count padded zeros
            in the mean (PyTorch's `AvgPool2d` default) or leave them out
            (TensorFlow's "SAME" pools). Defaults to `False`.
    """

    padding: str = "same"
    bn_epsilon: float = 1e-3
    count_include_pad: bool = False

    def __post_init__(self):
        if self.padding not in PADDINGS:
            raise ValueError(
                f"`padding` must be one of {PADDINGS}. Received: "
                f"padding={self.padding!r}"
            )
        if (
            isinstance(self.bn_epsilon, bool)
            or not isinstance(self.bn_epsilon, (int, float))
            or not 0.0 < self.bn_epsilon < 1.0
        ):
            raise ValueError(
                "`bn_epsilon` must be a number in (0, 1). Received: "
                f"bn_epsilon={self.bn_epsilon!r}"
            )
        object.__setattr__(self, "bn_epsilon", float(self.bn_epsilon))
        if not isinstance(self.count_include_pad, bool):
            raise TypeError(
                "`count_include_pad` must be a bool. Received: "
                f"count_include_pad={self.count_include_pad!r}"
            )


# The two conventions the reference checkpoints were trained with, and the
# token that opens the arch string of a network trained in PyTorch.
TF_NUMERICS = NumericsSpec()
TORCH_NUMERICS = NumericsSpec(
    padding="symmetric", bn_epsilon=1e-5, count_include_pad=True
)
TORCH_NUMERICS_TOKEN = "numerics_padsym_eps1e-5_countpad"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """A whole network: stem, stages and head, as data.

    Args:
        stem: ConvBnActSpec. The first convolution.
        blocks: tuple of stage specs, in order.
        head: tuple of ConvBnActSpec. Convolutions after the last stage.
        top: tuple of DenseSpec. Dense layers between global pooling and the
            classifier; part of the classification top (`include_top`).
        numerics: NumericsSpec. Padding, batch-norm epsilon and average
            pooling conventions. Defaults to TensorFlow's.
    """

    stem: ConvBnActSpec
    blocks: tuple
    head: tuple = ()
    top: tuple = ()
    numerics: NumericsSpec = TF_NUMERICS


# --- codecs ------------------------------------------------------------------
# A codec turns the text after a key into a value and back.


def _int(text):
    if not re.fullmatch(r"\d+", text):
        raise ValueError("expected a whole number")
    return int(text)


def _float(text):
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", text):
        raise ValueError("expected a number")
    return float(text)


def _format_float(value):
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _epsilon(text):
    # Written as a power of ten where it is one (eps1e-5), else a decimal.
    if not re.fullmatch(r"\d+(\.\d+)?(e-?\d+)?", text):
        raise ValueError("expected a number such as 1e-5 or 0.001")
    return float(text)


def _format_epsilon(value):
    exponent = math.log10(value)
    if abs(exponent - round(exponent)) < 1e-9:
        return f"1e{int(round(exponent))}"
    return repr(float(value))


def _padding(text):
    codes = {"same": "same", "sym": "symmetric"}
    if text not in codes:
        raise ValueError(f"expected one of {sorted(codes)}")
    return codes[text]


def _int_list(text):
    return tuple(_int(part) for part in text.split("."))


def _ones_list(text):
    # timm writes grouped 1x1 convs as a list of kernel sizes, all 1.
    parts = _int_list(text)
    if any(part != 1 for part in parts):
        raise ValueError("grouped 1x1 kernels must all be 1 (as in a1.1)")
    return len(parts)


def _activation(text):
    if text not in ACTIVATION_CODES:
        raise ValueError(
            f"unknown activation code; known: {sorted(ACTIVATION_CODES)}"
        )
    return ACTIVATION_CODES[text]


_CODECS = {
    "int": (_int, str),
    "float": (_float, _format_float),
    "int_list": (_int_list, lambda v: ".".join(str(x) for x in v)),
    "groups": (_ones_list, lambda v: ".".join(["1"] * v)),
    "activation": (_activation, lambda v: ACTIVATION_NAMES[v]),
    "epsilon": (_epsilon, _format_epsilon),
    "padding": (_padding, lambda v: {"same": "same", "symmetric": "sym"}[v]),
}
# Codecs whose text starts with a letter (others start with a digit or ".").
_WORD_CODECS = frozenset({"activation", "padding"})

# The numerics token is not a block: it opens the string and sets how the
# whole network computes.
NUMERICS_KEYS = (
    Key("pad", "padding", "padding"),
    Key("eps", "bn_epsilon", "epsilon"),
    Key("countpad", "count_include_pad", "flag"),
)
# Token kinds that are positions of the conv-BN-act kind.
_POSITIONS = ("stem", "head")


def _token_kind(name):
    """(spec class, keys) of a token kind, or None."""
    if name == "numerics":
        return NumericsSpec, NUMERICS_KEYS
    kind = kind_named("convbnact" if name in _POSITIONS else name)
    return None if kind is None else (kind.spec, kind.keys)


def _known_token_kinds():
    return sorted(
        [k.name for k in registered_kinds()] + [*_POSITIONS, "numerics"]
    )


def block_kind(spec):
    """The kind name of a stage spec (`"mbconv"`, `"ghost"`, ...)."""
    return kind_of(spec).name


def _decode_token(token, arch_string):
    parts = token.split("_")
    kind = parts[0]
    found = _token_kind(kind)
    if found is None:
        raise ValueError(
            f"Unknown block kind {kind!r} in token {token!r} of arch string "
            f"{arch_string!r}. Known kinds: {_known_token_kinds()}."
            + (
                ""
                if TOKEN_SEPARATOR in arch_string
                else " (A variant name is not an arch string: "
                "tfeff.models.get_variant(name) gives the variant.)"
            )
        )
    spec_cls, keys = found
    # Longest key first, so "se" is not read as "s" + "e0.25".
    by_length = sorted(keys, key=lambda item: -len(item.key))
    values = {}
    for part in parts[1:]:
        for key in by_length:
            if key.codec in ("flag", "noflag"):
                if part == key.key:
                    value = key.codec == "flag"
                    break
                continue
            if part.startswith(key.key) and len(part) > len(key.key):
                text = part[len(key.key) :]
                if key.codec not in _WORD_CODECS and not (
                    text[0].isdigit() or text[0] == "."
                ):
                    continue
                try:
                    value = _CODECS[key.codec][0](text)
                except ValueError as error:
                    raise ValueError(
                        f"Bad value in {part!r} (token {token!r}) of arch "
                        f"string {arch_string!r}: {error}."
                    ) from None
                break
        else:
            raise ValueError(
                f"Unknown key {part!r} in token {token!r} of arch string "
                f"{arch_string!r}. Keys of {kind!r}: "
                f"{[key.key for key in keys]}."
            )
        if key.field in values:
            raise ValueError(
                f"Key {part!r} repeats a field in token {token!r} of arch "
                f"string {arch_string!r}."
            )
        values[key.field] = value
    try:
        spec = spec_cls(**values)
    except ValueError as error:  # A value the spec refuses (NumericsSpec).
        raise ValueError(
            f"Bad value in token {token!r} of arch string {arch_string!r}: "
            f"{error}"
        ) from None
    except TypeError:
        missing = [
            f.name
            for f in dataclasses.fields(spec_cls)
            if f.default is dataclasses.MISSING and f.name not in values
        ]
        raise ValueError(
            f"Token {token!r} of arch string {arch_string!r} is missing "
            f"{missing}."
        ) from None
    return kind, spec


def decode_arch(arch_string):
    """Decodes an arch string into an `ArchSpec`.

    Args:
        arch_string: str. Tokens separated by `|` (see the module docstring).

    Returns:
        ArchSpec.

    Raises:
        TypeError: if `arch_string` is not a string.
        ValueError: naming the offending token and the whole string.

    Example:

    >>> spec = tfeff.decode_arch("stem_k3_s2_c32 | mbconv_r2_k3.5_s2_e6_c24")
    >>> spec.blocks[0].kernel_size
    (3, 5)
    """
    if isinstance(arch_string, ArchSpec):
        return arch_string
    if not isinstance(arch_string, str):
        raise TypeError(
            f"`arch_string` must be a str. Received: arch_string="
            f"{arch_string!r} of type {type(arch_string).__name__}"
        )
    tokens = [t.strip() for t in arch_string.split(TOKEN_SEPARATOR)]
    if not tokens or any(not t for t in tokens):
        raise ValueError(
            f"Empty token in arch string {arch_string!r}: tokens are "
            f"separated by a single {TOKEN_SEPARATOR!r}."
        )
    decoded = [_decode_token(token, arch_string) for token in tokens]
    numerics = TF_NUMERICS
    if decoded[0][0] == "numerics":
        numerics = decoded[0][1]
        decoded, tokens = decoded[1:], tokens[1:]
    if not decoded or decoded[0][0] != "stem":
        raise ValueError(
            "An arch string starts with a stem token (after an optional "
            f"numerics token); {tokens[0] if tokens else ''!r} is not one. "
            f"Received: {arch_string!r}"
        )
    stem = decoded[0][1]
    body = decoded[1:]
    top_start = len(body)
    while top_start > 0 and body[top_start - 1][0] == "fc":
        top_start -= 1
    head_start = top_start
    while head_start > 0 and body[head_start - 1][0] == "head":
        head_start -= 1
    for (kind, _), token in zip(body[:head_start], tokens[1:]):
        if kind in ("stem", "head", "fc", "numerics"):
            raise ValueError(
                f"Token {token!r} is a {kind} in the middle of arch string "
                f"{arch_string!r}: the order is numerics (optional), stem, "
                "stages, head tokens, fc tokens."
            )
    return ArchSpec(
        stem=stem,
        blocks=tuple(spec for _, spec in body[:head_start]),
        head=tuple(spec for _, spec in body[head_start:top_start]),
        top=tuple(spec for _, spec in body[top_start:]),
        numerics=numerics,
    )


def _encode_token(kind, spec):
    _, keys = _token_kind(kind)
    defaults = {f.name: f.default for f in dataclasses.fields(spec)}
    parts = [kind]
    for key in keys:
        value = getattr(spec, key.field)
        default = defaults[key.field]
        # Structural numbers are always written (timm strings always show
        # r, k, s, e, c); options appear only when they differ from default.
        always = default is dataclasses.MISSING or (
            key.codec in ("int", "int_list", "float") and not key.optional
        )
        if not always and value == default:
            continue
        if key.codec in ("flag", "noflag"):
            parts.append(key.key)
        else:
            parts.append(key.key + _CODECS[key.codec][1](value))
    return "_".join(parts)


def encode_block(spec, kind=None):
    """Encodes one block spec as its token of the arch string.

    Args:
        spec: a block spec (`MBConvSpec`, `GhostSpec`, ...) or a
            `ConvBnActSpec`.
        kind: str or None. Token kind; None takes the block's own kind
            (`block_kind(spec)`), and `"stem"` for a `ConvBnActSpec`.

    Returns:
        str, e.g. `"mbconv_r1_k3_s1_e1_c16"`.
    """
    if kind is None:
        kind = "stem" if isinstance(spec, ConvBnActSpec) else block_kind(spec)
    return _encode_token(kind, spec)


def encode_arch(spec):
    """Encodes an `ArchSpec` as its canonical arch string.

    Args:
        spec: ArchSpec.

    Returns:
        str. `decode_arch` of it gives back an equal spec.

    Example:

    >>> spec = tfeff.decode_arch("stem_s2_c32_k3 | mbconv_c16_k3")
    >>> tfeff.encode_arch(spec)
    'stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16'
    """
    if not isinstance(spec, ArchSpec):
        raise TypeError(f"`spec` must be an ArchSpec. Received: spec={spec!r}")
    tokens = []
    if spec.numerics != TF_NUMERICS:
        tokens.append(_encode_token("numerics", spec.numerics))
    tokens.append(_encode_token("stem", spec.stem))
    tokens += [_encode_token(block_kind(b), b) for b in spec.blocks]
    tokens += [_encode_token("head", h) for h in spec.head]
    tokens += [_encode_token("fc", t) for t in spec.top]
    return f" {TOKEN_SEPARATOR} ".join(tokens)


def is_arch_string(text):
    """Whether `text` reads as an arch string rather than a name: it joins
    tokens with `|` or opens with a stem or numerics token."""
    text = text.strip()
    return TOKEN_SEPARATOR in text or text.split("_")[0] in ("stem", "numerics")


def as_arch_spec(arch):
    """Accepts an `ArchSpec` or an arch string and returns an `ArchSpec`."""
    if isinstance(arch, ArchSpec):
        return arch
    return decode_arch(arch)


# The spec classes live with their kinds (`tfeff.spec.kinds`); they are
# importable from here as before.
__all__ = [
    "ACTIVATION_CODES",
    "ACTIVATION_NAMES",
    "ArchSpec",
    "ConvBnActSpec",
    "DenseSpec",
    "EESPSpec",
    "ESPStageSpec",
    "GhostBottleneckSpec",
    "IGCV3Spec",
    "ImageConcatSpec",
    "MBConvSpec",
    "MaxPoolSpec",
    "NUMERICS_KEYS",
    "NumericsSpec",
    "ShuffleDICESpec",
    "ShuffleUnitSpec",
    "StridedDICESpec",
    "StridedEESPSpec",
    "TF_NUMERICS",
    "TOKEN_SEPARATOR",
    "TORCH_NUMERICS",
    "TORCH_NUMERICS_TOKEN",
    "as_arch_spec",
    "block_kind",
    "decode_arch",
    "encode_arch",
    "encode_block",
    "is_arch_string",
]
