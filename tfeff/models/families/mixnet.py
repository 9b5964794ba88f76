"""MixNet S, M and L.

Paper: Tan & Le, "MixConv: Mixed Depthwise Convolutional Kernels",
https://arxiv.org/abs/1907.09595.
Reference implementation: tensorflow/tpu models/official/mnasnet/mixnet/
mixnet_builder.py (@ 7dc921f8); timm `_gen_mixnet_s`, `_gen_mixnet_m`.
Figures: ../shared/reference/architectures.md §3.

Deviations from reference: none in structure. The TF strings
(`r1_k3.5.7_a1.1_p1.1_s22_e6_i24_o40_se0.5_sw`) are written in tfeff's
notation: `a`/`p` keep their meaning, `sw` is `nsw`, and the ReLU blocks say
`nre` because tfeff's MBConv defaults to swish. MixNet-L is MixNet-M with
filters x1.3 ("depth_multiplier" in the TF code is a width multiplier), the
head's 1536 unscaled.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.scaling import CompoundScaling

MIXNET_S_ARCH = (
    "stem_k3_s2_c16_nre"
    " | mbconv_r1_k3_s1_e1_c16_nre"
    " | mbconv_r1_k3_a1.1_p1.1_s2_e6_c24_nre"
    " | mbconv_r1_k3_a1.1_p1.1_s1_e3_c24_nre"
    " | mbconv_r1_k3.5.7_s2_e6_c40_se0.5_nsw"
    " | mbconv_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"
    " | mbconv_r1_k3.5.7_p1.1_s2_e6_c80_se0.25_nsw"
    " | mbconv_r2_k3.5_p1.1_s1_e6_c80_se0.25_nsw"
    " | mbconv_r1_k3.5.7_a1.1_p1.1_s1_e6_c120_se0.5_nsw"
    " | mbconv_r2_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"
    " | mbconv_r1_k3.5.7.9.11_s2_e6_c200_se0.5_nsw"
    " | mbconv_r2_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"
    " | head_k1_c1536_nre"
)
MIXNET_M_ARCH = (
    "stem_k3_s2_c24_nre"
    " | mbconv_r1_k3_s1_e1_c24_nre"
    " | mbconv_r1_k3.5.7_a1.1_p1.1_s2_e6_c32_nre"
    " | mbconv_r1_k3_a1.1_p1.1_s1_e3_c32_nre"
    " | mbconv_r1_k3.5.7.9_s2_e6_c40_se0.5_nsw"
    " | mbconv_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"
    " | mbconv_r1_k3.5.7_s2_e6_c80_se0.25_nsw"
    " | mbconv_r3_k3.5.7.9_a1.1_p1.1_s1_e6_c80_se0.25_nsw"
    " | mbconv_r1_k3_s1_e6_c120_se0.5_nsw"
    " | mbconv_r3_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"
    " | mbconv_r1_k3.5.7.9_s2_e6_c200_se0.5_nsw"
    " | mbconv_r3_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"
    " | head_k1_c1536_nre"
)
# (arch, channel multiplier, dropout, published params M, MACs M, top-1):
# architectures.md §3.4 (paper figures are secondary there; S's 256M was
# not found in any source the reference read).
MIXNET_VARIANTS = {
    "s": (MIXNET_S_ARCH, 1.0, 0.2, 4.1, 256, 75.8),
    "m": (MIXNET_M_ARCH, 1.0, 0.25, 5.0, 360, 77.0),
    "l": (MIXNET_M_ARCH, 1.3, 0.25, 7.3, 565, 78.9),
}

for _size, (
    _arch,
    _width,
    _dropout,
    _params,
    _macs,
    _top1,
) in MIXNET_VARIANTS.items():
    register_variant(
        f"mixnet_{_size}",
        family="mixnet",
        arch=_arch,
        # The 1536-wide head is not scaled (tpu mixnet_builder feature_size).
        scaling=CompoundScaling(_width, 1.0, 224, scale_head=False),
        dropout_rate=_dropout,
        paper="https://arxiv.org/abs/1907.09595",
        published=Published(
            _params * 1e6,
            _macs * 1e6,
            _top1,
            "arXiv 1907.09595 (via reference §3.4)",
        ),
    )
