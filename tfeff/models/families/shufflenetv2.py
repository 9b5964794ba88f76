"""ShuffleNetV2 0.5x, 1.0x, 1.5x, 2.0x.

Paper: Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", https://arxiv.org/abs/1807.11164.
Reference implementation: megvii-model/ShuffleNet-Series ShuffleNetV2/
network.py `stage_out_channels`, `stage_repeats = [4, 8, 4]` (@ aa91feb7).
Figures: ../shared/reference/architectures.md §8.1 (Megvii README; its
"Top-1" column is an *error*, so top-1 accuracy = 100 - that).

The network is torchvision's `shufflenet_v2_x0_5` ... `x2_0` (the
checkpoints that load; their parameter counts are exact), which megvii's
differs from at 1.0x and wider (tfeff/blocks/shuffle.py); the figures are
megvii's. Numerics are PyTorch's (`TORCH_NUMERICS`).

Deviations from reference:
- Each width is its own arch string: the published widths (48/116/176/244)
  are a table, not a multiplier of one base.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.notation import TORCH_NUMERICS_TOKEN
from tfeff.spec.scaling import CompoundScaling

# width: (stage channels, conv_last, published MACs M, params, top-1): the
# network and figures of torchvision 0.29's ShuffleNet_V2_X*_Weights
# .IMAGENET1K_V1 meta ("_ops" GFLOPS, num_params, acc@1), whose checkpoints
# tfeff loads. megvii's README gives 41/146/299/591 MFLOPs for its own.
SHUFFLENETV2_WIDTHS = {
    0.5: ((48, 96, 192), 1024, 40, 1_366_792, 60.552),
    1.0: ((116, 232, 464), 1024, 145, 2_278_604, 69.362),
    1.5: ((176, 352, 704), 1024, 296, 3_503_624, 72.996),
    2.0: ((244, 488, 976), 2048, 583, 7_393_996, 76.23),
}


def shufflenetv2_arch(stage_channels, last_channels):
    """The arch string for one row of `stage_out_channels`."""
    c2, c3, c4 = stage_channels
    return (
        f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c24_nre | maxpool_k3_s2"
        f" | shuffle_r4_k3_s2_c{c2} | shuffle_r8_k3_s2_c{c3}"
        f" | shuffle_r4_k3_s2_c{c4} | head_k1_c{last_channels}_nre"
    )


for _width, (
    _stages,
    _last,
    _macs,
    _params,
    _top1,
) in SHUFFLENETV2_WIDTHS.items():
    register_variant(
        f"shufflenetv2_{round(_width * 100):03d}",
        family="shufflenetv2",
        arch=shufflenetv2_arch(_stages, _last),
        scaling=CompoundScaling(1.0, 1.0, 224),
        # torchvision has no dropout; megvii's 2.0x trains with 0.2
        # (network.py `if self.model_size == '2.0x'`), kept for training.
        dropout_rate=0.2 if _width == 2.0 else 0.0,
        paper="https://arxiv.org/abs/1807.11164",
        published=Published(
            _params,
            _macs * 1e6,
            _top1,
            "torchvision ShuffleNet_V2 weights meta",
        ),
    )


# EdgeNets (sacmehta/EdgeNets @ 2b232d3f, model/classification/
# shufflenetv2.py) trained its own 0.5x: torchvision's network with a
# per-channel PReLU wherever torchvision has a ReLU (nn_layers/cnn_utils.py
# CBR), so a variant of its own. Figures: its model zoo README (40.48 MFLOPs,
# 59.69 top-1; ../shared/reference/architectures.md §8.1) and the parameters
# of its CNNModel(s=0.5) (torchvision's 1,366,792 + 2,944 PReLU slopes).
register_variant(
    "shufflenetv2_prelu_050",
    family="shufflenetv2",
    arch=(
        f"{TORCH_NUMERICS_TOKEN} | stem_k3_s2_c24_npr | maxpool_k3_s2"
        " | shuffle_r4_k3_s2_c48_npr | shuffle_r8_k3_s2_c96_npr"
        " | shuffle_r4_k3_s2_c192_npr | head_k1_c1024_npr"
    ),
    scaling=CompoundScaling(1.0, 1.0, 224),
    dropout_rate=0.0,  # CNNModel drops out only for s > 1.
    paper="https://arxiv.org/abs/1807.11164",
    published=Published(
        1_369_736,
        40.48e6,
        59.69,
        "EdgeNets model zoo README; parameters of its CNNModel(s=0.5)",
    ),
)
