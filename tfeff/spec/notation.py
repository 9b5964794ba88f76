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

ACTIVATION_CODES = {
    "sw": "swish",
    "re": "relu",
    "r6": "relu6",
    "hs": "hard_swish",
    "pr": "prelu",
    "id": "linear",
}
ACTIVATION_NAMES = {name: code for code, name in ACTIVATION_CODES.items()}
TOKEN_SEPARATOR = "|"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvBnActSpec:
    """Convolution → batch norm → activation (stem, head, or a plain stage).

    Args:
        filters: int. Output channels.
        kernel_size: int. Square kernel size. Defaults to `3`.
        strides: int. Defaults to `1`.
        groups: int. Grouped convolution (split-conv-concat). Defaults to `1`.
        depthwise: bool. Depthwise convolution; `filters` must equal the input
            channels. Defaults to `False`.
        activation: str. Defaults to `"swish"`.
    """

    filters: int
    kernel_size: int = 3
    strides: int = 1
    groups: int = 1
    depthwise: bool = False
    activation: str = "swish"


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class GhostBottleneckSpec:
    """GhostNet bottleneck stage.

    Args:
        filters: int. Output channels.
        mid_filters: int. Expanded width (GhostNet's `exp_size`).
        repeats: int. Defaults to `1`.
        kernel_size: int. Depthwise kernel of strided blocks and shortcut.
        strides: int. Defaults to `1`.
        se_ratio: float. Squeeze-excite width as a fraction of the *expanded*
            channels, rounded to a multiple of 4 (GhostNet). Defaults to `0`.
        activation: str. Defaults to `"relu"`.
    """

    filters: int
    mid_filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    se_ratio: float = 0.0
    activation: str = "relu"


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class MaxPoolSpec:
    """Max pooling stage (ShuffleNetV2 and DiCENet stems).

    Args:
        kernel_size: int. Defaults to `3`.
        strides: int. Defaults to `2`.
    """

    kernel_size: int = 3
    strides: int = 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleUnitSpec:
    """ShuffleNetV2 unit stage: split, 1x1-dw-1x1 branch, concat, shuffle.

    Args:
        filters: int. Output channels (even).
        repeats: int. Defaults to `1`.
        kernel_size: int. Depthwise kernel. Defaults to `3`.
        strides: int. Stride of the first unit. Defaults to `1`.
        activation: str. Defaults to `"relu"`.
    """

    filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    activation: str = "relu"


