"""`tfeff-train` (issue 18): a class-per-folder tree to a deployable int8
file in one command, resumable, refusing bad input before any training."""

import json
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from tfeff.train import cli

# Four classes of solid colours with noise: learnable in a few epochs.
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (40, 50, 220)}


def _tree(root, per_class=20, size=40):
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            noise = rng.integers(-40, 40, (size, size, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def _argv(data, out, *extra):
    return [
        "--model", "test_efficientnet_lite", "--weights", "none",
        "--data", f"folder:{data}", "--out", str(out), "--image-size", "32",
        "--epochs", "5", "--freeze-epochs", "1", "--qat-epochs", "1",
        "--batch-size", "8", "--learning-rate", "0.01", *extra,
    ]  # fmt: skip


def test_one_command_makes_a_verified_int8_file(tmp_path, capsys):
    data = _tree(tmp_path / "data")
    out = tmp_path / "run"
    assert cli.main(_argv(data, out)) == 0
    for name in (
        "config.json", "labels.txt", "model.keras", "model_int8.tflite",
        "verification.json", "confusion_matrix.png", "confusion_matrix.json",
        "frozen/history.png", "finetune/history.csv", "qat/model.keras",
    ):  # fmt: skip
        assert (out / name).is_file(), name
    result = json.loads((out / "verification.json").read_text())
    assert result["classes"] == ["blue", "green", "red"]
    assert result["validation_images"] == 12  # 0.2 of 20 per class
    print(
        f"\nfloat {result['float_val_accuracy']}, int8 {result['int8_val_accuracy']}"
    )
    assert result["int8_val_accuracy"] >= 2 / 3  # chance: 1/3
    assert (
        abs(result["int8_val_accuracy"] - result["float_val_accuracy"]) <= 2 / 9
    )
    with zipfile.ZipFile(out / "model_int8.tflite") as archive:
        assert archive.read("labels.txt").decode().split() == result["classes"]
    matrix = json.loads((out / "confusion_matrix.json").read_text())
    assert np.asarray(matrix["rows_true_columns_predicted"]).sum() == 12
    _mediapipe_classifies_as_verified(out, data, result)
    # Started again: every stage is kept, nothing retrains.
    capsys.readouterr()
    assert cli.main(_argv(data, out)) == 0
    said = capsys.readouterr().out
    assert "[frozen] done before, kept" in said
    assert "[finetune] done before, kept" in said
    # Another run into the same folder is refused, in one line.
    with pytest.raises(SystemExit) as raised:
        cli.main(_argv(data, out, "--seed", "3"))
    assert raised.value.code == 2
    assert "holds another fine-tuning run (it differs in ['seed'])" in (
        capsys.readouterr().err
    )


def _mediapipe_classifies_as_verified(out, data, result):
    """The issue's "done": MediaPipe's ImageClassifier loads the file as it
    is and classifies the validation images as verification.json says."""
    try:
        import mediapipe
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions
    except ImportError:
        return
    from tfeff.data import load_image_folder

    split = load_image_folder(str(data), 32, 0.2, seed=0)  # the run's split
    options = vision.ImageClassifierOptions(
        base_options=BaseOptions(
            model_asset_path=str(out / "model_int8.tflite")
        ),
        max_results=1,
    )
    right = 0
    with vision.ImageClassifier.create_from_options(options) as classifier:
        for image, label in zip(split.x_val, split.y_val):
            found = (
                classifier.classify(
                    mediapipe.Image(
                        image_format=mediapipe.ImageFormat.SRGB, data=image
                    )
                )
                .classifications[0]
                .categories[0]
            )
            assert found.category_name == result["classes"][found.index]
            right += found.index == label
    assert right / len(split.y_val) == result["int8_val_accuracy"]


def _fails(argv, capsys, message):
    with pytest.raises(SystemExit) as raised:
        cli.main(argv)
    assert raised.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # after any skipped files named
    assert last.startswith("tfeff-train: error: ") and message in last, err
    return err


def test_bad_input_is_refused_before_training(tmp_path, capsys):
    data = _tree(tmp_path / "data", per_class=3)
    out = tmp_path / "run"
    with pytest.raises(SystemExit):  # argparse's own usage error
        cli.main(_argv(data, out, "--export", "int4"))
    assert "invalid choice: 'int4'" in capsys.readouterr().err
    _fails(_argv(data, out, "--epochs", "0"), capsys, "`epochs` must be >= 1")
    _fails(_argv(data, out, "--image-size", "16"), capsys, "image_size")
    _fails(_argv(tmp_path / "nowhere", out), capsys, "class-per-folder tree")
    argv = _argv(data, out)
    argv[argv.index("--model") + 1] = "efficientnet_b9"
    _fails(argv, capsys, "Unknown variant 'efficientnet_b9'")
    argv = _argv(data, out)
    argv[argv.index("--weights") + 1] = str(tmp_path / "missing.keras")
    _fails(
        argv, capsys, "`weights` must be 'imagenet', 'none' or a weights file"
    )
    # A PyTorch file without torch installed: what to install, one line.
    (tmp_path / "ref.pth").write_bytes(b"PK\x03\x04")
    argv[argv.index("--weights") + 1] = str(tmp_path / "ref.pth")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "torch", None)
        _fails(argv, capsys, "needs PyTorch (pip install 'tfeff[torch]')")
    # A class with a single readable image cannot be split.
    for name in ("1.png", "2.png"):
        (data / "red" / name).write_bytes(b"broken")
    _fails(_argv(data, out), capsys, "'red' 1 of 3")
    assert not (out / "model.keras").exists()
    assert not (out / "config.json").exists()  # the folder is not claimed


@pytest.mark.slow  # ~40 s: a training process killed, then resumed.
def test_a_run_killed_mid_training_resumes(tmp_path):
    data = _tree(tmp_path / "data")
    out = tmp_path / "run"
    argv = _argv(data, out)
    argv[argv.index("--epochs") + 1] = "6"  # (5 by default here)
    command = [sys.executable, "-m", "tfeff.train.cli", *argv]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in process.stdout:  # kill once fine-tuning has a backup
        if "Epoch 3/6" in line:
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait()
    assert process.returncode == -9
    assert not (out / "finetune" / "model.keras").exists()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[frozen] done before, kept" in done.stdout
    assert "Epoch 3/6" in done.stdout and "Epoch 1/6" not in done.stdout
    with open(out / "finetune" / "history.json") as f:
        assert [row["epoch"] for row in json.load(f)] == list(range(6))
