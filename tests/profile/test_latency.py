"""Latency of untrained networks: the int8 file must be one XNNPACK runs,
as a trained network's is, or the time measured is the wrong kernels'."""

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")

import tfeff  # noqa: E402
from tfeff.profile.latency import measure_model_latency  # noqa: E402
from tfeff.profile.latency import set_batch_norm_statistics  # noqa: E402


def test_batch_norm_statistics_come_from_the_images():
    model = tfeff.build_image_classifier(
        "stem_k3_s2_c8 | ghost_r2_k3_s2_m16_c16_se0.25 | head_k1_c32",
        num_classes=3,
        input_shape=(32, 32, 3),
    )
    images = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3))
    images = images.astype("float32")
    weights = [w.copy() for w in model.get_weights()]
    set_batch_norm_statistics(model, images)
    # Inference now computes what a training-mode pass on the same images
    # does (each batch norm keeps its batch's statistics).
    np.testing.assert_allclose(
        model(images, training=False),
        model(images, training=True),
        atol=1e-4,
    )
    changed = [
        not np.array_equal(a, b) for a, b in zip(weights, model.get_weights())
    ]
    assert any(changed)
    assert all(layer.momentum == 0.99 for layer in _bns(model))


def _bns(model):
    import keras

    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def test_an_untrained_ghostnet_is_timed_on_xnnpack():
    # With its initial statistics (mean 0, variance 1) GhostNet's activations
    # grew to 2e6 by 7x7, the int8 scales followed, and XNNPACK refused the
    # file ("failed to create XNNPACK runtime"): the search's latency check,
    # tfeff-profile --latency and benchmarks/tflite.py timed TFLite's
    # reference kernels, 62.9 ms against 2.7 ms (benchmarks/RESULTS.md).
    model = tfeff.create_model("ghostnet_050", weights=None)
    result = measure_model_latency(
        model, mode="int8", runs=2, details=True, untrained=True
    )
    assert result["xnnpack"], result
