"""Rounding and compound scaling, against the reference tables.

Source for every number: ../shared/reference/architectures.md §1.3 (derived
from tensorflow/tpu efficientnet_model.py `round_filters`/`round_repeats`)
and §2 (EfficientNet-Lite, tpu lite builder), §4 (GhostNet divisor 4).
"""

import pytest

import tfeff
from tfeff.models.registry import get_variant
from tfeff.spec import CompoundScaling
from tfeff.spec import make_edge_friendly
from tfeff.spec import round_channels
from tfeff.spec import round_repeats

# (stem, stage outputs, repeats, head): architectures.md §1.3 table.
EFFICIENTNET_TABLE = {
    "b0": (32, (16, 24, 40, 80, 112, 192, 320), (1, 2, 2, 3, 3, 4, 1), 1280),
    "b1": (32, (16, 24, 40, 80, 112, 192, 320), (2, 3, 3, 4, 4, 5, 2), 1280),
    "b2": (32, (16, 24, 48, 88, 120, 208, 352), (2, 3, 3, 4, 4, 5, 2), 1408),
    "b3": (40, (24, 32, 48, 96, 136, 232, 384), (2, 3, 3, 5, 5, 6, 2), 1536),
    "b4": (48, (24, 32, 56, 112, 160, 272, 448), (2, 4, 4, 6, 6, 8, 2), 1792),
    "b5": (48, (24, 40, 64, 128, 176, 304, 512), (3, 5, 5, 7, 7, 9, 3), 2048),
    "b6": (56, (32, 40, 72, 144, 200, 344, 576), (3, 6, 6, 8, 8, 11, 3), 2304),
    "b7": (
        64,
        (32, 48, 80, 160, 224, 384, 640),
        (4, 7, 7, 10, 10, 13, 4),
        2560,
    ),
}
# (repeats, stage outputs): architectures.md §2 table; stem 32, head 1280.
LITE_TABLE = {
    "lite0": ((1, 2, 2, 3, 3, 4, 1), (16, 24, 40, 80, 112, 192, 320)),
    "lite1": ((1, 3, 3, 4, 4, 5, 1), (16, 24, 40, 80, 112, 192, 320)),
    "lite2": ((1, 3, 3, 4, 4, 5, 1), (16, 24, 48, 88, 120, 208, 352)),
    "lite3": ((1, 3, 3, 5, 5, 6, 1), (24, 32, 48, 96, 136, 232, 384)),
    "lite4": ((1, 4, 4, 6, 6, 8, 1), (24, 32, 56, 112, 160, 272, 448)),
}


@pytest.mark.parametrize("size", sorted(EFFICIENTNET_TABLE))
def test_efficientnet_widths_and_repeats(size):
    stem, outs, repeats, head = EFFICIENTNET_TABLE[size]
    spec = get_variant(f"efficientnet_{size}").resolved_arch()
    assert spec.stem.filters == stem
    assert tuple(b.filters for b in spec.blocks) == outs
    assert tuple(b.repeats for b in spec.blocks) == repeats
    assert spec.head[0].filters == head


@pytest.mark.parametrize("size", sorted(LITE_TABLE))
def test_lite_widths_repeats_fixed_stem_and_head(size):
    repeats, outs = LITE_TABLE[size]
    spec = get_variant(f"efficientnet_{size}").resolved_arch()
    assert spec.stem.filters == 32 and spec.head[0].filters == 1280
    assert tuple(b.repeats for b in spec.blocks) == repeats
    assert tuple(b.filters for b in spec.blocks) == outs
    assert all(b.se_ratio == 0 and b.activation == "relu6" for b in spec.blocks)


@pytest.mark.parametrize(
    "channels, multiplier, divisor, expected",
    [
        # EfficientNet stems/heads (architectures.md §1.3).
        (32, 1.1, 8, 32),
        (32, 1.2, 8, 40),
        (32, 1.8, 8, 56),
        (1280, 1.1, 8, 1408),
        (1280, 2.0, 8, 2560),
        (112, 1.2, 8, 136),
        # The 10% rule: 20 * 0.5 = 10 would round to 8 (< 9), so 16.
        (20, 0.5, 8, 16),
        # GhostNet, divisor 4: _make_divisible(c * width, 4) (§4).
        (16, 0.5, 4, 8),
        (960, 1.3, 4, 1248),
        (72 * 0.25, 1.0, 4, 20),
        (120 * 0.25, 1.0, 4, 32),
    ],
)
def test_round_channels(channels, multiplier, divisor, expected):
    assert round_channels(channels, multiplier, divisor) == expected


def test_round_repeats_ceils():
    assert [round_repeats(r, 3.1) for r in (1, 2, 3, 4)] == [4, 7, 10, 13]


@pytest.mark.parametrize("bad", [0, -1.0, 0.0])
def test_non_positive_multiplier_is_an_error(bad):
    with pytest.raises(ValueError, match="channel_multiplier"):
        CompoundScaling(channel_multiplier=bad)
    with pytest.raises(ValueError, match="repeat_multiplier"):
        CompoundScaling(repeat_multiplier=bad)


def test_make_edge_friendly_on_scaling_keeps_stem_head_and_end_repeats():
    base = get_variant("efficientnet_b0").base_arch
    scaled = tfeff.scale_arch(
        base, make_edge_friendly(CompoundScaling(1.4, 1.8))
    )
    assert scaled.stem.filters == 32 and scaled.head[0].filters == 1280
    assert scaled.blocks[0].repeats == 1 and scaled.blocks[-1].repeats == 1


def test_multiplier_one_keeps_published_widths():
    # ShuffleNetV2's 116 and DiCENet's 86 are not multiples of 8; a
    # multiplier of 1 must not round them (the published networks).
    spec = tfeff.decode_arch(
        "stem_k3_s2_c24 | shuffle_r2_k3_s2_c116 | dice_r1_c86"
    )
    assert tfeff.scale_arch(spec, CompoundScaling(1.0, 1.0)) == spec
    scaled = tfeff.scale_arch(spec, CompoundScaling(0.5, 1.0))
    assert [b.filters for b in scaled.blocks] == [56, 40]
