"""tfeff-export: a saved model and a folder of images in, files and figures out."""

import json
import os

import keras
import numpy as np
import pytest

import tfeff
from tests.quantize.test_qat import _smooth_images
from tfeff.export.cli import main
from tfeff.quantize import quantize_aware

pytest.importorskip("ai_edge_litert")
tf = pytest.importorskip("tensorflow")


def _save_model(tmp_path, qat=False):
    keras.utils.set_random_seed(0)
    model = tfeff.create_model(
        "test_efficientnet_lite", input_shape=(64, 64, 3), num_classes=5
    )
    if qat:
        model = quantize_aware(model, _smooth_images(8))
    path = tmp_path / ("qat.keras" if qat else "float.keras")
    model.save(path)
    return path


def _write_images(folder, count):
    """PNG files at another size than the model's, in class sub-folders."""
    for index, image in enumerate(_smooth_images(count, seed=1)):
        sub = folder / f"class_{index % 2}"
        sub.mkdir(parents=True, exist_ok=True)
        small = tf.image.resize(image, (48, 40)).numpy().astype("uint8")
        (sub / f"{index}.png").write_bytes(tf.io.encode_png(small).numpy())
    (folder / "notes.txt").write_text("not an image")


def test_int8_with_representative_images_and_edgetpu(tmp_path, capsys):
    model_path = _save_model(tmp_path)
    images = tmp_path / "images"
    _write_images(images, 12)
    out = tmp_path / "out"
    argv = [str(model_path), "--mode", "int8", "--io-dtype", "int8"]
    argv += ["--representative-data", str(images), "--edgetpu"]
    assert main(argv + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    tflite = out / "float_int8.tflite"
    assert f"{os.path.getsize(tflite) / 1e6:.2f} MB" in printed
    assert "Verification on 12 representative images" in printed
    assert "EdgeTPU report for float_int8.tflite" in printed  # Reused as is.
    summary = json.loads((out / "float_int8_export.json").read_text())
    assert summary["mode"] == "int8" and summary["io_dtype"] == "int8"
    assert summary["verification"]["samples"] == 12
    # Calibrated on the same images it is checked on: the int8 model
    # agrees with the float one (softmax outputs within 0.1).
    assert summary["verification"]["max_abs_diff"] < 0.1
    assert summary["edgetpu"]["all_mapped"]  # Lite: ReLU6, no SE.
    assert (out / "float_edgetpu" / "edgetpu_report.json").is_file()
    assert not [p for p in out.rglob("*.partial")]


def test_qat_model_defaults_to_int8_and_needs_no_data(tmp_path, capsys):
    model_path = _save_model(tmp_path, qat=True)
    assert main([str(model_path)]) == 0
    printed = capsys.readouterr().out
    assert "(int8, float32 IO)" in printed
    assert "smooth random images" in printed
    summary = json.loads((tmp_path / "qat_int8_export.json").read_text())
    assert summary["quantization_aware"] is True
    assert summary["verification"]["max_abs_diff"] <= 8 / 256


def test_float_default_mode(tmp_path, capsys):
    model_path = _save_model(tmp_path)
    assert main([str(model_path), "--out", str(tmp_path / "f")]) == 0
    assert "(float32, float32 IO)" in capsys.readouterr().out
    summary = json.loads(
        (tmp_path / "f" / "float_float32_export.json").read_text()
    )
    assert summary["verification"]["top1_agreement"] == 1.0
    assert summary["verification"]["max_abs_diff"] < 1e-4


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--mode", "int8"], "needs --representative-data"),
        (["--edgetpu"], "needs --representative-data"),
        (["--representative-data", "/no/such/dir"], "must be a folder"),
        (["--samples", "0"], "--samples must be >= 1"),
        (["--mode", "int4"], "invalid choice: 'int4'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys, extra, message):
    model_path = _save_model(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([str(model_path)] + extra)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_model_and_empty_image_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nothing.keras")])
    assert "MODEL must be a .keras file" in capsys.readouterr().err
    model_path = _save_model(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        main(
            [str(model_path), "--representative-data", str(tmp_path / "empty")]
        )
    assert "No images" in capsys.readouterr().err


def test_image_loader_reads_any_depth_in_order(tmp_path):
    from tfeff.export.cli import load_images

    _write_images(tmp_path, 5)
    images = load_images(str(tmp_path), (64, 64, 3), limit=4)
    assert images.shape == (4, 64, 64, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 255


def test_labels_file_is_packed_with_the_standard_metadata(tmp_path, capsys):
    from tfeff.export.metadata import read_labels

    model_path = _save_model(tmp_path)
    labels = tmp_path / "labels.txt"
    labels.write_text("ant\nbee\ncow\ndoe\nelk\n")
    out = tmp_path / "f"
    assert (
        main([str(model_path), "--out", str(out), "--labels", str(labels)]) == 0
    )
    assert read_labels(out / "float_float32.tflite") == [
        "ant", "bee", "cow", "doe", "elk",
    ]  # fmt: skip
    labels.write_text("ant\nbee\n")
    with pytest.raises(SystemExit) as raised:
        main([str(model_path), "--out", str(out), "--labels", str(labels)])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "each of the model's 5 classes. Received 2 labels" in err
    assert err.count("\n") == 1
