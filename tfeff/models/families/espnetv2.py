"""ESPNetv2 classification at s = 0.5, 1.0, 1.25, 1.5, 2.0.

Paper: Mehta et al., "ESPNetv2: A Light-weight, Power Efficient, and General
Purpose Convolutional Neural Network", https://arxiv.org/abs/1811.11431.
Reference implementation: sacmehta/EdgeNets model/classification/
espnetv2.py and espnetv2_config.py (@ 2b232d3f).
Figures: ../shared/reference/architectures.md §5.1 (published "FLOPs" are
conv MACs *without* the FC classifier, which EdgeNets' counter skips).

Deviations from reference: none in numerics. The network computes as
PyTorch does (`TORCH_NUMERICS`: symmetric padding, batch-norm epsilon 1e-5,
average pools that count padding, as EdgeNets' AvgPool2d(3, 2, 1)).
EdgeNets registers modules its forward never calls (each strided EESP's
`module_act`, `level5_0.inp_reinf`); tfeff has none of them.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import TORCH_NUMERICS_TOKEN
from tfeff.spec.scaling import CompoundScaling

# EdgeNets espnetv2_config.py `sc_ch_dict` (level channels c0..c5).
ESPNETV2_CHANNELS = {
    0.5: (16, 32, 64, 128, 256, 1024),
    1.0: (32, 64, 128, 256, 512, 1024),
    1.25: (32, 80, 160, 320, 640, 1024),
    1.5: (32, 96, 192, 384, 768, 1024),
    2.0: (32, 128, 256, 512, 1024, 1280),
}
# s: (params M, conv FLOPs M without FC, top-1): ESPNetv2 imagenet README.
ESPNETV2_PUBLISHED = {
    0.5: (1.24, 28.37, 57.7),
    1.0: (1.67, 85.72, 66.1),
    1.25: (1.96, 123.39, 67.9),
    1.5: (2.31, 168.6, 69.2),
    2.0: (3.49, 284.8, 72.1),
}


def espnetv2_arch(channels):
    """The arch string for one row of `sc_ch_dict`.

    Levels: L1 CBR, L2 strided EESP, L3-L5 strided EESP + repeats [3, 7, 3]
    with receptive-field limits [13, 11, 9, 7, 5]; L5 has no input
    reinforcement; the head is a depthwise 3x3 CBR and a 1x1 CBR grouped by
    K = 4 (EdgeNets espnetv2.py).
    """
    c0, c1, c2, c3, c4, c5 = channels
    return (
        f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c{c0}_npr"
        f" | eespdown_c{c1}_b4_rf13"
        f" | eespdown_c{c2}_b4_rf11 | eesp_r3_c{c2}_b4_rf9"
        f" | eespdown_c{c3}_b4_rf9 | eesp_r7_c{c3}_b4_rf7"
        f" | eespdown_c{c4}_b4_rf7_noreinf | eesp_r3_c{c4}_b4_rf5"
        f" | head_k3_s1_c{c4}_dw_npr | head_k1_s1_g4_c{c5}_npr"
    )


for _scale, _channels in ESPNETV2_CHANNELS.items():
    _params, _macs, _top1 = ESPNETV2_PUBLISHED[_scale]
    register_variant(
        f"espnetv2_{round(_scale * 100):03d}",
        family="espnetv2",
        arch=espnetv2_arch(_channels),
        # EESP widths must divide by the 4 branches.
        scaling=CompoundScaling(1.0, 1.0, 224, channel_divisor=4),
        dropout_rate=0.2,
        paper="https://arxiv.org/abs/1811.11431",
        published=Published(
            _params * 1e6,
            _macs * 1e6,
            _top1,
            "sacmehta/ESPNetv2 imagenet/README.md (FLOPs exclude the FC)",
        ),
    )
