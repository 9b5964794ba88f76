"""ESPNet (v1): the ESPNet-C encoder, as a backbone and classifier.

Paper: Mehta et al., "ESPNet: Efficient Spatial Pyramid of Dilated
Convolutions for Semantic Segmentation", https://arxiv.org/abs/1803.06815.
Reference implementation: sacmehta/ESPNet train/Model.py `ESPNet_Encoder`
(@ afe71c38); p and q (the paper's alpha_2, alpha_3) default to 2 and 8
(train/main.py). Figures: ../shared/reference/architectures.md §6.

Deviations from reference:
- ESPNet-C is a stride-8 network, so its backbone has `pyramid_outputs`
  P1..P3 only (the contract's P4/P5 do not exist in the architecture).
- As an image classifier it ends in global pooling and a dense layer; the
  reference's segmentation classifier, a 1x1 conv to the classes at 1/8
  resolution, belongs to the segmentation heads.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.scaling import CompoundScaling


def espnet_c_arch(p=2, q=8):
    """ESPNet-C: CBR(16, s2) ‖ image → level 2 (64, p ESP) ‖ image → level 3
    (128, q ESP)."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"`p` must be a positive int. Received: p={p!r}")
    if isinstance(q, bool) or not isinstance(q, int) or q < 1:
        raise ValueError(f"`q` must be a positive int. Received: q={q!r}")
    # PyTorch padding and average pools; the reference's batch norms set
    # eps=1e-3 (train/Model.py `nn.BatchNorm2d(nOut, eps=1e-03)`).
    return (
        "numerics_padsym_countpad | stem_k3_s2_c16_npr | imgcat"
        f" | espstage_r{p}_c64_img | espstage_r{q}_c128"
    )


def espnet_c_variant_name(p, q):
    return "espnet_c" if (p, q) == (2, 8) else f"espnet_c_p{p}q{q}"


# The pretrained (p, q) of the reference: (2, 3), (2, 5), (2, 8).
for _p, _q in ((2, 3), (2, 5), (2, 8)):
    register_variant(
        espnet_c_variant_name(_p, _q),
        family="espnet",
        arch=espnet_c_arch(_p, _q),
        scaling=CompoundScaling(1.0, 1.0, 224),
        dropout_rate=0.0,
        paper="https://arxiv.org/abs/1803.06815",
        published=Published(
            source="no ImageNet figures published for ESPNet-C"
        ),
    )
