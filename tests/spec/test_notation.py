"""Contract: arch strings and specs round-trip; bad strings say what is wrong."""

import pytest

import tfeff
from tfeff.models.registry import get_variant
from tfeff.spec import MBConvSpec
from tfeff.spec import decode_arch
from tfeff.spec import encode_arch


@pytest.mark.parametrize("name", tfeff.list_variants())
def test_every_variant_round_trips(name):
    variant = get_variant(name)
    for spec in (variant.base_arch, variant.resolved_arch()):
        assert decode_arch(encode_arch(spec)) == spec
        assert encode_arch(decode_arch(encode_arch(spec))) == encode_arch(spec)


def test_keys_in_any_order_decode_to_the_same_spec():
    a = decode_arch("stem_k3_s2_c32 | mbconv_r2_k3.5_s2_e6_c24_se0.25_nre")
    b = decode_arch("stem_c32_s2_k3|mbconv_nre_se0.25_c24_e6_s2_k3.5_r2")
    assert a == b
    assert a.blocks[0] == MBConvSpec(
        filters=24,
        repeats=2,
        kernel_size=(3, 5),
        strides=2,
        expand_ratio=6.0,
        se_ratio=0.25,
        activation="relu",
    )


def test_encode_is_canonical():
    spec = decode_arch("stem_s2_c32_k3 | mbconv_c16_k3 | head_c1280_k1")
    assert encode_arch(spec) == (
        "stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16 | head_k1_s1_c1280"
    )


def test_every_key_decodes():
    spec = decode_arch(
        "stem_k3_s2_g2_c32_dw_npr | mbconv_r1_k3.5.7_a1.1_p1.1_s2_e6_c24_se0.5_nhs_noskip"
        " | ghost_r2_k5_s2_m72_c40_se0.25 | eespdown_c64_b4_rf13_noreinf | eesp_r3_c64_b4_rf9"
        " | head_k1_c128_nr6"
    )
    mb = spec.blocks[0]
    assert (mb.expand_groups, mb.project_groups, mb.skip, mb.activation) == (
        2,
        2,
        False,
        "hard_swish",
    )
    assert (
        spec.stem.depthwise
        and spec.stem.groups == 2
        and spec.stem.activation == "prelu"
    )
    assert spec.blocks[1].mid_filters == 72
    assert (
        spec.blocks[2].reinforce is False
        and spec.blocks[2].receptive_field == 13
    )
    assert spec.head[0].activation == "relu6"
    assert decode_arch(encode_arch(spec)) == spec


@pytest.mark.parametrize(
    "arch, token",
    [
        ("stem_k3_s2_c32 | mbconv_r1_x3_c16", "mbconv_r1_x3_c16"),
        ("stem_k3_s2_c32 | conv_r1_c16", "conv_r1_c16"),
        ("stem_k3_s2_c32 | mbconv_r1_k3_s1", "mbconv_r1_k3_s1"),
        ("stem_k3_s2_c32 | mbconv_r1_kx_c16", "mbconv_r1_kx_c16"),
        ("stem_k3_s2_c32 | mbconv_c16_c24", "mbconv_c16_c24"),
        ("stem_k3_s2_c32 | mbconv_c16_nzz", "mbconv_c16_nzz"),
        ("stem_k3_s2_c32 | mbconv_c16_a1.3", "mbconv_c16_a1.3"),
        ("mbconv_c16", "mbconv_c16"),
        ("stem_k3_s2_c32 | head_k1_c64 | mbconv_c16", "head_k1_c64"),
    ],
)
def test_bad_strings_name_token_and_string(arch, token):
    with pytest.raises(ValueError) as info:
        decode_arch(arch)
    message = str(info.value)
    assert repr(token) in message
    assert repr(arch) in message


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="arch_string=42"):
        decode_arch(42)


def test_empty_token_is_an_error():
    with pytest.raises(ValueError, match="Empty token"):
        decode_arch("stem_c8 || mbconv_c8")
