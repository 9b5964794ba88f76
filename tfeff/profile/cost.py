"""`estimate_cost`: parameters, MACs and activation memory, in pure Python.

Counting convention (the papers' "FLOPs"): multiply-adds of convolutions and
dense layers, `k_h * k_w * (C_in / groups) * C_out * H_out * W_out`; batch
norm, activations, pooling, adds and SE's multiply are not counted (they fold
into neighbours or are element-wise). Parameters are trainable parameters:
conv/dense kernels and biases, batch-norm gamma and beta, PReLU slopes.
"""

import dataclasses
import math

from tfeff.spec.depthwise import depthwise_taps
from tfeff.spec.notation import ArchSpec
from tfeff.spec.notation import ConvBnActSpec
from tfeff.spec.notation import EESPSpec
from tfeff.spec.notation import ESPStageSpec
from tfeff.spec.notation import GhostBottleneckSpec
from tfeff.spec.notation import IGCV3Spec
from tfeff.spec.notation import ImageConcatSpec
from tfeff.spec.notation import MaxPoolSpec
from tfeff.spec.notation import MBConvSpec
from tfeff.spec.notation import ShuffleDICESpec
from tfeff.spec.notation import ShuffleUnitSpec
from tfeff.spec.notation import StridedDICESpec
from tfeff.spec.notation import StridedEESPSpec
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import block_kind
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import ESP_DILATIONS
from tfeff.spec.structure import eesp_branch_filters
from tfeff.spec.structure import eesp_dilations
from tfeff.spec.structure import eespdown_inner_filters
from tfeff.spec.structure import esp_branch_filters
from tfeff.spec.structure import expand_blocks
from tfeff.spec.structure import ghost_primary_filters
from tfeff.spec.structure import ghost_se_filters
from tfeff.spec.structure import mbconv_expanded_filters
from tfeff.spec.structure import mbconv_se_filters
from tfeff.spec.structure import output_channels
from tfeff.spec.structure import shuffle_dice_split
from tfeff.spec.structure import split_channels
from tfeff.spec.validate import check_input_size
from tfeff.spec.validate import validate_arch

BYTES_PER_VALUE = 4  # float32 activations.


@dataclasses.dataclass(frozen=True)
class CostRow:
    """Cost of one block: name, kind, shapes `(h, w, c)`, params, MACs."""

    name: str
    kind: str
    input_shape: tuple
    output_shape: tuple
    params: int
    macs: int


@dataclasses.dataclass(frozen=True)
class CostReport:
    """What a network costs at one input size.

    Attributes:
        arch: str. The arch string costed.
        input_size: tuple `(height, width)`.
        num_classes: int or None. Classifier width, if costed.
        params: int. Trainable parameters, exact.
        macs: int. Multiply-adds at batch 1.
        activation_bytes: int. float32 bytes of all block outputs.
        peak_activation_bytes: int. Largest input + output of one block.
        rows: tuple of CostRow.
    """

    arch: str
    input_size: tuple
    num_classes: object
    params: int
    macs: int
    activation_bytes: int
    peak_activation_bytes: int
    rows: tuple

    def table(self):
        """The per-block table and totals, as text."""
        header = f"{'block':<18} {'kind':<10} {'output':>16} {'params':>12} {'MACs':>14}"
        lines = [header, "-" * len(header)]
        for row in self.rows:
            shape = "x".join(str(d) for d in row.output_shape)
            lines.append(
                f"{row.name:<18} {row.kind:<10} {shape:>16} "
                f"{row.params:>12,} {row.macs:>14,}"
            )
        lines.append("-" * len(header))
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self):
        h, w = self.input_size
        return (
            f"input {h}x{w}: params {self.params:,} ({self.params / 1e6:.2f}M), "
            f"MACs (multiply-adds) {self.macs:,} ({self.macs / 1e9:.3f} G), "
            f"activations {self.activation_bytes / 2**20:.1f} MiB "
            f"(peak block {self.peak_activation_bytes / 2**20:.1f} MiB)"
        )

    def to_dict(self):
        return dataclasses.asdict(self)

    def __str__(self):
        return self.table()


