"""quantize_aware / calibrate: structure, numerics, serialization."""

import keras
import numpy as np
import pytest

import tfeff
from tests.harness import random_images
from tests.harness import trainable_count
from tfeff.data.synthetic import smooth_images
from tfeff.quantize import ActivationQuantizer
from tfeff.quantize import FoldedConv
from tfeff.quantize import QuantizedModel
from tfeff.quantize import calibrate
from tfeff.quantize import quantize_aware
from tfeff.quantize import quantizers

VARIANTS = [
    "test_efficientnet",
    "test_efficientnet_lite",
    "test_mobile_blocks",
    "test_esp_dice",
    "test_all_blocks",
]


def _model(name, activation=None):
    keras.utils.set_random_seed(0)
    return tfeff.create_model(
        name,
        input_shape=(64, 64, 3),
        num_classes=5,
        classifier_activation=activation,
    )


def _smooth_images(count, seed=0):
    """Images with spatial structure (random noise makes every range huge)."""
    return smooth_images(count, size=64, seed=seed)


@pytest.mark.parametrize("name", VARIANTS)
def test_same_trainable_parameters_and_every_conv_folded(name):
    model = _model(name)
    qat = quantize_aware(model)
    assert isinstance(qat, QuantizedModel)
    # BN gamma/beta move into the folded convs: the count is unchanged.
    assert trainable_count(qat) == trainable_count(model)
    kinds = {type(layer).__name__ for layer in qat.layers}
    assert not kinds & {"Conv2D", "DepthwiseConv2D", "Dense"}
    assert any(isinstance(layer, FoldedConv) for layer in qat.layers)
    assert qat.arch == model.arch


@pytest.mark.parametrize(
    "name", ["test_efficientnet", "test_efficientnet_lite", "test_all_blocks"]
)
def test_calibrated_outputs_match_the_float_model(name):
    model = _model(name)
    images = _smooth_images(32)
    qat = quantize_aware(model, images)
    expected = model.predict(images, verbose=0)
    actual = qat.predict(images, verbose=0)
    # Stated tolerance, before any training: logits move by at most 8% and
    # on average 2% of their spread; measured 3.1-5.3% max and 0.8-1.3%
    # mean over these variants (8-bit weights and activations).
    spread = expected.max() - expected.min()
    error = np.abs(actual - expected)
    assert error.max() < 0.08 * spread
    assert error.mean() < 0.02 * spread
    # Untrained logits are near ties, so argmax agreement is the loose check.
    assert (actual.argmax(-1) == expected.argmax(-1)).mean() >= 0.8


def test_without_data_first_training_batch_sets_ranges():
    model = _model("test_efficientnet_lite")
    qat = quantize_aware(model)
    first = quantizers(qat)[0]
    assert float(first.observed) == 0.0
    assert float(first.range_max) == 6.0  # tfmot's default until data.
    images = _smooth_images(4)
    qat(images, training=True)
    assert float(first.observed) == 1.0
    # The input quantizer sees [0, 255] pixels.
    assert 200 < float(first.range_max) <= 255


def test_ranges_follow_an_ema_in_training():
    quantizer = ActivationQuantizer(ema_decay=0.5)
    quantizer(np.array([[0.0, 2.0]], "float32"), training=True)
    assert float(quantizer.range_max) == 2.0
    quantizer(np.array([[0.0, 4.0]], "float32"), training=True)
    assert float(quantizer.range_max) == pytest.approx(3.0)
    quantizer(np.array([[0.0, 100.0]], "float32"), training=False)
    assert float(quantizer.range_max) == pytest.approx(3.0)


def test_fit_trains_and_keras_round_trip(tmp_path):
    model = _model("test_efficientnet_lite", activation="softmax")
    images = _smooth_images(16)
    labels = np.arange(16) % 5
    qat = quantize_aware(model, images)
    qat.compile("adam", "sparse_categorical_crossentropy")
    before = qat.evaluate(images, labels, verbose=0)
    qat.fit(images, labels, epochs=3, batch_size=8, verbose=0)
    assert qat.evaluate(images, labels, verbose=0) < before
    path = tmp_path / "qat.keras"
    qat.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, QuantizedModel)
    np.testing.assert_allclose(
        restored.predict(images, verbose=0),
        qat.predict(images, verbose=0),
        atol=1e-6,
    )


def test_calibrate_wraps_a_float_model_and_resets_ranges():
    model = _model("test_efficientnet")
    images = random_images((4, 64, 64, 3))
    qat = calibrate(model, [images[:2], images[2:]])
    assert isinstance(qat, QuantizedModel)
    assert all(float(q.observed) == 1.0 for q in quantizers(qat))
    first = quantizers(qat)[0]
    calibrate(qat, images[:1] * 0.5)
    assert float(first.range_max) <= 128


def test_bad_inputs_are_clear_errors():
    model = _model("test_efficientnet")
    with pytest.raises(TypeError, match="already quantization-aware"):
        quantize_aware(quantize_aware(model))
    inner = keras.Sequential([keras.layers.Dense(2)])
    inputs = keras.Input((3,))
    nested = keras.Model(inputs, inner(inputs))
    with pytest.raises(TypeError, match="nested model"):
        quantize_aware(nested)
    with pytest.raises(TypeError, match="functional keras.Model"):
        quantize_aware("efficientnet_b0")
    with pytest.raises(ValueError, match="no batches"):
        calibrate(model, [])
