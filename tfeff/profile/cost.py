"""`estimate_cost`: parameters, MACs and activation memory, in pure Python.

Counting convention (the papers' "FLOPs"): multiply-adds of convolutions and
dense layers, `k_h * k_w * (C_in / groups) * C_out * H_out * W_out`; batch
norm, activations, pooling, adds and SE's multiply are not counted (they fold
into neighbours or are element-wise). Parameters are trainable parameters:
conv/dense kernels and biases, batch-norm gamma and beta, PReLU slopes.
"""

import dataclasses

from tfeff.models.registry import as_variant
from tfeff.spec.kinds import Counter
from tfeff.spec.kinds import DenseSpec
from tfeff.spec.kinds import kind_of
from tfeff.spec.notation import ArchSpec
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import expand_blocks
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


def block_cost(spec, in_channels, hw, image_channels=3, padding="same"):
    """Parameters and MACs of one block, by its kind's cost.

    Returns:
        (Counter, output `(height, width)`).
    """
    counter = Counter(padding)
    out = kind_of(spec).cost(counter, spec, in_channels, hw, image_channels)
    return counter, out


def _resolve(arch, input_size, num_classes):
    """Variant → (spec, default size, default classes); else passthrough."""
    variant = as_variant(arch)
    if variant is not None:
        if input_size is None:
            input_size = variant.resolution
        if num_classes == "auto":
            num_classes = variant.num_classes
        return variant.resolved_arch(), input_size, num_classes
    if not isinstance(arch, (str, ArchSpec)):
        raise TypeError(
            "`arch` must be an ArchSpec, an arch string, a Variant or a "
            f"variant name. Received: arch={arch!r}"
        )
    return (
        as_arch_spec(arch),
        input_size,
        None if num_classes == "auto" else num_classes,
    )


def estimate_cost(arch, input_size=None, *, num_classes="auto", in_channels=3):
    """Costs an architecture without building it.

    Args:
        arch: ArchSpec, arch string, `Variant` or registered variant name.
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
        counter, out = block_cost(
            inst.spec, inst.in_channels, hw, in_channels, spec.numerics.padding
        )
        in_bytes = hw[0] * hw[1] * inst.in_channels * BYTES_PER_VALUE
        out_bytes = out[0] * out[1] * inst.out_channels * BYTES_PER_VALUE
        kind = kind_of(inst.spec).name
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
            ("top" if i == 1 else f"top{i}", dense)
            for i, dense in enumerate(spec.top, start=1)
        ]
        layers.append(("predictions", DenseSpec(filters=num_classes)))
        for name, dense in layers:
            counter, _ = block_cost(dense, features, (1, 1))
            units = dense.filters
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
