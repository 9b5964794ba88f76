"""validate_arch rejects unbuildable specs before anything is built."""

import pytest

from tfeff.spec import validate_arch


@pytest.mark.parametrize(
    "arch, message",
    [
        ("stem_k3_s2_c32 | mbconv_r1_k3_s3_e6_c16", "strides must be 1 or 2"),
        ("stem_k3_s2_c32 | mbconv_r1_k4_s1_e6_c16", "odd positive"),
        ("stem_k3_s2_c32 | mbconv_r0_k3_s1_e6_c16", "repeats must be >= 1"),
        ("stem_k3_s2_c32 | mbconv_r1_k3_s1_e0.5_c16", "expand_ratio"),
        ("stem_k3_s2_c32 | mbconv_r1_k3_s1_e6_c16_se1.5", "se_ratio"),
        ("stem_k3_s2_c30 | eesp_r1_c30_b4", "branches=4 must divide"),
        ("stem_k3_s2_c32 | eesp_r1_c64_b4", "keeps its width"),
        ("stem_k3_s2_c32 | eespdown_c32_b4", "widens its input"),
        # 4 new channels = 1 per branch, which a 4-group reduce cannot split.
        ("stem_k3_s2_c16 | eespdown_c20_b4", "divide the branch width 1"),
        (
            "stem_k3_s2_c32 | convbnact_k3_c16_dw",
            "depthwise conv keeps its width",
        ),
        ("stem_k3_s2_c30 | convbnact_k1_c16_g4", "groups=4 must divide"),
    ],
)
def test_invalid_specs_raise_naming_the_rule(arch, message):
    with pytest.raises(ValueError, match=message) as info:
        validate_arch(arch)
    assert "stage1" in str(info.value)


def test_valid_spec_is_returned():
    spec = validate_arch("stem_k3_s2_c32 | mbconv_r2_k3.5_s2_e6_c24_se0.25")
    assert spec.blocks[0].repeats == 2
