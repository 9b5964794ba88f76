"""Standard TFLite Model Metadata (issue 18, item 3): a classifier tfeff
exports carries its input image and normalization, its label file and
its name and version, so MediaPipe Tasks' ImageClassifier loads it as it
is and classifies as the file itself computes. Before, MediaPipe refused
the files (no normalization metadata for a float input)."""

import zipfile

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")

import tfeff  # noqa: E402
from tfeff.export.metadata import METADATA_BUFFER_NAME  # noqa: E402
from tfeff.export.metadata import read_labels  # noqa: E402
from tfeff.export.tflite import TFLiteRunner  # noqa: E402
from tfeff.export.tflite import read_metadata  # noqa: E402
from tfeff.export.tflite import to_tflite  # noqa: E402
from tfeff.quantize import quantize_aware  # noqa: E402

LABELS = ["cat", "dog", "emu", "yak"]


@pytest.fixture(scope="module")
def classifier():
    import keras

    keras.utils.set_random_seed(0)
    model = tfeff.create_model(
        "test_efficientnet", num_classes=4, input_shape=(64, 64, 3)
    )
    # Spread the untrained scores so that rankings are meaningful.
    head = model.get_layer("predictions")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 40, bias])
    images = np.random.default_rng(1).integers(0, 256, (6, 64, 64, 3))
    return model, images.astype("uint8")


def _metadata_buffer(path):
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    for entry in model.metadata:
        name = (
            entry.name.decode() if isinstance(entry.name, bytes) else entry.name
        )
        if name == METADATA_BUFFER_NAME:
            return bytes(np.asarray(model.buffers[entry.buffer].data, np.uint8))
    return None


def test_a_classifier_file_carries_standard_metadata_and_labels(
    classifier, tmp_path
):
    model, _ = classifier
    path = tmp_path / "model.tflite"
    to_tflite(model, path, labels=LABELS, version="3")
    buffer = _metadata_buffer(path)
    assert buffer is not None and buffer[4:8] == b"M001"  # file identifier
    for text in (b"1.0.0", b"test_efficientnet", b"labels.txt", b"3"):
        assert text in buffer
    assert read_labels(path) == LABELS
    assert zipfile.is_zipfile(path)  # the label file, appended
    assert read_metadata(path)["mode"] == "float32"  # tfeff's own, kept


def test_labels_are_checked_before_converting(classifier, tmp_path):
    model, _ = classifier
    with pytest.raises(ValueError, match="each of the model's 4 classes"):
        to_tflite(model, tmp_path / "m.tflite", labels=["a", "b"])
    with pytest.raises(TypeError, match="list of class names"):
        to_tflite(model, tmp_path / "m.tflite", labels="abcd")
    with pytest.raises(ValueError, match="single lines"):
        to_tflite(model, tmp_path / "m.tflite", labels=["a", "b", "", "d"])


@pytest.mark.parametrize(
    "mode, io_dtype", [("float32", "float32"), ("int8", "float32"),
                       ("int8", "uint8")],
)  # fmt: skip
def test_mediapipe_image_classifier_loads_and_agrees(
    classifier, tmp_path, mode, io_dtype
):
    vision = pytest.importorskip("mediapipe.tasks.python.vision")
    import mediapipe
    from mediapipe.tasks.python.core.base_options import BaseOptions

    model, images = classifier
    if mode == "int8":
        model = quantize_aware(model, images.astype("float32"))
    path = str(tmp_path / f"{mode}_{io_dtype}.tflite")
    to_tflite(model, path, mode=mode, io_dtype=io_dtype, labels=LABELS)
    ours = TFLiteRunner(path)(images.astype("float32"))
    options = vision.ImageClassifierOptions(
        base_options=BaseOptions(model_asset_path=path), max_results=4
    )
    with vision.ImageClassifier.create_from_options(options) as classifier:
        for image, expected in zip(images, ours):
            result = classifier.classify(
                mediapipe.Image(
                    image_format=mediapipe.ImageFormat.SRGB, data=image
                )
            )
            categories = result.classifications[0].categories
            assert categories[0].index == int(np.argmax(expected))
            assert all(c.category_name == LABELS[c.index] for c in categories)
            scores = np.zeros(4)
            for c in categories:
                scores[c.index] = c.score
            np.testing.assert_allclose(scores, expected, atol=1e-5)
