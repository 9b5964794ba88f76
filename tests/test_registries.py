"""Registries never overwrite silently: a duplicate name is a KeyError."""

import pytest

import tfeff
from tfeff.blocks import register_block
from tfeff.models import register_variant
from tfeff.weights import get_weights
from tfeff.weights import register_weights


def test_duplicate_variant():
    with pytest.raises(KeyError, match="efficientnet_b0"):
        register_variant(
            "efficientnet_b0",
            family="efficientnet",
            arch="stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8",
            scaling=tfeff.CompoundScaling(),
        )


def test_duplicate_block_kind():
    with pytest.raises(KeyError, match="mbconv"):
        register_block("mbconv")(lambda x, spec, **kwargs: x)


def test_duplicate_weights():
    with pytest.raises(KeyError, match="efficientnet_b0.keras_in1k"):
        register_weights(get_weights("efficientnet_b0.keras_in1k"))


def test_list_variants_globs():
    assert tfeff.list_variants("mixnet_*") == [
        "mixnet_l",
        "mixnet_m",
        "mixnet_s",
    ]
    assert tfeff.list_variants("no_such_*") == []