@dataclasses.dataclass(frozen=True, kw_only=True)
class IGCV3Spec:
    """IGCV3 block stage: grouped 1x1 expand (linear), channel shuffle,
    depthwise, grouped 1x1 project.

    Args:
        filters: int. Output channels.
        repeats: int. Defaults to `1`.
        kernel_size: int. Defaults to `3`.
        strides: int. Defaults to `1`.
        expand_ratio: float. Defaults to `6.0`.
        groups: int. Groups of both 1x1 convs (G1 = G2). Defaults to `2`.
        activation: str. Defaults to `"relu6"`.
    """

    filters: int
    repeats: int = 1
    kernel_size: int = 3
    strides: int = 1
    expand_ratio: float = 6.0
    groups: int = 2
    activation: str = "relu6"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ImageConcatSpec:
    """Concatenates the input image, average-pooled to this resolution, then
    batch norm + activation (ESPNet's `InputProjectionA` + `BR`).

    Args:
        activation: str. Defaults to `"prelu"`.
    """

    activation: str = "prelu"

    @property
    def strides(self):
        return 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class ESPStageSpec:
    """An ESPNet level: strided ESP down-sampler, `repeats` ESP modules, then
    concatenation of the down-sampler and ESP outputs (and, with `image`, the
    pooled image) and batch norm + activation. Output width is
    `2 * filters` (+ image channels).

    Args:
        filters: int. Width of the ESP modules.
        repeats: int. ESP modules after the down-sampler (ESPNet's p, q).
        image: bool. Also concatenate the pooled input image.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    repeats: int = 1
    image: bool = False
    activation: str = "prelu"

    @property
    def strides(self):
        return 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class StridedDICESpec:
    """DiCENet's strided DICE: dw-s2 + 1x1 ‖ avg-pool + DICE + 1x1, concat,
    shuffle. Doubles the width.

    Args:
        activation: str. Defaults to `"prelu"`.
    """

    activation: str = "prelu"

    @property
    def strides(self):
        return 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class ShuffleDICESpec:
    """DiCENet's shuffle-DICE block stage: half the channels pass, the other
    half go through a 1x1 CBR and a DICE unit; concat and shuffle.

    Args:
        filters: int. Output channels.
        repeats: int. Defaults to `1`.
        activation: str. Defaults to `"prelu"`.
    """

    filters: int
    repeats: int = 1
    activation: str = "prelu"

    @property
    def strides(self):
        return 1


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


# --- key tables ---------------------------------------------------------------
# (key, field, codec). A codec turns the text after the key into a value and
# back. Flags (no value) use the codec "flag:<field>=<value when present>".


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

_CONV_KEYS = (
    ("k", "kernel_size", "int"),
    ("s", "strides", "int"),
    ("g", "groups", "int"),
    ("c", "filters", "int"),
    ("dw", "depthwise", "flag"),
    ("n", "activation", "activation"),
)
_KEYS = {
    ConvBnActSpec: _CONV_KEYS,
    MBConvSpec: (
        ("r", "repeats", "int"),
        ("k", "kernel_size", "int_list"),
        ("a", "expand_groups", "groups"),
        ("p", "project_groups", "groups"),
        ("s", "strides", "int"),
        ("e", "expand_ratio", "float"),
        ("c", "filters", "int"),
        ("se", "se_ratio", "float"),
        ("n", "activation", "activation"),
        ("noskip", "skip", "noflag"),
    ),
    GhostBottleneckSpec: (
        ("r", "repeats", "int"),
        ("k", "kernel_size", "int"),
        ("s", "strides", "int"),
        ("m", "mid_filters", "int"),
        ("c", "filters", "int"),
        ("se", "se_ratio", "float"),
        ("n", "activation", "activation"),
    ),
    EESPSpec: (
        ("r", "repeats", "int"),
        ("c", "filters", "int"),
        ("b", "branches", "int"),
        ("rf", "receptive_field", "int"),
        ("n", "activation", "activation"),
    ),
    MaxPoolSpec: (
        ("k", "kernel_size", "int"),
        ("s", "strides", "int"),
    ),
    ShuffleUnitSpec: (
        ("r", "repeats", "int"),
        ("k", "kernel_size", "int"),
        ("s", "strides", "int"),
        ("c", "filters", "int"),
        ("n", "activation", "activation"),
    ),
    IGCV3Spec: (
        ("r", "repeats", "int"),
        ("k", "kernel_size", "int"),
        ("s", "strides", "int"),
        ("e", "expand_ratio", "float"),
        ("g", "groups", "int"),
        ("c", "filters", "int"),
        ("n", "activation", "activation"),
    ),
    ImageConcatSpec: (("n", "activation", "activation"),),
    ESPStageSpec: (
        ("r", "repeats", "int"),
        ("c", "filters", "int"),
        ("img", "image", "flag"),
        ("n", "activation", "activation"),
    ),
    DenseSpec: (
        ("c", "filters", "int"),
        ("g", "groups", "int"),
        ("n", "activation", "activation"),
        ("nobias", "use_bias", "noflag"),
    ),
    StridedDICESpec: (("n", "activation", "activation"),),
    ShuffleDICESpec: (
        ("r", "repeats", "int"),
        ("c", "filters", "int"),
        ("n", "activation", "activation"),
    ),
    StridedEESPSpec: (
        ("c", "filters", "int"),
        ("b", "branches", "int"),
        ("rf", "receptive_field", "int"),
        ("noreinf", "reinforce", "noflag"),
        ("n", "activation", "activation"),
    ),
    NumericsSpec: (
        ("pad", "padding", "padding"),
        ("eps", "bn_epsilon", "epsilon"),
        ("countpad", "count_include_pad", "flag"),
    ),
}
_OPTIONAL = frozenset({"groups", "se_ratio"})
KIND_TO_SPEC = {
    "stem": ConvBnActSpec,
    "head": ConvBnActSpec,
    "convbnact": ConvBnActSpec,
    "mbconv": MBConvSpec,
    "ghost": GhostBottleneckSpec,
    "eesp": EESPSpec,
    "eespdown": StridedEESPSpec,
    "maxpool": MaxPoolSpec,
    "shuffle": ShuffleUnitSpec,
    "igcv3": IGCV3Spec,
    "fc": DenseSpec,
    "imgcat": ImageConcatSpec,
    "espstage": ESPStageSpec,
    "dicedown": StridedDICESpec,
    "dice": ShuffleDICESpec,
    "numerics": NumericsSpec,
}
SPEC_TO_KIND = {
    ConvBnActSpec: "convbnact",
    MBConvSpec: "mbconv",
    GhostBottleneckSpec: "ghost",
    EESPSpec: "eesp",
    StridedEESPSpec: "eespdown",
    MaxPoolSpec: "maxpool",
    ShuffleUnitSpec: "shuffle",
    IGCV3Spec: "igcv3",
    DenseSpec: "fc",
    ImageConcatSpec: "imgcat",
    ESPStageSpec: "espstage",
    StridedDICESpec: "dicedown",
    ShuffleDICESpec: "dice",
}


def block_kind(spec):
    """The kind name of a stage spec (`"mbconv"`, `"ghost"`, ...)."""
    try:
        return SPEC_TO_KIND[type(spec)]
    except KeyError:
        raise TypeError(
            f"Expected a block spec ({', '.join(c.__name__ for c in _KEYS)}). "
            f"Received: spec={spec!r}"
        ) from None


def _decode_token(token, arch_string):
    parts = token.split("_")
    kind = parts[0]
    if kind not in KIND_TO_SPEC:
        raise ValueError(
            f"Unknown block kind {kind!r} in token {token!r} of arch string "
            f"{arch_string!r}. Known kinds: {sorted(KIND_TO_SPEC)}."
        )
    spec_cls = KIND_TO_SPEC[kind]
    keys = _KEYS[spec_cls]
    # Longest key first, so "se" is not read as "s" + "e0.25".
    by_length = sorted(keys, key=lambda item: -len(item[0]))
    values = {}
    for part in parts[1:]:
        for key, field, codec in by_length:
            if codec in ("flag", "noflag"):
                if part == key:
                    value = codec == "flag"
                    break
                continue
            if part.startswith(key) and len(part) > len(key):
                text = part[len(key) :]
                if codec not in _WORD_CODECS and not (
                    text[0].isdigit() or text[0] == "."
                ):
                    continue
                try:
                    value = _CODECS[codec][0](text)
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
                f"{[key for key, _, _ in keys]}."
            )
        if field in values:
            raise ValueError(
                f"Key {part!r} repeats a field in token {token!r} of arch "
                f"string {arch_string!r}."
            )
        values[field] = value
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
    parts = [kind]
    for key, field, codec in _KEYS[type(spec)]:
        value = getattr(spec, field)
        definition = next(
            f for f in dataclasses.fields(spec) if f.name == field
        )
        # Structural numbers are always written (timm strings always show
        # r, k, s, e, c); options appear only when they differ from default.
        always = definition.default is dataclasses.MISSING or (
            codec in ("int", "int_list", "float") and field not in _OPTIONAL
        )
        if not always and value == definition.default:
            continue
        if codec == "flag":
            parts.append(key)
        elif codec == "noflag":
            parts.append(key)
        else:
            parts.append(key + _CODECS[codec][1](value))
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


def as_arch_spec(arch):
    """Accepts an `ArchSpec` or an arch string and returns an `ArchSpec`."""
    if isinstance(arch, ArchSpec):
        return arch
    return decode_arch(arch)
