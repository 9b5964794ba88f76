"""MobileNetV2 at widths 0.35 … 1.4, and IGCV3-D.

Papers: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", https://arxiv.org/abs/1801.04381; Sun et al., "IGCV3:
Interleaved Low-Rank Group Convolutions for Efficient Deep Neural Networks",
https://arxiv.org/abs/1806.00178.
Reference implementations: tensorflow/models research/slim/nets/mobilenet
(figures in its README.md); keras.applications mobilenet_v2.py; homles11/
IGCV3 symbols/igcv3.py and symbols/mobilenetv2.py (@ 83aba2f3).
Figures: ../shared/reference/architectures.md §8.2–8.3.

Deviations from reference:
- The classifier has a head dropout of 0.2 (timm's default); the SLIM and
  Keras models have none. No parameters change.
- MobileNetV2's strided convs use TF "same" padding (keras.applications
  pads explicitly to the same effect). IGCV3-D was trained in MXNet, whose
  released graph (models/igcv3-symbol.json) pads symmetrically (pad (1, 1)
  at stride 2) with batch-norm epsilon 1e-5: PyTorch's conventions, so its
  arch carries `TORCH_NUMERICS_TOKEN` (its only average pool is global).
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import TORCH_NUMERICS_TOKEN
from tfeff.spec.scaling import CompoundScaling

# (t, c, n, s) bottlenecks, ReLU6, linear projections.
MOBILENETV2_ARCH = (
    "stem_k3_s2_c32_nr6"
    " | mbconv_r1_k3_s1_e1_c16_nr6 | mbconv_r2_k3_s2_e6_c24_nr6"
    " | mbconv_r3_k3_s2_e6_c32_nr6 | mbconv_r4_k3_s2_e6_c64_nr6"
    " | mbconv_r3_k3_s1_e6_c96_nr6 | mbconv_r3_k3_s2_e6_c160_nr6"
    " | mbconv_r1_k3_s1_e6_c320_nr6"
    " | head_k1_c1280_nr6"
)
# IGCV3-D: MobileNetV2's widths with deeper stages, G1 = G2 = 2.
IGCV3_ARCH = (
    f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c32_nr6"
    " | igcv3_r1_k3_s1_e1_c16 | igcv3_r4_k3_s2_e6_c24 | igcv3_r6_k3_s2_e6_c32"
    " | igcv3_r8_k3_s2_e6_c64 | igcv3_r6_k3_s1_e6_c96 | igcv3_r6_k3_s2_e6_c160"
    " | igcv3_r1_k3_s1_e6_c320"
    " | head_k1_c1280_nr6"
)
# alpha: (MACs M, params M, top-1) from the SLIM README table at 224.
MOBILENETV2_WIDTHS = {
    0.35: (59, 1.66, 60.3),
    0.5: (97, 1.95, 65.4),
    0.75: (209, 2.61, 69.8),
    1.0: (300, 3.47, 71.8),
    1.3: (509, 5.34, 74.4),
    1.4: (582, 6.06, 75.0),
}

for _alpha, (_macs, _params, _top1) in MOBILENETV2_WIDTHS.items():
    register_variant(
        f"mobilenetv2_{round(_alpha * 100):03d}",
        family="mobilenetv2",
        arch=MOBILENETV2_ARCH,
        # The 1280 head only grows: `1280 * max(1, alpha)` (keras, SLIM).
        scaling=CompoundScaling(_alpha, 1.0, 224, scale_head=_alpha > 1.0),
        dropout_rate=0.2,
        paper="https://arxiv.org/abs/1801.04381",
        published=Published(
            _params * 1e6,
            _macs * 1e6,
            _top1,
            "tensorflow/models research/slim/nets/mobilenet/README.md",
        ),
    )

register_variant(
    "igcv3_d",
    family="igcv3",
    arch=IGCV3_ARCH,
    scaling=CompoundScaling(1.0, 1.0, 224),
    dropout_rate=0.2,
    paper="https://arxiv.org/abs/1806.00178",
    # homles11/IGCV3 README: 3.5M params, 72.2% after retraining; no MACs
    # published (the reference computes ~313M).
    published=Published(3.5e6, None, 72.2, "homles11/IGCV3 README.md"),
)
