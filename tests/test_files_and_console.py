"""Atomic `.keras` files without optimizer state, and TensorFlow's native
console output kept out of the way."""

import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest

from tfeff._console import native_output_captured
from tfeff.files import save_keras_atomically


def trained_model():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(64)(inputs))
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "mse")
    model.fit(np.ones((8, 4)), np.ones((8, 64)), verbose=0)
    return model


def weight_groups(path):
    import io

    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
        config = json.loads(archive.read("config.json"))
    with h5py.File(io.BytesIO(data)) as file:
        return set(file.keys()), config


def test_a_model_saved_without_optimizer_is_smaller_and_the_same(tmp_path):
    # Keras 3's clone_model recompiles the clone and builds its optimizer, so
    # the search's winner.keras carried its momentum buffers: 82 MB of which
    # 41 were optimizer state (issue 19).
    model = trained_model()
    bare, full = str(tmp_path / "bare.keras"), str(tmp_path / "full.keras")
    save_keras_atomically(model, bare, include_optimizer=False)
    save_keras_atomically(model, full)
    assert "optimizer" in weight_groups(full)[0]
    groups, config = weight_groups(bare)
    assert "optimizer" not in groups and not config.get("compile_config")
    assert os.path.getsize(bare) < os.path.getsize(full)
    loaded = keras.saving.load_model(bare)
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model(x))
    assert model.optimizer is not None  # The model saved is left alone.
    assert sorted(os.listdir(tmp_path)) == ["bare.keras", "full.keras"]
    # Not mkstemp's 0600: the file is shared like any other output.
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(bare).st_mode & 0o777 == 0o666 & ~umask


def test_native_output_is_dropped_unless_the_block_fails(capfd):
    with native_output_captured():
        os.write(2, b"I0000 a line from C++\n")
    assert "I0000" not in capfd.readouterr().err
    with pytest.raises(RuntimeError):
        with native_output_captured():
            os.write(2, b"E0000 why it failed\n")
            raise RuntimeError("conversion failed")
    # On failure the captured lines are shown: they usually say why.
    assert "E0000 why it failed" in capfd.readouterr().err


def test_verbose_shows_native_output(capfd, monkeypatch):
    monkeypatch.setenv("TFEFF_VERBOSE", "1")
    with native_output_captured():
        os.write(2, b"W0000 wanted\n")
    assert "W0000 wanted" in capfd.readouterr().err


def test_importing_tfeff_and_converting_print_nothing_of_tensorflow(tmp_path):
    # A fresh process: TensorFlow's start-up lines (oneDNN, cuInit, CPU
    # features) and the converter's (fully_quantize, absl's trackable_obj
    # warning) all went to the user's console before.
    code = (
        "import numpy as np, tfeff\n"
        "from tfeff.export import to_tflite\n"
        "m = tfeff.build_image_classifier('stem_k3_s2_c8 | head_k1_c16',"
        " num_classes=3, input_shape=(32, 32, 3))\n"
        f"to_tflite(m, {str(tmp_path / 'm.tflite')!r}, mode='int8',"
        " representative_data=np.ones((2, 32, 32, 3), 'float32'))\n"
        "from tfeff.profile import measure_tflite_latency\n"
        f"measure_tflite_latency({str(tmp_path / 'm.tflite')!r})\n"
        "print('done')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.pop("TFEFF_VERBOSE", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "done"
    assert result.stderr.strip() == "", result.stderr[-2000:]
