"""describe_arch: every variant reads as a table, one row per token."""

import pytest

import tfeff
from tfeff.spec import describe_arch
from tfeff.spec import describe_rows


@pytest.mark.parametrize("variant", tfeff.applications.list_models())
def test_every_variant_has_one_row_per_token(variant):
    registered = tfeff.models.registry.get_variant(variant)
    spec = registered.resolved_arch()
    rows = describe_rows(registered)
    assert len(rows) == 1 + len(spec.blocks) + len(spec.head)
    assert rows[0]["part"] == "stem"
    assert rows[-1]["part"] == (
        "head" if spec.head else f"stage {len(spec.blocks)}"
    )
    text = describe_arch(registered)
    assert len(text.splitlines()) == len(rows) + 2


def test_names_blocks_as_the_papers_do():
    rows = describe_rows(
        "stem_k3_s2_c32 | mbconv_r1_k3_s1_e1_c16_se0.25 | "
        "mbconv_r2_k3.5.7_s2_e6_c24 | ghost_r1_k5_s2_m96_c40_se0.25 | "
        "eespdown_c80_b4_rf9 | eesp_r2_c80_b4_rf7 | head_k1_c512"
    )
    assert [r["block"] for r in rows] == [
        "conv-BN-act",
        "MBConv",
        "MixConv",
        "Ghost bottleneck",
        "strided EESP",
        "EESP",
        "conv-BN-act",
    ]
    assert [r["stride"] for r in rows] == [2, 1, 2, 2, 2, 1, 1]
    assert [r["repeats"] for r in rows] == [1, 1, 2, 1, 1, 2, 1]
    assert rows[1]["details"] == "kernel 3, expand 1, SE 0.25"
    # No squeeze-excite: not mentioned rather than "SE 0".
    assert rows[2]["details"] == "kernel 3/5/7, expand 6"
    assert rows[3]["details"] == "mid 96, kernel 5, SE 0.25"
    assert rows[4]["details"] == "RF limit 9"


def test_every_block_kind_has_a_readable_name():
    from tfeff.spec.kinds import registered_kinds

    for kind in registered_kinds():
        assert kind.title and kind.title != kind.name, kind.name


def test_bad_input_is_a_clear_error():
    # A name is not an arch string; the error says where variants are.
    with pytest.raises(ValueError, match="not_a_variant.*get_variant"):
        describe_arch("not_a_variant")
    with pytest.raises(TypeError):
        describe_arch(42)
