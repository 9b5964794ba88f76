"""DiCENet at the published widths s = 0.2 … 2.0.

Paper: Mehta et al., "DiCENet: Dimension-wise Convolutions for Efficient
Networks", https://arxiv.org/abs/1906.03516.
Reference implementation: sacmehta/EdgeNets model/classification/
dicenet.py and dicenet_config.py (@ 2b232d3f / 5067df1f).
Figures: ../shared/reference/architectures.md §7 (EdgeNets model zoo
README; its FLOPs include the classifier, which is built from convs).

Deviations from reference: see tfeff/blocks/dice.py (equivalent form of the
local fusion; DICE built for the model's input size, so DiCENet needs a
static input size, a multiple of 32 as in the reference). Numerics are
PyTorch's (`TORCH_NUMERICS`), as EdgeNets trained it.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import TORCH_NUMERICS_TOKEN
from tfeff.spec.scaling import CompoundScaling

# dicenet_config.py `sc_ch_dict` (s = 2.4 has no published figures).
DICENET_CHANNELS = {
    0.2: (16, 16, 32, 64, 128, 1024),
    0.5: (24, 24, 48, 96, 192, 1024),
    0.75: (24, 24, 86, 172, 344, 1024),
    1.0: (24, 24, 116, 232, 464, 1024),
    1.25: (24, 24, 144, 288, 576, 1024),
    1.5: (24, 24, 176, 352, 704, 1024),
    1.75: (24, 24, 210, 420, 840, 1024),
    2.0: (24, 24, 244, 488, 976, 1024),
}
# s: (MFLOPs = MACs incl. classifier, top-1, params M): model zoo README and
# the results comment of dicenet_config.py (its 1.75 row is labelled 1.50).
DICENET_PUBLISHED = {
    0.2: (14.90, 46.19, 1.13),
    0.5: (24.71, 54.04, 1.21),
    0.75: (46.83, 62.80, 1.50),
    1.0: (70.71, 66.45, 1.81),
    1.25: (98.11, 67.77, 2.16),
    1.5: (135.48, 69.51, 2.65),
    1.75: (182.24, 70.26, 3.26),
    2.0: (236.29, 70.99, 3.98),
}


def dicenet_arch(channels):
    """L1 CBR s2 → max-pool → [strided DICE + shuffle-DICE x reps] x 3 →
    grouped (g=4) 1x1 on pooled features; rep_layers = [0, 3, 7, 3]."""
    c0, _, c2, c3, c4, c5 = channels
    return (
        f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c{c0}_npr | maxpool_k3_s2"
        f" | dicedown | dice_r3_c{c2}"
        f" | dicedown | dice_r7_c{c3}"
        f" | dicedown | dice_r3_c{c4}"
        f" | fc_c{c5}_g4_nobias"
    )


for _scale, _channels in DICENET_CHANNELS.items():
    _macs, _top1, _params = DICENET_PUBLISHED[_scale]
    register_variant(
        f"dicenet_{round(_scale * 100):03d}",
        family="dicenet",
        arch=dicenet_arch(_channels),
        scaling=CompoundScaling(1.0, 1.0, 224),
        dropout_rate=0.2 if _scale > 1 else 0.1,
        paper="https://arxiv.org/abs/1906.03516",
        published=Published(
            _params * 1e6,
            _macs * 1e6,
            _top1,
            "sacmehta/EdgeNets classification model zoo",
        ),
    )
