"""What a block kind is, the registry of kinds, and the cost counter kinds use.

A `Kind` holds everything the pure-Python floors know about one block kind:
its spec dataclass, its notation keys, its readable names, its rules, its
output width and its cost. The notation codec, `validate_arch`,
`describe_arch`, `expand_blocks` and `estimate_cost` loop over kinds; none of
them names a kind. Emission (Keras) is the kind's builder in `tfeff.blocks`,
registered under the same name.

Stdlib only, like the rest of `tfeff.spec`.
"""

import dataclasses
import math

from tfeff.spec.depthwise import depthwise_taps

ACTIVATION_CODES = {
    "sw": "swish",
    "re": "relu",
    "r6": "relu6",
    "hs": "hard_swish",
    "pr": "prelu",
    "id": "linear",
}
ACTIVATION_NAMES = {name: code for code, name in ACTIVATION_CODES.items()}

CODECS = (
    "int",
    "float",
    "int_list",
    "groups",
    "activation",
    "flag",
    "noflag",
    "epsilon",
    "padding",
)


@dataclasses.dataclass(frozen=True)
class Key:
    """One notation key of a kind.

    Attributes:
        key: str. The letters in the token (`"k"` in `k3`).
        field: str. The spec field it sets.
        codec: str. How the text after the key reads: `"int"`, `"float"`,
            `"int_list"` (`3.5.7`), `"groups"` (timm's `1.1` = 2 groups),
            `"activation"`, `"flag"` (the bare key sets True) or `"noflag"`
            (the bare key sets False).
        label: str or None. Its name in `describe_arch`'s details; None
            shows the field's name.
        optional: bool. A number written only when it differs from its
            default (structural numbers such as `r k s e c` are always
            written, as timm's strings show them).
        shown: bool. `describe_arch` shows it even at its default: what a
            reader compares between blocks.
    """

    key: str
    field: str
    codec: str
    label: str = None
    optional: bool = False
    shown: bool = False

    def __post_init__(self):
        if self.codec not in CODECS:
            raise ValueError(
                f"`codec` must be one of {CODECS}. Received: "
                f"codec={self.codec!r} (key {self.key!r})"
            )


def _title(spec):
    return None


@dataclasses.dataclass(frozen=True)
class Kind:
    """Everything pure Python knows about one block kind.

    Attributes:
        name: str. The token kind (`"mbconv"`), also the name its builder
            is registered under in `tfeff.blocks`.
        spec: type. Its frozen spec dataclass.
        keys: tuple of Key, in the canonical order `encode_arch` writes.
        title: str. What the papers call it (`describe_arch`).
        problems: callable `(spec, in_channels) -> iterable of str`: what
            is wrong with `spec` on an input of `in_channels` channels, in
            the order the rules are read; empty when it can be built. The
            rules every kind shares (filters, strides, activation, kernel
            sizes) are checked before these. `in_channels=None` (a public
            layer before it sees its input) asks for the rules that do not
            read the input's width.
        cost: callable `(counter, spec, in_channels, hw, image_channels)
            -> out_hw`: adds the block's parameters and multiply-adds to
            `counter` (a `Counter`) and returns its output size.
        output_channels: callable `(spec, in_channels, image_channels) ->
            int`, or None for the spec's `filters` (its input's width
            when it has none).
        title_of: callable `(spec) -> str or None`: a more exact name for
            this spec (`"MixConv"` for an MBConv with a kernel list).
        composite: bool. The stage's repeats are inside one block (one
            name in layer names), not `repeats` blocks.
        static_size: bool. The block needs the input size when built
            (DiCE's width- and height-wise convolutions).
    """

    name: str
    spec: type
    keys: tuple
    title: str
    problems: object
    cost: object
    output_channels: object = None
    title_of: object = _title
    composite: bool = False
    static_size: bool = False

    def __post_init__(self):
        if not dataclasses.is_dataclass(self.spec):
            raise TypeError(
                f"`spec` must be a dataclass. Received: spec={self.spec!r}"
            )
        fields = {field.name for field in dataclasses.fields(self.spec)}
        for key in self.keys:
            if key.field not in fields:
                raise ValueError(
                    f"Key {key.key!r} of kind {self.name!r} sets "
                    f"{key.field!r}, which {self.spec.__name__} does not "
                    f"have. Its fields: {sorted(fields)}"
                )

    def width(self, spec, in_channels, image_channels=3):
        """Channels the block outputs."""
        if self.output_channels is not None:
            return self.output_channels(spec, in_channels, image_channels)
        return getattr(spec, "filters", in_channels)

    def describe(self, spec):
        """The paper's name for `spec`."""
        return self.title_of(spec) or self.title

    def label(self, field):
        """The readable name of a field in `describe_arch`'s details."""
        for key in self.keys:
            if key.field == field and key.label:
                return key.label
        return field


_KINDS = {}
_BY_SPEC = {}


def register_kind(kind):
    """Registers a `Kind`; a second kind of the same name or spec class is
    an error. Returns the kind, so a module can write
    `MBCONV = register_kind(Kind(...))`."""
    if not isinstance(kind, Kind):
        raise TypeError(f"`kind` must be a Kind. Received: kind={kind!r}")
    if kind.name in _KINDS or kind.name in RESERVED_TOKENS:
        raise KeyError(f"Block kind {kind.name!r} is already registered.")
    if kind.spec in _BY_SPEC:
        raise KeyError(
            f"{kind.spec.__name__} already belongs to kind "
            f"{_BY_SPEC[kind.spec].name!r}."
        )
    _KINDS[kind.name] = kind
    _BY_SPEC[kind.spec] = kind
    return kind


# Tokens the notation reads itself: positions of the conv-BN-act kind and
# the numerics token.
RESERVED_TOKENS = ("stem", "head", "numerics")


