"""The variant contract, over the tiny `test_*` variants; estimate = model
for every variant (B4-B7 behind --run-large).

Checks: notation round-trip, estimate_cost = built model (params exact, MACs
against count_macs), output shapes for 1/3/4 channels and a non-square input,
pyramid keys and strides, no NaN, identical outputs after `.keras` save/load,
and layer names from the vocabulary.
"""

import keras
import numpy as np
import pytest

import tfeff
from tests.contract import graph_manifest
from tests.harness import random_images
from tests.harness import trainable_count
from tfeff.blocks import LAYER_NAME_PATTERN
from tfeff.profile import count_macs
from tfeff.profile import estimate_cost

TEST_VARIANTS = tfeff.list_variants("test_*")
# Full-size variants build in about a second each; B4-B7 take longer.
LARGE = (
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
)
ALL_VARIANTS = [
    pytest.param(v, marks=pytest.mark.large) if v in LARGE else v
    for v in tfeff.applications.list_models()
]


def _check_variant(name):
    variant = tfeff.models.get_variant(name)
    spec = variant.resolved_arch()
    assert tfeff.decode_arch(tfeff.encode_arch(spec)) == spec
    model = tfeff.create_model(name)
    report = estimate_cost(name)
    assert trainable_count(model) == report.params
    macs = count_macs(model)
    assert abs(macs - report.macs) <= 0.01 * report.macs
    assert tfeff.encode_arch(model.arch) == report.arch
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        assert LAYER_NAME_PATTERN.match(layer.name), layer.name
    # Same graph as before the block-kind refactor (issue 21): layer names
    # and weights in order, parameters and MACs (graph_manifest.py).
    pinned = graph_manifest.load()["variants"][name]
    assert graph_manifest.fingerprint(model, macs) == pinned
    return model


@pytest.mark.parametrize("name", TEST_VARIANTS + ALL_VARIANTS)
def test_estimate_matches_model(name):
    _check_variant(name)


@pytest.mark.parametrize("name", TEST_VARIANTS)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_and_non_square_inputs(name, channels):
    model = tfeff.create_model(
        name, include_top=False, input_shape=(96, 64, channels)
    )
    out = model.predict(random_images((2, 96, 64, channels)), verbose=0)
    assert out.shape[:3] == (2, 3, 2)
    assert np.isfinite(out).all()
    assert (
        trainable_count(model)
        == estimate_cost(
            name, (96, 64), num_classes=None, in_channels=channels
        ).params
    )


@pytest.mark.parametrize("name", TEST_VARIANTS)
def test_pyramid_outputs_keys_and_strides(name):
    model = tfeff.create_model(name, include_top=False, input_shape=(64, 64, 3))
    assert sorted(model.pyramid_outputs) == ["P1", "P2", "P3", "P4", "P5"]
    for level, tensor in model.pyramid_outputs.items():
        assert tensor.shape[1] == 64 // 2 ** int(level[1:])
    features = keras.Model(model.inputs, model.pyramid_outputs)
    outputs = features.predict(random_images((1, 64, 64, 3)), verbose=0)
    assert all(np.isfinite(v).all() for v in outputs.values())


@pytest.mark.parametrize("name", TEST_VARIANTS)
def test_keras_save_load_gives_identical_outputs(name, tmp_path):
    model = tfeff.create_model(name, num_classes=7)
    images = random_images((2, 64, 64, 3))
    expected = model.predict(images, verbose=0)
    assert np.isfinite(expected).all()
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(images, verbose=0), expected, rtol=1e-5, atol=1e-6
    )
    assert tfeff.encode_arch(reloaded.arch) == tfeff.encode_arch(model.arch)
    assert type(reloaded) is type(model)
