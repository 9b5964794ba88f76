"""SavedModel and ONNX through Keras' exporter: files with the model's own
single input, written atomically, that compute what the Keras model does."""

import json
import os
import sys

import keras
import numpy as np
import pytest

import tfeff
from tests.quantize.test_qat import _smooth_images
from tfeff.data.synthetic import smooth_images
from tfeff.export.cli import main
from tfeff.export.formats import format_of
from tfeff.export.formats import to_onnx
from tfeff.export.formats import to_saved_model
from tfeff.export.tflite import verify
from tfeff.quantize import quantize_aware

tf = pytest.importorskip("tensorflow")
needs_onnx = pytest.mark.skipif(
    not all(
        __import__("importlib").util.find_spec(name)
        for name in ("tf2onnx", "onnx", "onnxruntime")
    ),
    reason="tfeff[onnx] not installed",
)

LABELS = ["ant", "bee", "cow", "doe", "elk"]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    # Logits, so that differences are not hidden by a softmax.
    return tfeff.create_model(
        "test_efficientnet_lite",
        input_shape=(64, 64, 3),
        num_classes=5,
        classifier_activation=None,
    )


def _tolerance(model, images):
    """Float32 reordering: 1e-4 relative to the logits' scale."""
    scale = float(np.abs(np.asarray(model(images, training=False))).max())
    return 1e-4 * max(1.0, scale)


@needs_onnx
def test_onnx_has_only_the_image_input_and_matches(model, tmp_path):
    import onnxruntime

    images = _smooth_images(6)
    path = to_onnx(model, tmp_path / "m.onnx", labels=LABELS)
    session = onnxruntime.InferenceSession(
        path, providers=["CPUExecutionProvider"]
    )
    # tf2onnx 1.17 made the stem Normalization's mean and variance two
    # more graph inputs; the file must need the image alone.
    (only,) = session.get_inputs()
    assert only.shape[1:] == [64, 64, 3]
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["labels"].split("\n") == LABELS
    assert meta["name"] == model.name
    figures = verify(path, model, images)
    assert figures["top1_agreement"] == 1.0 and figures["samples"] == 6
    assert figures["max_abs_diff"] < _tolerance(model, images)
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]  # no partial left


@needs_onnx
def test_the_model_is_unchanged_after_an_onnx_export(model, tmp_path):
    images = _smooth_images(2)
    before = np.asarray(model(images))
    to_onnx(model, tmp_path / "m.onnx")
    stem = model.get_layer("stem_normalization")
    assert not isinstance(stem.mean, np.ndarray)  # restored
    np.testing.assert_array_equal(np.asarray(model(images)), before)


@needs_onnx
def test_a_captured_tensor_input_is_refused_and_nothing_written(tmp_path):
    class AddsConstant(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.offset = keras.ops.convert_to_tensor(np.ones(3, "float32"))

        def call(self, x):
            return x + self.offset

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(AddsConstant()(inputs))
    odd = keras.Model(inputs, outputs, name="odd")
    with pytest.raises(ValueError, match="'odd' has 2 inputs.*has 1"):
        to_onnx(odd, tmp_path / "odd.onnx")
    assert os.listdir(tmp_path) == []


def test_saved_model_serves_what_the_model_computes(model, tmp_path):
    images = _smooth_images(6)
    path = tmp_path / "m_saved_model"
    path.mkdir()
    (path / "stale.txt").write_text("an older export")  # replaced whole
    to_saved_model(model, path, labels=LABELS)
    assert (path / "saved_model.pb").is_file()
    assert not (path / "stale.txt").exists()
    assert (path / "assets" / "labels.txt").read_text().split() == LABELS
    figures = verify(str(path), model, images)
    assert figures["top1_agreement"] == 1.0
    assert figures["max_abs_diff"] < _tolerance(model, images)
    assert sorted(os.listdir(tmp_path)) == ["m_saved_model"]


@pytest.mark.slow  # ~14 s (QAT calibration and two exports); --run-slow.
@needs_onnx
def test_a_quantization_aware_model_exports_to_both(tmp_path):
    keras.utils.set_random_seed(1)
    float_model = tfeff.create_model(
        "test_mobile_blocks", input_shape=(32, 32, 3), num_classes=4
    )
    images = smooth_images(8, size=32, seed=2)
    qat = quantize_aware(float_model, images)
    saved = verify(to_saved_model(qat, tmp_path / "q"), qat, images)
    assert saved["max_abs_diff"] < 1e-5  # the same TensorFlow ops
    onnx = verify(to_onnx(qat, tmp_path / "q.onnx"), qat, images)
    # ONNX's QuantizeLinear rounds half to even, TensorFlow's fake-quant
    # half up: a code may differ by one step, so the softmax outputs
    # differ a little, not the decisions.
    assert onnx["top1_agreement"] == 1.0 and onnx["max_abs_diff"] < 0.05


def test_unknown_export_paths_are_named(tmp_path):
    with pytest.raises(ValueError, match="Received: '.*model.pt'"):
        format_of(str(tmp_path / "model.pt"))
    with pytest.raises(ValueError, match="SavedModel folder"):
        format_of(str(tmp_path))  # a folder without saved_model.pb
    with pytest.raises(ValueError, match="`opset` must be an int >= 9"):
        to_onnx(None, tmp_path / "m.onnx", opset=3)


def _saved(model, tmp_path):
    path = tmp_path / "float.keras"
    model.save(path)
    return str(path)


@needs_onnx
@pytest.mark.parametrize("fmt", ["onnx", "saved_model"])
def test_cli_writes_and_verifies_each_format(model, tmp_path, capsys, fmt):
    model_path = _saved(model, tmp_path)
    out = tmp_path / "out"
    assert main([model_path, "--format", fmt, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / f"float_{fmt}_export.json").read_text())
    expected = out / ("float.onnx" if fmt == "onnx" else "float_saved_model")
    assert summary["path"] == str(expected) and expected.exists()
    assert summary["format"] == fmt
    assert summary["verification"]["top1_agreement"] == 1.0
    assert summary["verification"]["max_abs_diff"] < 1e-3
    assert f"Wrote {expected}" in printed and "Verification on 16" in printed


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--mode", "int8"], "--mode applies to --format tflite only"),
        (["--edgetpu", "--io-dtype", "int8"], "--io-dtype, --edgetpu applies"),
        (["--format", "pb"], "invalid choice: 'pb'"),
    ],
)
def test_tflite_options_with_another_format_exit_2(
    model, tmp_path, capsys, extra, message
):
    argv = [_saved(model, tmp_path)] + extra
    if "--format" not in extra:
        argv += ["--format", "saved_model"]
    with pytest.raises(SystemExit) as raised:
        main(argv)
    assert raised.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]  # argparse's usage first
    assert last.startswith("tfeff-export: error: ") and message in last
    assert sorted(os.listdir(tmp_path)) == ["float.keras"]


def test_onnx_without_its_packages_says_what_to_install(
    model, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import fails
    with pytest.raises(SystemExit) as raised:
        main([_saved(model, tmp_path), "--format", "onnx"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "missing: tf2onnx" in err and 'pip install "tfeff[onnx]"' in err
