"""ShuffleNetV2 0.5x, 1.0x, 1.5x, 2.0x.

Paper: Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", https://arxiv.org/abs/1807.11164.
Reference implementation: megvii-model/ShuffleNet-Series ShuffleNetV2/
network.py `stage_out_channels`, `stage_repeats = [4, 8, 4]` (@ aa91feb7).
Figures: ../shared/reference/architectures.md §8.1 (Megvii README; its
"Top-1" column is an *error*, so top-1 accuracy = 100 - that).

Deviations from reference:
- The classifier has a bias (the reference's Linear has none): +1000
  parameters, 0.04% of 1.0x.
- Each width is its own arch string: the published widths (48/116/176/244)
  are a table, not a multiplier of one base.
"""

from tfeff.models.registry import Published
from tfeff.models.registry import register_variant
from tfeff.spec.scaling import CompoundScaling

# width: (stage channels, conv_last, published FLOPs M, params M, top-1 err).
SHUFFLENETV2_WIDTHS = {
    0.5: ((48, 96, 192), 1024, 41, 1.4, 38.9),
    1.0: ((116, 232, 464), 1024, 146, 2.3, 30.6),
    1.5: ((176, 352, 704), 1024, 299, 3.5, 27.4),
    2.0: ((244, 488, 976), 2048, 591, 7.4, 25.0),
}


def shufflenetv2_arch(stage_channels, last_channels):
    """The arch string for one row of `stage_out_channels`."""
    c2, c3, c4 = stage_channels
    return (
        "stem_k3_s2_c24_nre | maxpool_k3_s2"
        f" | shuffle_r4_k3_s2_c{c2} | shuffle_r8_k3_s2_c{c3}"
        f" | shuffle_r4_k3_s2_c{c4} | head_k1_c{last_channels}_nre"
    )


for _width, (
    _stages,
    _last,
    _macs,
    _params,
    _err,
) in SHUFFLENETV2_WIDTHS.items():
    register_variant(
        f"shufflenetv2_{round(_width * 100):03d}",
        family="shufflenetv2",
        arch=shufflenetv2_arch(_stages, _last),
        scaling=CompoundScaling(1.0, 1.0, 224),
        # Dropout 0.2 only for 2.0x (network.py `if self.model_size == '2.0x'`).
        dropout_rate=0.2 if _width == 2.0 else 0.0,
        paper="https://arxiv.org/abs/1807.11164",
        published=Published(
            _params * 1e6,
            _macs * 1e6,
            round(100 - _err, 1),
            "megvii ShuffleNetV2 README",
        ),
    )
