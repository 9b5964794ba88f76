"""Shared test helpers."""

import keras
import numpy as np


def trainable_count(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def random_images(shape, seed=0):
    return (
        np.random.default_rng(seed)
        .uniform(0, 255, size=shape)
        .astype("float32")
    )


def run_layer_roundtrip(layer, inputs, tmp_path):
    """The public-layer contract: config round-trip, serialization, `.keras`."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(restored) is type(layer) and restored.get_config() == config

    if isinstance(inputs, list):
        model_inputs = [keras.Input(shape=x.shape[1:]) for x in inputs]
    else:
        model_inputs = keras.Input(shape=inputs.shape[1:])
    model = keras.Model(model_inputs, layer(model_inputs))
    expected = model.predict(inputs, verbose=0)
    path = tmp_path / "layer.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(inputs, verbose=0), expected, rtol=1e-5, atol=1e-5
    )
    return model


def can_mount_tmpfs():
    """Whether this process can mount a small tmpfs in its own user and
    mount namespace (`unshare -rm`): the full-disk tests' filesystem."""
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0