def kind_named(name):
    """The registered kind called `name`, or None."""
    return _KINDS.get(name)


def kind_of(spec):
    """The kind of a block spec.

    Raises:
        TypeError: `spec` is not the spec of a registered kind.
    """
    try:
        return _BY_SPEC[type(spec)]
    except (KeyError, TypeError):
        raise TypeError(
            "Expected a block spec "
            f"({', '.join(cls.__name__ for cls in _BY_SPEC)}). Received: "
            f"spec={spec!r}"
        ) from None


def registered_kinds():
    """Every registered kind, in registration order."""
    return tuple(_KINDS.values())


# --- rules shared by the kinds ---------------------------------------------


def positive(value):
    """A whole number >= 1 (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def kernel_sizes(spec):
    """The spec's depthwise kernel sizes as a tuple (3 when it has none)."""
    kernels = getattr(spec, "kernel_size", 3)
    return kernels if isinstance(kernels, tuple) else (kernels,)


def common_problems(spec, out_channels):
    """The rules every kind shares: width, stride, activation, kernels.

    A field that is None is not known yet (a layer that takes its width
    from its input) and is not checked.
    """
    filters = getattr(spec, "filters", out_channels)
    if filters is not None and not positive(filters):
        yield f"filters must be >= 1, got {filters}"
    strides = getattr(spec, "strides", 1)
    if strides not in (1, 2):
        yield f"strides must be 1 or 2, got {strides}"
    activation = getattr(spec, "activation", "linear")
    if activation not in ACTIVATION_NAMES:
        yield f"unknown activation {activation!r}"
    kernels = kernel_sizes(spec)
    if not (len(kernels) > 0 and all(positive(k) and k % 2 for k in kernels)):
        yield f"kernel sizes must be odd positive ints, got {kernels}"


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def field_type_problems(kind, values):
    """Type errors in `values` (field name → value) by the kind's keys:
    whole numbers, numbers, lists of whole numbers, activation names and
    flags. Rules about the values are `Kind.problems`'."""
    for key in kind.keys:
        if key.field not in values or values[key.field] is None:
            continue
        value = values[key.field]
        if key.codec in ("int", "groups"):
            ok = isinstance(value, int) and not isinstance(value, bool)
            wanted = "an int"
        elif key.codec in ("float",):
            ok = _is_number(value)
            wanted = "a number"
        elif key.codec == "int_list":
            ok = (
                isinstance(value, tuple)
                and len(value) > 0
                and all(
                    isinstance(v, int) and not isinstance(v, bool)
                    for v in value
                )
            )
            wanted = "an int or a list of ints"
        elif key.codec == "activation":
            ok = isinstance(value, str)
            wanted = "an activation name"
        elif key.codec in ("flag", "noflag"):
            ok = isinstance(value, bool)
            wanted = "a bool"
        else:
            continue
        if not ok:
            yield key.field, f"`{key.field}` must be {wanted}"


def split_channels(total, groups):
    """Splits channels among groups; the remainder goes to the first group.

    This is MixNet's `_split_channels` (tensorflow/tpu mixnet/custom_layers.py;
    identical in timm `mixed_conv2d.py`).

    Example:

    >>> tfeff.spec.split_channels(10, 3)
    (4, 3, 3)
    """
    split = [total // groups] * groups
    split[0] += total - sum(split)
    return tuple(split)


# --- cost --------------------------------------------------------------------


def same_size(hw, strides):
    """Output size of a strided layer: "same" padding (and the symmetric
    padding of odd kernels) give `ceil(size / strides)`."""
    return (math.ceil(hw[0] / strides), math.ceil(hw[1] / strides))


class Counter:
    """Accumulates the parameters and MACs of the layers one block emits.

    `padding` is the network's ("same" or "symmetric"): on a map smaller
    than a large depthwise kernel, the builder leaves out the pieces of
    the kernel that read only padding, which depends on it
    (`tfeff.spec.depthwise`)."""

    def __init__(self, padding="same"):
        self.params = 0
        self.macs = 0
        self.padding = padding

    def conv(self, cin, cout, kernel, out_hw, *, groups=1, bias=False):
        # Groups may be uneven (MixNet's split), so sum per group.
        for gin, gout in zip(
            split_channels(cin, groups), split_channels(cout, groups)
        ):
            self.params += kernel * kernel * gin * gout + (gout if bias else 0)
            self.macs += kernel * kernel * gin * gout * out_hw[0] * out_hw[1]

    def depthwise(self, channels, kernels, out_hw, *, in_hw=None, strides=1):
        kernels = kernels if isinstance(kernels, tuple) else (kernels,)
        for k, c in zip(kernels, split_channels(channels, len(kernels))):
            taps = k * k
            if in_hw is not None:
                taps = depthwise_taps(k, in_hw, strides, self.padding)
            self.params += taps * c
            self.macs += taps * c * out_hw[0] * out_hw[1]

    def bn(self, channels):
        self.params += 2 * channels

    def act(self, channels, activation):
        if activation == "prelu":
            self.params += channels

    def dense(self, cin, cout, groups=1, bias=True):
        for gin, gout in zip(
            split_channels(cin, groups), split_channels(cout, groups)
        ):
            self.params += gin * gout + (gout if bias else 0)
            self.macs += gin * gout

    def se(self, channels, reduced):
        self.conv(channels, reduced, 1, (1, 1), bias=True)
        self.conv(reduced, channels, 1, (1, 1), bias=True)

    def cbr_1x1(self, cin, cout, hw, activation):
        """A 1x1 conv, batch norm and activation (the references' CBR)."""
        self.conv(cin, cout, 1, hw)
        self.bn(cout)
        self.act(cout, activation)
