"""Spec-to-spec transforms."""

import dataclasses

from tfeff.spec.notation import as_arch_spec
from tfeff.spec.scaling import CompoundScaling

# Activations the EdgeTPU and int8 kernels run well; others become relu6.
_EDGE_ACTIVATIONS = ("relu", "relu6", "linear")


def _edge_block(block):
    changes = {}
    if getattr(block, "activation", "relu6") not in _EDGE_ACTIVATIONS:
        # Relu6 is for easier quantization: its range is fixed (tpu lite).
        changes["activation"] = "relu6"
    if getattr(block, "se_ratio", 0) > 0:
        # SE's global pool + multiply quantize poorly and are slow on EdgeTPU.
        changes["se_ratio"] = 0.0
    return dataclasses.replace(block, **changes) if changes else block


def make_edge_friendly(arch):
    """Applies the EfficientNet-Lite rules for int8 and EdgeTPU deployment.

    Given an architecture, swaps swish/hard-swish/PReLU for ReLU6 and removes
    squeeze-excite everywhere. Given a `CompoundScaling`, returns the Lite
    scaling rule: stem and head widths and the first and last stage repeats
    are not scaled (`fix_head_stem` in tensorflow/tpu lite builder). The two
    halves are separate because widths are fixed when scaling, while
    activations and SE are properties of the blocks.

    Args:
        arch: ArchSpec, arch string, or CompoundScaling.

    Returns:
        ArchSpec (for an architecture) or CompoundScaling.

    Example:

    >>> spec = tfeff.spec.make_edge_friendly(
    ...     "stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16_se0.25")
    >>> tfeff.encode_arch(spec)
    'stem_k3_s2_c32_nr6 | mbconv_r1_k3_s1_e1_c16_nr6'
    """
    if isinstance(arch, CompoundScaling):
        return dataclasses.replace(
            arch, scale_stem=False, scale_head=False, fixed_end_repeats=True
        )
    spec = as_arch_spec(arch)
    return dataclasses.replace(
        spec,
        stem=_edge_block(spec.stem),
        blocks=tuple(_edge_block(b) for b in spec.blocks),
        head=tuple(_edge_block(h) for h in spec.head),
    )


__all__ = ["make_edge_friendly"]
