"""Numerics (padding, batch-norm epsilon, average pools) are arch data."""

import dataclasses

import keras
import numpy as np
import pytest

import tfeff
from tfeff.spec import TF_NUMERICS
from tfeff.spec import TORCH_NUMERICS
from tfeff.spec import NumericsSpec

TINY = "stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16 | head_k1_c32"


def test_numerics_round_trip_and_default_left_out():
    spec = tfeff.decode_arch(f"numerics_padsym_eps1e-5_countpad | {TINY}")
    assert spec.numerics == TORCH_NUMERICS
    assert tfeff.encode_arch(spec).startswith(
        "numerics_padsym_eps1e-5_countpad | stem_"
    )
    assert tfeff.decode_arch(tfeff.encode_arch(spec)) == spec
    # TensorFlow's numerics are the default and are not written.
    plain = tfeff.decode_arch(TINY)
    assert plain.numerics == TF_NUMERICS
    assert "numerics" not in tfeff.encode_arch(plain)
    odd = tfeff.decode_arch(f"numerics_eps0.00025 | {TINY}")
    assert odd.numerics == NumericsSpec(bn_epsilon=0.00025)
    assert tfeff.decode_arch(tfeff.encode_arch(odd)) == odd


@pytest.mark.parametrize(
    "arch, words",
    [
        (f"numerics_padfoo | {TINY}", "expected one of"),
        (f"numerics_eps1.5 | {TINY}", "bn_epsilon"),
        (f"numerics_eps0 | {TINY}", "bn_epsilon"),
        (f"{TINY} | numerics_padsym", "in the middle"),
        ("numerics_padsym", "starts with a stem"),
        (f"numerics_padsym_padsame | {TINY}", "repeats a field"),
    ],
)
def test_bad_numerics_name_the_token(arch, words):
    with pytest.raises(ValueError, match=words):
        tfeff.decode_arch(arch)


def test_numerics_spec_checks_its_values():
    with pytest.raises(ValueError, match="padding"):
        NumericsSpec(padding="reflect")
    with pytest.raises(TypeError, match="count_include_pad"):
        NumericsSpec(count_include_pad=1)


@pytest.mark.parametrize(
    "name", ["test_all_blocks", "test_mobile_blocks", "test_esp_dice"]
)
@pytest.mark.parametrize("size", [64, 128])
def test_numerics_change_no_cost_and_no_weight(name, size):
    """The padding convention, batch-norm epsilon and pool padding change
    no weight and no MAC, but on maps smaller than a large depthwise
    kernel: there the pieces of the kernel that read only padding are left
    out (tfeff.spec.depthwise), and which they are depends on the padding
    at stride 2 (test_all_blocks at 64 px: its 7x7 MixConv group on a 4x4
    map). Builder and cost model agree under each convention."""
    spec = tfeff.models.get_variant(name).resolved_arch()
    costs, models = [], []
    for numerics in (TF_NUMERICS, TORCH_NUMERICS):
        changed = dataclasses.replace(spec, numerics=numerics)
        report = tfeff.estimate_cost(changed, size, num_classes=10)
        model = tfeff.build_image_classifier(
            changed, num_classes=10, input_shape=(size, size, 3)
        )
        assert model.count_params() == report.params + sum(
            int(np.prod(w.shape)) for w in model.non_trainable_weights
        )
        assert tfeff.profile.count_macs(model) == report.macs
        costs.append((report.params, report.macs))
        models.append(model)
    if name == "test_all_blocks" and size == 64:
        assert costs[0] != costs[1]  # the small-map exception
        return
    assert costs[0] == costs[1]
    weights = [[w.shape for w in m.weights] for m in models]
    assert weights[0] == weights[1]


def test_the_conventions_compute_differently_where_they_should():
    # Stride 2 on an even map: "SAME" pads after, PyTorch on both sides; the
    # batch-norm epsilon shows too. A model and its symmetric twin with the
    # same weights differ, and each equals its own reference layer.
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 3)).astype("float32")
    outputs = {}
    for numerics in (TF_NUMERICS, TORCH_NUMERICS):
        spec = dataclasses.replace(
            tfeff.decode_arch("stem_k3_s2_c4_nid"), numerics=numerics
        )
        model = tfeff.build_backbone(
            spec, input_shape=(8, 8, 3), mean=None, std=None
        )
        kernel = np.random.default_rng(1).normal(size=(3, 3, 3, 4))
        model.get_layer("stem_conv").set_weights([kernel.astype("float32")])
        outputs[numerics.padding] = model.predict(x, verbose=0)
        pads = ((0, 1), (0, 1)) if numerics.padding == "same" else ((1, 1),) * 2
        reference = keras.layers.Conv2D(4, 3, strides=2, use_bias=False)
        padded = np.pad(x, ((0, 0), *pads, (0, 0)))
        reference.build(padded.shape)
        reference.set_weights([kernel.astype("float32")])
        expected = np.asarray(reference(padded)) / np.sqrt(
            1.0 + numerics.bn_epsilon
        )
        np.testing.assert_allclose(
            outputs[numerics.padding], expected, atol=1e-5
        )
    assert np.abs(outputs["same"] - outputs["symmetric"]).max() > 0.1


def test_max_and_average_pools_follow_the_numerics():
    # PyTorch: MaxPool2d(3, 2, padding=1) pads with -inf; AvgPool2d(3, 2,
    # padding=1) counts the zeros. Checked against numpy on an even map.
    x = np.random.default_rng(2).normal(size=(1, 6, 6, 2)).astype("float32")
    spec = tfeff.decode_arch(
        "numerics_padsym_eps1e-5_countpad | stem_k1_c2_nid | maxpool_k3_s2"
    )
    model = tfeff.build_backbone(
        spec, input_shape=(6, 6, 2), mean=None, std=None
    )
    model.get_layer("stem_conv").set_weights(
        [np.eye(2)[None, None].astype("float32")]
    )
    bn = model.get_layer("stem_bn")
    bn.set_weights([np.ones(2), np.zeros(2), np.zeros(2), np.ones(2) - 1e-5])
    padded = np.pad(
        x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf
    )
    expected = np.stack(
        [
            np.stack(
                [
                    padded[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max((0, 1))
                    for j in range(3)
                ]
            )
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(
        model.predict(x, verbose=0)[0], expected, atol=1e-5
    )

    from tfeff.blocks.conv import average_pool
    from tfeff.blocks.conv import numerics_scope

    inputs = keras.Input((6, 6, 2))
    with numerics_scope(TORCH_NUMERICS):
        pooled = keras.Model(inputs, average_pool(inputs, 3, 2, "pool"))
    zeros = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    expected = np.stack(
        [
            np.stack(
                [
                    zeros[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].sum((0, 1))
                    / 9
                    for j in range(3)
                ]
            )
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(
        pooled.predict(x, verbose=0)[0], expected, atol=1e-5
    )
