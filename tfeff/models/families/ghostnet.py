"""GhostNet 0.5x, 1.0x, 1.3x.

Paper: Han et al., "GhostNet: More Features from Cheap Operations",
https://arxiv.org/abs/1911.11907.
Reference implementation: huawei-noah/ghostnet ghostnet_pytorch/ghostnet.py
`cfgs` (@ bce85204); identical in timm timm/models/ghostnet.py.
Figures: ../shared/reference/architectures.md §4; the 0.5x/1.3x paper
figures from the paper's results table as listed on paperswithcode
(paperswithcode.com/paper/ghostnet-more-features-from-cheap-operations).

Deviations from reference:
- Each cfg row is one token (one "stage" in layer names), so layer names
  run stage1..stage16 rather than the reference's five stage groups.
- None in numerics: PyTorch's padding and batch-norm epsilon
  (`TORCH_NUMERICS`), as the published checkpoints were trained.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import TORCH_NUMERICS_TOKEN
from tfeff.spec.scaling import CompoundScaling

# cfgs rows `k, exp_size, out, se, stride` → ghost_r1_k{k}_s{s}_m{exp}_c{out}.
GHOSTNET_ARCH = (
    # Trained in PyTorch (huawei-noah, timm): symmetric padding, eps 1e-5.
    f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c16_nre"
    " | ghost_r1_k3_s1_m16_c16"
    " | ghost_r1_k3_s2_m48_c24 | ghost_r1_k3_s1_m72_c24"
    " | ghost_r1_k5_s2_m72_c40_se0.25 | ghost_r1_k5_s1_m120_c40_se0.25"
    " | ghost_r1_k3_s2_m240_c80 | ghost_r1_k3_s1_m200_c80 | ghost_r2_k3_s1_m184_c80"
    " | ghost_r1_k3_s1_m480_c112_se0.25 | ghost_r1_k3_s1_m672_c112_se0.25"
    " | ghost_r1_k5_s2_m672_c160_se0.25 | ghost_r1_k5_s1_m960_c160"
    " | ghost_r1_k5_s1_m960_c160_se0.25 | ghost_r1_k5_s1_m960_c160"
    " | ghost_r1_k5_s1_m960_c160_se0.25"
    " | head_k1_c960_nre"
    # conv_head: a 1x1 conv with bias and ReLU on the pooled features, kept
    # at 1280 for every width (the reference's fixed `output_channel`).
    " | fc_c1280_nre"
)
# width: (published params M, MACs M, top-1).
GHOSTNET_WIDTHS = {
    0.5: (2.6, 42, 66.2),
    1.0: (5.2, 141, 73.9),
    1.3: (7.3, 226, 75.7),
}

for _width, (_params, _macs, _top1) in GHOSTNET_WIDTHS.items():
    register_variant(
        f"ghostnet_{round(_width * 100):03d}",
        family="ghostnet",
        arch=GHOSTNET_ARCH,
        # Widths are rounded to multiples of 4 (`_make_divisible(c * w, 4)`).
        scaling=CompoundScaling(_width, 1.0, 224, channel_divisor=4),
        dropout_rate=0.2,
        paper="https://arxiv.org/abs/1911.11907",
        published=Published(
            _params * 1e6, _macs * 1e6, _top1, "arXiv 1911.11907 Table 7"
        ),
    )
