"""Structural checks of an ArchSpec, before anything is built."""

from tfeff.spec.notation import ACTIVATION_NAMES
from tfeff.spec.notation import ConvBnActSpec
from tfeff.spec.notation import DenseSpec
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
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import eespdown_inner_filters
from tfeff.spec.structure import expand_blocks
from tfeff.spec.structure import mbconv_expanded_filters
from tfeff.spec.structure import shuffle_dice_split


def _check(condition, block, message, arch_string):
    if not condition:
        raise ValueError(
            f"Invalid block {block.name} ({type(block.spec).__name__}): "
            f"{message}. Arch string: {arch_string!r}"
        )


def _positive(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def validate_arch(spec, *, in_channels=3):
    """Checks that an architecture can be built; returns it unchanged.

    Args:
        spec: ArchSpec or arch string.
        in_channels: int. Image channels. Defaults to `3`.

    Returns:
        ArchSpec.

    Raises:
        ValueError: naming the block, the rule it breaks and the arch string.

    Example:

    >>> tfeff.spec.validate_arch("stem_k3_s2_c32 | mbconv_r1_k3_s3_e6_c16")
    Traceback (most recent call last):
    ...
    ValueError: Invalid block stage1_block1 (MBConvSpec): strides must be 1 or 2, got 3. Arch string: 'stem_k3_s2_c32 | mbconv_r1_k3_s3_e6_c16'
    """
    spec = as_arch_spec(spec)
    arch_string = encode_arch(spec)
    if not _positive(in_channels):
        raise ValueError(
            f"`in_channels` must be a positive int. Received: "
            f"in_channels={in_channels!r}"
        )
    for stage, block in enumerate(spec.blocks, start=1):
        repeats = getattr(block, "repeats", 1)
        if not _positive(repeats):
            raise ValueError(
                f"Invalid stage stage{stage} ({type(block).__name__}): repeats "
                f"must be >= 1, got {repeats}. Arch string: {arch_string!r}"
            )
    for block in expand_blocks(spec, in_channels):
        s = block.spec

        def check(condition, message):
            _check(condition, block, message, arch_string)

        filters = getattr(s, "filters", block.out_channels)
        check(_positive(filters), f"filters must be >= 1, got {filters}")
        check(s.strides in (1, 2), f"strides must be 1 or 2, got {s.strides}")
        activation = getattr(s, "activation", "linear")
        check(
            activation in ACTIVATION_NAMES,
            f"unknown activation {activation!r}",
        )
        kernels = getattr(s, "kernel_size", 3)
        kernels = kernels if isinstance(kernels, tuple) else (kernels,)
        check(
            len(kernels) > 0 and all(_positive(k) and k % 2 for k in kernels),
            f"kernel sizes must be odd positive ints, got {kernels}",
        )
        if isinstance(s, ConvBnActSpec):
            if s.depthwise:
                check(
                    s.filters == block.in_channels,
                    f"a depthwise conv keeps its width: filters={s.filters} "
                    f"but the input has {block.in_channels} channels",
                )
            check(_positive(s.groups), f"groups must be >= 1, got {s.groups}")
            check(
                block.in_channels % s.groups == 0 and s.filters % s.groups == 0,
                f"groups={s.groups} must divide the input "
                f"({block.in_channels}) and output ({s.filters}) channels",
            )
        elif isinstance(s, MBConvSpec):
            check(
                s.expand_ratio >= 1,
                f"expand_ratio must be >= 1, got {s.expand_ratio}",
            )
            check(
                0 <= s.se_ratio <= 1,
                f"se_ratio must be in [0, 1], got {s.se_ratio}",
            )
            mid = mbconv_expanded_filters(block.in_channels, s.expand_ratio)
            check(
                len(kernels) <= mid,
                f"{len(kernels)} kernel sizes for {mid} channels",
            )
            for field, groups in (
                ("expand_groups", s.expand_groups),
                ("project_groups", s.project_groups),
            ):
                check(
                    _positive(groups) and groups <= min(mid, s.filters),
                    f"{field}={groups} is more than the channels",
                )
        elif isinstance(s, ShuffleUnitSpec):
            check(s.filters % 2 == 0, f"filters must be even, got {s.filters}")
            if s.strides == 1:
                check(
                    s.filters == block.in_channels,
                    "a stride-1 shuffle unit keeps its width: "
                    f"filters={s.filters}, input {block.in_channels}",
                )
        elif isinstance(s, IGCV3Spec):
            mid = mbconv_expanded_filters(block.in_channels, s.expand_ratio)
            check(
                _positive(s.groups)
                and block.in_channels % s.groups == 0
                and mid % s.groups == 0
                and s.filters % s.groups == 0,
                f"groups={s.groups} must divide the input ({block.in_channels}),"
                f" expanded ({mid}) and output ({s.filters}) channels",
            )
        elif isinstance(s, (MaxPoolSpec, ImageConcatSpec, StridedDICESpec)):
            pass
        elif isinstance(s, ShuffleDICESpec):
            left, _, branch_out = shuffle_dice_split(
                block.in_channels, s.filters
            )
            check(
                branch_out >= 4,
                f"a shuffle-DICE block passes {left} of its {block.in_channels}"
                f" input channels, so filters={s.filters} leaves too few for "
                "its DICE branch",
            )
        elif isinstance(s, ESPStageSpec):
            check(
                s.filters >= 5,
                f"an ESP module needs filters >= 5, got {s.filters}",
            )
        elif isinstance(s, GhostBottleneckSpec):
            check(_positive(s.mid_filters), "mid_filters must be >= 1")
            check(
                0 <= s.se_ratio <= 1,
                f"se_ratio must be in [0, 1], got {s.se_ratio}",
            )
        elif isinstance(s, (EESPSpec, StridedEESPSpec)):
            inner = s.filters
            if isinstance(s, StridedEESPSpec):
                inner = eespdown_inner_filters(block.in_channels, s.filters)
                check(
                    inner > 0,
                    f"a strided EESP widens its input: filters={s.filters} "
                    f"<= input channels {block.in_channels}",
                )
            else:
                check(
                    s.filters == block.in_channels,
                    f"an EESP block keeps its width (its residual adds the "
                    f"input): filters={s.filters}, input {block.in_channels}",
                )
            check(_positive(s.branches), "branches must be >= 1")
            check(
                inner % s.branches == 0 and block.in_channels % s.branches == 0,
                f"branches={s.branches} must divide the input "
                f"({block.in_channels}) and EESP output ({inner}) channels",
            )
            # The reduce 1x1 is grouped by `branches` (the reference's
            # CBR(nIn, n, 1, groups=k) with n = nOut / k), so each branch's
            # width must split into `branches` groups as well.
            check(
                _positive(s.branches)
                and (inner // s.branches) % s.branches == 0,
                f"branches={s.branches} must divide the branch width "
                f"{inner // max(s.branches, 1)} (the grouped reduce conv)",
            )
            check(
                _positive(s.receptive_field) and s.receptive_field >= 3,
                f"receptive_field must be >= 3, got {s.receptive_field}",
            )
    for index, dense in enumerate(spec.top, start=1):
        if not isinstance(dense, DenseSpec) or not _positive(dense.filters):
            raise ValueError(
                f"Invalid top layer {index}: {dense!r}. Arch string: "
                f"{arch_string!r}"
            )
    return spec


def check_input_size(spec, input_shape):
    """Refuses an input smaller than the network's total stride.

    The builder and the cost model share this rule, so a size one refuses
    the other refuses too.

    Args:
        spec: ArchSpec.
        input_shape: `(height, width, channels)`; height and width may be
            None (any size).

    Raises:
        ValueError: naming the size, the total stride and `input_shape`.
    """
    total_stride = expand_blocks(spec, input_shape[-1])[-1].stride
    for size in input_shape[:2]:
        if size is not None and size < total_stride:
            raise ValueError(
                f"Input size {tuple(input_shape[:2])} is smaller than the "
                f"network's total stride {total_stride}. Received: "
                f"input_shape={tuple(input_shape)}"
            )
