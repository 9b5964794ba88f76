"""Structural checks of an ArchSpec, before anything is built."""

from tfeff.spec.kinds import DenseSpec
from tfeff.spec.kinds import kind_of
from tfeff.spec.kinds.base import common_problems
from tfeff.spec.kinds.base import positive
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import expand_blocks


def block_problems(spec, in_channels):
    """What is wrong with one block spec on an input of `in_channels`
    channels: the rules every kind shares, then its kind's own, in order.

    The single source of the block rules: `validate_arch` and the public
    layers (`tfeff.layers`) both read it.

    Args:
        spec: a block spec.
        in_channels: int, or None for the rules that do not read the
            input's width (a layer checks those when it is made).

    Returns:
        iterator of str, empty when the block can be built.
    """
    kind = kind_of(spec)
    yield from common_problems(spec, kind.width(spec, in_channels))
    yield from kind.problems(spec, in_channels)


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
    if not positive(in_channels):
        raise ValueError(
            f"`in_channels` must be a positive int. Received: "
            f"in_channels={in_channels!r}"
        )
    for stage, block in enumerate(spec.blocks, start=1):
        repeats = getattr(block, "repeats", 1)
        if not positive(repeats):
            raise ValueError(
                f"Invalid stage stage{stage} ({type(block).__name__}): repeats "
                f"must be >= 1, got {repeats}. Arch string: {arch_string!r}"
            )
    for block in expand_blocks(spec, in_channels):
        problem = next(block_problems(block.spec, block.in_channels), None)
        if problem is not None:
            raise ValueError(
                f"Invalid block {block.name} ({type(block.spec).__name__}): "
                f"{problem}. Arch string: {arch_string!r}"
            )
    for index, dense in enumerate(spec.top, start=1):
        if not isinstance(dense, DenseSpec) or not positive(dense.filters):
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