class _Counter:
    """Accumulates params and MACs of the layers one block emits.

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


def _out(hw, strides):
    # "same" padding (and the EESP's symmetric padding) give ceil(size / s).
    return (math.ceil(hw[0] / strides), math.ceil(hw[1] / strides))


def _cost_convbnact(c, s, cin, hw):
    out = _out(hw, s.strides)
    if s.depthwise:
        c.depthwise(cin, s.kernel_size, out, in_hw=hw, strides=s.strides)
    else:
        c.conv(cin, s.filters, s.kernel_size, out, groups=s.groups)
    c.bn(s.filters)
    c.act(s.filters, s.activation)
    return out


def _cost_mbconv(c, s, cin, hw):
    mid = mbconv_expanded_filters(cin, s.expand_ratio)
    if s.expand_ratio != 1:
        c.conv(cin, mid, 1, hw, groups=s.expand_groups)
        c.bn(mid)
        c.act(mid, s.activation)
    out = _out(hw, s.strides)
    c.depthwise(mid, s.kernel_size, out, in_hw=hw, strides=s.strides)
    c.bn(mid)
    c.act(mid, s.activation)
    if s.se_ratio > 0:
        c.se(mid, mbconv_se_filters(cin, s.se_ratio))
    c.conv(mid, s.filters, 1, out, groups=s.project_groups)
    c.bn(s.filters)
    return out


def _cost_ghost_module(c, cin, filters, hw, activation):
    primary = ghost_primary_filters(filters)
    c.conv(cin, primary, 1, hw)
    c.bn(primary)
    c.act(primary, activation)
    c.depthwise(primary, 3, hw)
    c.bn(primary)
    c.act(primary, activation)


def _cost_ghost(c, s, cin, hw):
    _cost_ghost_module(c, cin, s.mid_filters, hw, s.activation)
    out = _out(hw, s.strides)
    if s.strides > 1:
        c.depthwise(
            s.mid_filters, s.kernel_size, out, in_hw=hw, strides=s.strides
        )
        c.bn(s.mid_filters)
    if s.se_ratio > 0:
        c.se(s.mid_filters, ghost_se_filters(s.mid_filters, s.se_ratio))
    _cost_ghost_module(c, s.mid_filters, s.filters, out, "linear")
    if not (s.strides == 1 and cin == s.filters):
        c.depthwise(cin, s.kernel_size, out, in_hw=hw, strides=s.strides)
        c.bn(cin)
        c.conv(cin, s.filters, 1, out)
        c.bn(s.filters)
    return out


def _cost_eesp_core(
    c, cin, filters, hw, strides, branches, receptive_field, activation
):
    width = eesp_branch_filters(filters, branches)
    c.conv(cin, width, 1, hw, groups=branches)
    c.bn(width)
    c.act(width, activation)
    out = _out(hw, strides)
    for _ in eesp_dilations(branches, receptive_field):
        c.depthwise(width, 3, out)
    c.bn(filters)
    c.act(filters, activation)
    c.conv(filters, filters, 1, out, groups=branches)
    c.bn(filters)
    return out


def _cost_eesp(c, s, cin, hw):
    out = _cost_eesp_core(
        c, cin, s.filters, hw, 1, s.branches, s.receptive_field, s.activation
    )
    c.act(s.filters, s.activation)
    return out


def _cost_eespdown(c, s, cin, hw, image_channels):
    inner = eespdown_inner_filters(cin, s.filters)
    out = _cost_eesp_core(
        c, cin, inner, hw, 2, s.branches, s.receptive_field, s.activation
    )
    if s.reinforce:
        c.conv(image_channels, image_channels, 3, out)
        c.bn(image_channels)
        c.act(image_channels, s.activation)
        c.conv(image_channels, s.filters, 1, out)
        c.bn(s.filters)
    c.act(s.filters, s.activation)
    return out


def _cost_shuffle(c, s, cin, hw):
    out = _out(hw, s.strides)
    mid = s.filters // 2
    if s.strides == 1:
        branch_in = cin // 2
        branch_out = s.filters - (cin - branch_in)
    else:  # torchvision's strided unit: both branches make filters // 2.
        branch_in, branch_out = cin, s.filters - mid
        c.depthwise(cin, s.kernel_size, out, in_hw=hw, strides=s.strides)
        c.bn(cin)
        c.conv(cin, mid, 1, out)
        c.bn(mid)
        c.act(mid, s.activation)
    c.conv(branch_in, mid, 1, hw)
    c.bn(mid)
    c.act(mid, s.activation)
    c.depthwise(mid, s.kernel_size, out, in_hw=hw, strides=s.strides)
    c.bn(mid)
    c.conv(mid, branch_out, 1, out)
    c.bn(branch_out)
    c.act(branch_out, s.activation)
    return out


def _cost_igcv3(c, s, cin, hw):
    mid = mbconv_expanded_filters(cin, s.expand_ratio)
    c.conv(cin, mid, 1, hw, groups=s.groups)
    c.bn(mid)
    out = _out(hw, s.strides)
    c.depthwise(mid, s.kernel_size, out, in_hw=hw, strides=s.strides)
    c.bn(mid)
    c.conv(mid, s.filters, 1, out, groups=s.groups)
    c.bn(s.filters)
    return out


def _cost_esp_module(c, cin, filters, hw, strides, activation):
    wide, narrow = esp_branch_filters(filters)
    out = _out(hw, strides)
    c.conv(cin, narrow, 1 if strides == 1 else 3, out)
    c.conv(narrow, wide, 3, out)
    for _ in ESP_DILATIONS[1:]:
        c.conv(narrow, narrow, 3, out)
    c.bn(filters)
    c.act(filters, activation)
    return out


def _cost_espstage(c, s, cin, hw, image_channels):
    out = _cost_esp_module(c, cin, s.filters, hw, 2, s.activation)
    for _ in range(s.repeats):
        _cost_esp_module(c, s.filters, s.filters, out, 1, s.activation)
    width = output_channels(s, cin, image_channels)
    c.bn(width)
    c.act(width, s.activation)
    return out


def _cost_dice_unit(c, channels, hw, activation):
    height, width = hw
    c.depthwise(channels, 3, hw)
    # Height- and width-wise convs: H (resp. W) channels over C x W
    # (resp. H x C) positions, 3x3 kernels.
    c.params += 9 * height + 9 * width
    c.macs += 2 * 9 * height * width * channels
    for _ in range(3):
        c.bn(channels)
        c.act(channels, activation)
        c.depthwise(channels, 1, hw)
    c.bn(channels)
    c.act(channels, activation)
    c.conv(channels, channels // 4, 1, (1, 1))
    c.conv(channels // 4, channels, 1, (1, 1))
    c.depthwise(channels, 3, hw)
    c.bn(channels)
    c.act(channels, activation)


def _cost_cbr_1x1(c, cin, cout, hw, activation):
    c.conv(cin, cout, 1, hw)
    c.bn(cout)
    c.act(cout, activation)


def _cost_dicedown(c, s, cin, hw):
    out = _out(hw, 2)
    c.depthwise(cin, 3, out)
    c.bn(cin)
    c.act(cin, s.activation)
    _cost_cbr_1x1(c, cin, cin, out, s.activation)
    _cost_dice_unit(c, cin, out, s.activation)
    _cost_cbr_1x1(c, cin, cin, out, s.activation)
    return out


def _cost_shuffle_dice(c, s, cin, hw):
    _, right_in, right_out = shuffle_dice_split(cin, s.filters)
    _cost_cbr_1x1(c, right_in, right_out, hw, s.activation)
    _cost_dice_unit(c, right_out, hw, s.activation)
    return hw


def _block_cost(spec, cin, hw, image_channels, padding="same"):
    counter = _Counter(padding)
    if isinstance(spec, ConvBnActSpec):
        out = _cost_convbnact(counter, spec, cin, hw)
    elif isinstance(spec, MBConvSpec):
        out = _cost_mbconv(counter, spec, cin, hw)
    elif isinstance(spec, GhostBottleneckSpec):
        out = _cost_ghost(counter, spec, cin, hw)
    elif isinstance(spec, EESPSpec):
        out = _cost_eesp(counter, spec, cin, hw)
    elif isinstance(spec, StridedEESPSpec):
        out = _cost_eespdown(counter, spec, cin, hw, image_channels)
    elif isinstance(spec, MaxPoolSpec):
        out = _out(hw, spec.strides)
    elif isinstance(spec, ShuffleUnitSpec):
        out = _cost_shuffle(counter, spec, cin, hw)
    elif isinstance(spec, IGCV3Spec):
        out = _cost_igcv3(counter, spec, cin, hw)
    elif isinstance(spec, ImageConcatSpec):
        out = hw
        counter.bn(cin + image_channels)
        counter.act(cin + image_channels, spec.activation)
    elif isinstance(spec, ESPStageSpec):
        out = _cost_espstage(counter, spec, cin, hw, image_channels)
    elif isinstance(spec, StridedDICESpec):
        out = _cost_dicedown(counter, spec, cin, hw)
    elif isinstance(spec, ShuffleDICESpec):
        out = _cost_shuffle_dice(counter, spec, cin, hw)
    else:
        block_kind(spec)  # Raises TypeError for a non-spec.
        raise NotImplementedError(f"No cost model for {type(spec).__name__}")
    return counter, out


def _resolve(arch, input_size, num_classes):
    """Variant name → (spec, default size, default classes); else passthrough."""
    # An arch string always starts with a stem token; any other string
    # names a registered variant.
    if isinstance(arch, str) and not arch.lstrip().startswith("stem"):
        from tfeff.models.registry import get_variant

        variant = get_variant(arch)
        spec = variant.resolved_arch()
        if input_size is None:
            input_size = variant.resolution
        if num_classes == "auto":
            num_classes = variant.num_classes
        return spec, input_size, num_classes
    if not isinstance(arch, (str, ArchSpec)):
        raise TypeError(
            "`arch` must be an ArchSpec, an arch string or a variant name. "
            f"Received: arch={arch!r}"
        )
    return (
        as_arch_spec(arch),
        input_size,
        None if num_classes == "auto" else num_classes,
    )


def estimate_cost(arch, input_size=None, *, num_classes="auto", in_channels=3):
    """Costs an architecture without building it.

    Args:
        arch: ArchSpec, arch string, or registered variant name.
        input_size: int or `(height, width)`. Defaults to the variant's
            resolution, or 224 for a spec.
        num_classes: int or None. Cost a classifier (global pool + dense) of
            this width; None costs the backbone alone. Defaults to the
            variant's classes for a variant name, None for a spec.
        in_channels: int. Image channels. Defaults to `3`.

    Returns:
        CostReport.

    Example:

    >>> report = tfeff.estimate_cost("efficientnet_b0")
    >>> report.params, round(report.macs / 1e9, 3)
    (5288548, 0.386)
    """
    spec, input_size, num_classes = _resolve(arch, input_size, num_classes)
    if input_size is None:
        input_size = 224
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        input_size = (input_size, input_size)
    if (
        not isinstance(input_size, (tuple, list))
        or len(input_size) != 2
        or not all(isinstance(d, int) and d > 0 for d in input_size)
    ):
        raise ValueError(
            "`input_size` must be a positive int or (height, width). "
            f"Received: input_size={input_size!r}"
        )
    if num_classes is not None and (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, int)
        or num_classes < 1
    ):
        raise ValueError(
            "`num_classes` must be a positive int or None (the backbone "
            f"alone). Received: num_classes={num_classes!r}"
        )
    # What the builder would refuse is refused here, with its words: the
    # cost of a network that cannot be built is not a number to search on.
    spec = validate_arch(spec, in_channels=in_channels)
    check_input_size(spec, tuple(input_size) + (in_channels,))
    hw = tuple(input_size)
    rows = []
    params = macs = 0
    activation_bytes = peak = 0
    for inst in expand_blocks(spec, in_channels):
        counter, out = _block_cost(
            inst.spec, inst.in_channels, hw, in_channels, spec.numerics.padding
        )
        in_bytes = hw[0] * hw[1] * inst.in_channels * BYTES_PER_VALUE
        out_bytes = out[0] * out[1] * inst.out_channels * BYTES_PER_VALUE
        kind = (
            "convbnact"
            if isinstance(inst.spec, ConvBnActSpec)
            else block_kind(inst.spec)
        )
        rows.append(
            CostRow(
                inst.name,
                kind,
                (hw[0], hw[1], inst.in_channels),
                (out[0], out[1], inst.out_channels),
                counter.params,
                counter.macs,
            )
        )
        params += counter.params
        macs += counter.macs
        activation_bytes += out_bytes
        peak = max(peak, in_bytes + out_bytes)
        hw = out
    if num_classes is not None:
        # Global pooling, the `fc` top layers, then the classifier.
        features = rows[-1].output_shape[-1]
        layers = [
            ("top" if i == 1 else f"top{i}", d.filters, d.groups, d.use_bias)
            for i, d in enumerate(spec.top, start=1)
        ]
        layers.append(("predictions", num_classes, 1, True))
        for name, units, groups, bias in layers:
            counter = _Counter()
            counter.dense(features, units, groups, bias)
            rows.append(
                CostRow(
                    name,
                    "dense",
                    (1, 1, features),
                    (1, 1, units),
                    counter.params,
                    counter.macs,
                )
            )
            params += counter.params
            macs += counter.macs
            features = units
    return CostReport(
        arch=encode_arch(spec),
        input_size=tuple(input_size),
        num_classes=num_classes,
        params=params,
        macs=macs,
        activation_bytes=activation_bytes,
        peak_activation_bytes=peak,
        rows=tuple(rows),
    )
