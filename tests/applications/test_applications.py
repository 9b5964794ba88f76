"""keras.applications-style constructors: arguments, shapes, errors."""

import keras
import numpy as np
import pytest

import tfeff
from tests.harness import random_images

SMALL = dict(channel_multiplier=0.25, repeat_multiplier=0.25)


def test_b0_builds_with_summary(capsys):
    model = tfeff.applications.EfficientNetB0(weights=None)
    model.summary()
    assert "stem_conv" in capsys.readouterr().out
    assert tuple(model.input.shape) == (None, 224, 224, 3)
    assert tuple(model.output.shape) == (None, 1000)


@pytest.mark.parametrize(
    "pooling, shape",
    [(None, (2, 3, 2, 1280)), ("avg", (2, 1280)), ("max", (2, 1280))],
)
def test_include_top_false_pooling(pooling, shape):
    model = tfeff.applications.EfficientNetLite0(
        include_top=False,
        pooling=pooling,
        input_shape=(96, 64, 3),
        **{"repeat_multiplier": 0.25},
    )
    assert (
        model.predict(random_images((2, 96, 64, 3)), verbose=0).shape == shape
    )


@pytest.mark.parametrize("channels", [1, 4])
def test_one_and_four_channels(channels):
    model = tfeff.applications.EfficientNetB0(
        input_shape=(64, 64, channels), classes=5, **SMALL
    )
    out = model.predict(random_images((2, 64, 64, channels)), verbose=0)
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_input_tensor_and_classifier_activation():
    tensor = keras.Input((64, 48, 3))
    model = tfeff.applications.EfficientNetB1(
        input_tensor=tensor, classes=3, classifier_activation=None, **SMALL
    )
    assert model.inputs[0] is tensor
    out = model.predict(random_images((1, 64, 48, 3)), verbose=0)
    assert abs(out.sum() - 1.0) > 1e-3  # logits, not probabilities


def test_multipliers_change_the_model():
    small = tfeff.applications.EfficientNetB0(
        channel_multiplier=0.5, input_shape=(64, 64, 3)
    )
    assert small.arch.stem.filters == 16
    assert tfeff.estimate_cost(small.arch, 64, num_classes=1000).params == sum(
        int(np.prod(w.shape)) for w in small.trainable_weights
    )


def test_imagenet_with_other_classes_fetches_the_backbone_only(
    tmp_path, monkeypatch
):
    # A new head (issue 18): the no-top checkpoint is what is fetched (here
    # offline, so the one-line download error names it); the loading
    # itself is tested against timm in test_reference_equality.py.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="efficientnetb0_notop.h5"):
        tfeff.applications.EfficientNetB0(weights="imagenet", classes=10)


def test_imagenet_with_other_channels_is_an_error():
    with pytest.raises(ValueError, match=r"input_shape=\(224, 224, 1\)"):
        tfeff.applications.EfficientNetB0(
            weights="imagenet", input_shape=(224, 224, 1)
        )


def test_imagenet_where_none_is_published_says_how_to_load_a_path():
    # ESPNet-C's published encoders are Cityscapes', not ImageNet's.
    with pytest.raises(ValueError, match="espnet_c.*path"):
        tfeff.applications.ESPNetC(weights="imagenet")


def test_imagenet_only_at_the_published_multipliers():
    with pytest.raises(ValueError, match="published multipliers"):
        tfeff.applications.EfficientNetLite0(
            weights="imagenet", input_shape=(64, 64, 3), **SMALL
        )


def test_missing_weights_path_is_an_error():
    with pytest.raises(
        ValueError, match="not found. Received: weights='/no/such.keras'"
    ):
        tfeff.applications.EfficientNetB0(
            weights="/no/such.keras", input_shape=(64, 64, 3)
        )


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(pooling="mean"), "pooling='mean'"),
        (dict(input_shape=(64, 64)), "input_shape=(64, 64)"),
        (dict(input_shape=(16, 16, 3)), "total stride 32"),
        (dict(classes=0), "num_classes=0"),
        (dict(dropout_rate=1.5), "dropout_rate=1.5"),
        (dict(channel_multiplier=0), "channel_multiplier=0"),
        (dict(channel_multiplier=-1.0), "channel_multiplier=-1.0"),
    ],
)
def test_bad_arguments(kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as info:
        tfeff.applications.EfficientNetB0(**kwargs)
    assert argument in str(info.value)


def test_preprocess_input_is_identity_and_decode_checks_shape():
    x = np.array([[0.0, 255.0]])
    assert tfeff.applications.preprocess_input(x) is x
    with pytest.raises(ValueError, match=r"preds.shape=\(1, 10\)"):
        tfeff.applications.decode_predictions(np.zeros((1, 10)))


def test_decode_predictions_reads_the_class_index(tmp_path, monkeypatch):
    # Offline: put a class index file where keras' get_file finds it cached.
    import json

    import keras.src.applications.imagenet_utils as utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(utils, "CLASS_INDEX", None)
    monkeypatch.setattr(utils, "CLASS_INDEX_PATH", path.as_uri())
    monkeypatch.setattr(utils.file_utils, "get_file", lambda *a, **k: str(path))
    preds = np.zeros((1, 1000))
    preds[0, 7] = 0.9
    top = tfeff.applications.decode_predictions(preds, top=1)
    assert top[0][0][:2] == ("n00000007", "class_7")
