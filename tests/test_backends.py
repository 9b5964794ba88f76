"""Model code uses keras.layers/keras.ops only, so models run on JAX too."""

import importlib.util
import os
import subprocess
import sys

import pytest

SCRIPT = """
import keras, numpy as np, tfeff
assert keras.backend.backend() == "jax"
for name in tfeff.list_variants("test_*"):
    model = tfeff.create_model(name, num_classes=3)
    out = model.predict(np.random.rand(2, 64, 64, 3).astype("float32") * 255, verbose=0)
    assert out.shape == (2, 3) and np.isfinite(out).all(), name
    assert tfeff.profile.count_macs(model) == tfeff.estimate_cost(name, num_classes=3).macs
model.compile("adam", "sparse_categorical_crossentropy")
history = model.fit(np.random.rand(4, 64, 64, 3) * 255, np.arange(4) % 3, epochs=1, verbose=0)
assert np.isfinite(history.history["loss"]).all()
print("ok")
"""


@pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed"
)
def test_test_variants_build_predict_and_train_on_jax():
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
