"""EfficientNet B0–B7 and EfficientNet-Lite0–Lite4.

Papers: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks", https://arxiv.org/abs/1905.11946; EfficientNet-Lite:
tensorflow/tpu models/official/efficientnet/lite/README.md.
Reference implementations: tensorflow/tpu models/official/efficientnet/
efficientnet_builder.py `_DEFAULT_BLOCKS_ARGS`, `efficientnet_params` and
lite/efficientnet_lite_builder.py (@ 7dc921f8); keras.applications
efficientnet.py (keras-team/keras @ 3422977a).
Figures: ../shared/reference/architectures.md §1–2.

Deviations from reference:
- Lite3/Lite4 use the TF builder's resolutions 280/300 (timm evaluates the
  same weights at 300/380); the README's MAdds correspond to 280/300.
- Lite's `local_pooling` (a full-size AvgPool for TFLite) is a global average
  pool here; TFLite converts both to MEAN/AVERAGE_POOL with the same result.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import decode_arch
from tfeff.spec.notation import encode_arch
from tfeff.spec.scaling import CompoundScaling
from tfeff.spec.transforms import make_edge_friendly

EFFICIENTNET_ARCH = (
    "stem_k3_s2_c32"
    " | mbconv_r1_k3_s1_e1_c16_se0.25"
    " | mbconv_r2_k3_s2_e6_c24_se0.25"
    " | mbconv_r2_k5_s2_e6_c40_se0.25"
    " | mbconv_r3_k3_s2_e6_c80_se0.25"
    " | mbconv_r3_k5_s1_e6_c112_se0.25"
    " | mbconv_r4_k5_s2_e6_c192_se0.25"
    " | mbconv_r1_k3_s1_e6_c320_se0.25"
    " | head_k1_c1280"
)
EFFICIENTNET_LITE_ARCH = encode_arch(
    make_edge_friendly(decode_arch(EFFICIENTNET_ARCH))
)

# (channel_multiplier, repeat_multiplier, resolution, dropout_rate):
# tensorflow/tpu efficientnet_builder.py `efficientnet_params`.
EFFICIENTNET_PARAMS = {
    "b0": (1.0, 1.0, 224, 0.2),
    "b1": (1.0, 1.1, 240, 0.2),
    "b2": (1.1, 1.2, 260, 0.3),
    "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4),
    "b5": (1.6, 2.2, 456, 0.4),
    "b6": (1.8, 2.6, 528, 0.5),
    "b7": (2.0, 3.1, 600, 0.5),
}
# tensorflow/tpu lite/efficientnet_lite_builder.py `efficientnet_lite_params`.
EFFICIENTNET_LITE_PARAMS = {
    "lite0": (1.0, 1.0, 224, 0.2),
    "lite1": (1.0, 1.1, 240, 0.2),
    "lite2": (1.1, 1.2, 260, 0.3),
    "lite3": (1.2, 1.4, 280, 0.3),
    "lite4": (1.4, 1.8, 300, 0.3),
}
# Published params (M), MACs ("FLOPs", G) and top-1 (%):
# ../shared/reference/architectures.md §1.5 (paper figures; top-1 from the
# tpu README's AutoAugment row) and §2 (Lite README table, FP32 top-1).
EFFICIENTNET_PUBLISHED = {
    "b0": (5.3, 0.39, 77.1),
    "b1": (7.8, 0.70, 79.1),
    "b2": (9.2, 1.0, 80.1),
    "b3": (12, 1.8, 81.6),
    "b4": (19, 4.2, 82.9),
    "b5": (30, 9.9, 83.6),
    "b6": (43, 19, 84.0),
    "b7": (66, 37, 84.3),
    "lite0": (4.7, 0.407, 75.1),
    "lite1": (5.4, 0.631, 76.7),
    "lite2": (6.1, 0.899, 77.6),
    "lite3": (8.2, 1.44, 79.8),
    "lite4": (13.0, 2.64, 81.5),
}


def _published(size):
    params, macs, top1 = EFFICIENTNET_PUBLISHED[size]
    source = (
        "tensorflow/tpu efficientnet/lite/README.md"
        if size.startswith("lite")
        else "arXiv 1905.11946 Table 2 / tpu README"
    )
    return Published(params * 1e6, macs * 1e9, top1, source)


# Lite normalises with mean 127 and std 128 of [0, 255] pixels.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
# Stochastic depth: survival 0.8 at the last block (tpu), 0.2 in keras.
DROP_PATH_RATE = 0.2

for _size, (
    _width,
    _depth,
    _resolution,
    _dropout,
) in EFFICIENTNET_PARAMS.items():
    register_variant(
        f"efficientnet_{_size}",
        family="efficientnet",
        arch=EFFICIENTNET_ARCH,
        scaling=CompoundScaling(_width, _depth, _resolution),
        dropout_rate=_dropout,
        drop_path_rate=DROP_PATH_RATE,
        paper="https://arxiv.org/abs/1905.11946",
        published=_published(_size),
    )

for _size, (
    _width,
    _depth,
    _resolution,
    _dropout,
) in EFFICIENTNET_LITE_PARAMS.items():
    register_variant(
        f"efficientnet_{_size}",
        family="efficientnet_lite",
        arch=EFFICIENTNET_LITE_ARCH,
        scaling=make_edge_friendly(
            CompoundScaling(_width, _depth, _resolution)
        ),
        dropout_rate=_dropout,
        drop_path_rate=DROP_PATH_RATE,
        mean=LITE_MEAN,
        std=LITE_STD,
        paper="tensorflow/tpu models/official/efficientnet/lite/README.md",
        published=_published(_size),
    )

# Tiny variants for CI: every block kind, all five pyramid levels, 64 px.
register_variant(
    "test_efficientnet",
    family="efficientnet",
    arch=(
        "stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8_se0.25 | mbconv_r2_k3_s2_e3_c16_se0.25"
        " | mbconv_r1_k5_s2_e3_c24_se0.25 | mbconv_r1_k3_s2_e3_c32_se0.25"
        " | mbconv_r1_k5_s2_e3_c40_se0.25 | head_k1_c64"
    ),
    scaling=CompoundScaling(1.0, 1.0, 64),
    dropout_rate=0.2,
    drop_path_rate=DROP_PATH_RATE,
)
register_variant(
    "test_efficientnet_lite",
    family="efficientnet_lite",
    arch=encode_arch(
        make_edge_friendly(
            "stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8 | mbconv_r2_k3_s2_e3_c16"
            " | mbconv_r1_k5_s2_e3_c24 | mbconv_r1_k3_s2_e3_c32"
            " | mbconv_r1_k5_s2_e3_c40 | head_k1_c64"
        )
    ),
    scaling=make_edge_friendly(CompoundScaling(1.0, 1.0, 64)),
    dropout_rate=0.2,
    mean=LITE_MEAN,
    std=LITE_STD,
)
register_variant(
    "test_mobile_blocks",
    family="test",
    arch=(
        # PyTorch numerics: the CI variants cover both conventions.
        "numerics_padsym_eps1e-5_countpad"
        " | stem_k3_s2_c16_nre | maxpool_k3_s2 | shuffle_r2_k3_s2_c32"
        " | igcv3_r2_k3_s2_e3_c32 | mbconv_r1_k3_s2_e3_c48_nr6"
        " | head_k1_c64_nre | fc_c96_g4_nre"
    ),
    scaling=CompoundScaling(1.0, 1.0, 64),
    dropout_rate=0.1,
)
register_variant(
    "test_esp_dice",
    family="test",
    arch=(
        "numerics_padsym_eps1e-5_countpad"
        " | stem_k3_s2_c16_npr | imgcat | espstage_r1_c20_img | dicedown"
        " | dice_r1_c96 | dicedown | dice_r1_c128 | dicedown"
        " | fc_c64_g4_nobias"
    ),
    scaling=CompoundScaling(1.0, 1.0, 64),
    dropout_rate=0.1,
)
register_variant(
    "test_all_blocks",
    family="test",
    arch=(
        "stem_k3_s2_c16_nre | ghost_r1_k3_s1_m16_c16"
        " | mbconv_r1_k3.5_a1.1_p1.1_s2_e3_c32_se0.5 | eespdown_c64_b4_rf9"
        " | eesp_r1_c64_b4_rf7 | ghost_r1_k5_s2_m96_c64_se0.25"
        " | mbconv_r1_k3.5.7_s2_e3_c80_se0.25_nhs | head_k1_c128"
    ),
    scaling=CompoundScaling(1.0, 1.0, 64),
    dropout_rate=0.1,
)
