"""Weights moved from the reference implementations give their outputs.

For each family, its default and smallest variant: the reference network
(timm, torchvision, efficientnet-pytorch, installed from the package index
with the `reference` extra) is built with seeded random weights and random
batch-norm statistics in a separate process (`reference_side.py`, which
says how), its state dict converted by `tfeff.weights`, and tfeff's logits
compared with the reference's on two noise images and a photograph:
max |difference| <= 1e-4 on logits of about +-2, and the same top-1.
`tfeff.weights.eval_transform` is checked against timm's and torchvision's
own evaluation transforms of that photograph.

Skipped when the reference packages are not installed
(`pip install -e ".[reference]"`; CI installs them).
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import tfeff

# (tfeff variant, checkpoint source): default and smallest per family.
CASES = [
    ("efficientnet_b0", "timm:tf_efficientnet_b0"),
    ("efficientnet_b0", "timm:efficientnet_b0"),
    ("efficientnet_b0", "efficientnet_pytorch:efficientnet-b0"),
    ("efficientnet_lite0", "timm:tf_efficientnet_lite0"),
    ("efficientnet_lite0", "timm:efficientnet_lite0"),
    ("mixnet_s", "timm:tf_mixnet_s"),
    ("mixnet_s", "timm:mixnet_s"),
    ("mixnet_m", "timm:tf_mixnet_m"),
    ("ghostnet_050", "timm:ghostnet_050"),
    ("ghostnet_100", "timm:ghostnet_100"),
    ("mobilenetv2_035", "timm:mobilenetv2_035"),
    ("mobilenetv2_100", "timm:mobilenetv2_100"),
    ("shufflenetv2_050", "torchvision:shufflenet_v2_x0_5"),
    ("shufflenetv2_100", "torchvision:shufflenet_v2_x1_0"),
]
HAVE_REFERENCES = all(
    importlib.util.find_spec(name)
    for name in ("torch", "timm", "torchvision", "efficientnet_pytorch")
)
pytestmark = pytest.mark.skipif(
    not HAVE_REFERENCES,
    reason="needs the reference extra (torch, timm, torchvision, "
    "efficientnet-pytorch)",
)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("references")
    script = os.path.join(os.path.dirname(__file__), "reference_side.py")
    subprocess.run(
        [sys.executable, script, str(folder)] + [s for _, s in CASES],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.mark.parametrize("variant, source", CASES)
def test_transferred_weights_give_the_reference_logits(
    references, variant, source
):
    stem = os.path.join(references, source.replace(":", "_"))
    expected = np.load(stem + ".npz")
    model = tfeff.create_model(
        variant,
        weights=stem + ".safetensors",
        source=source,
        classifier_activation=None,
    )
    logits = model.predict(expected["pixels"], verbose=0)
    assert np.abs(expected["logits"]).max() < 10  # Logits of about +-2.
    np.testing.assert_allclose(logits, expected["logits"], rtol=0, atol=1e-4)
    np.testing.assert_array_equal(
        logits.argmax(-1), expected["logits"].argmax(-1)
    )


def test_a_checkpoint_of_the_other_numerics_is_refused(references):
    # timm's PyTorch-trained mixnet_s into a model built with TensorFlow's
    # numerics (the variant's default, as tf_mixnet_s was trained).
    path = os.path.join(references, "timm_mixnet_s.safetensors")
    model = tfeff.create_model("mixnet_s")
    with pytest.raises(ValueError, match="numerics") as error:
        tfeff.weights.load(model, path, source="timm:mixnet_s")
    assert path in str(error.value)


def test_a_timm_checkpoint_without_its_source_is_refused(references):
    path = os.path.join(references, "timm_tf_mixnet_s.safetensors")
    with pytest.raises(ValueError, match="source='timm:") as error:
        tfeff.create_model("mixnet_s", weights=path)
    assert path in str(error.value)


def test_torchvision_and_efficientnet_pytorch_files_name_their_source(
    references,
):
    for variant, name in (
        ("shufflenetv2_050", "torchvision_shufflenet_v2_x0_5"),
        ("efficientnet_b0", "efficientnet_pytorch_efficientnet-b0"),
    ):
        model = tfeff.create_model(variant, classifier_activation=None)
        stem = os.path.join(references, name)
        tfeff.weights.load(model, stem + ".safetensors")
        expected = np.load(stem + ".npz")
        logits = model.predict(expected["pixels"], verbose=0)
        np.testing.assert_allclose(logits, expected["logits"], atol=1e-4)


@pytest.mark.parametrize(
    "key, timm_or_torchvision",
    [
        ("efficientnet_lite3.in1k", "tf_efficientnet_lite3.in1k"),
        ("mixnet_s.ft_in1k", "mixnet_s.ft_in1k"),
        ("shufflenetv2_150.tv_in1k", "shufflenetv2_150.tv_in1k"),
    ],
)
def test_eval_transform_is_the_references(references, key, timm_or_torchvision):
    from skimage import data

    expected = np.load(os.path.join(references, "eval_transforms.npz"))
    ours = tfeff.weights.eval_transform(key)(data.chelsea())
    theirs = expected[timm_or_torchvision]
    assert ours.shape == theirs.shape
    # The same PIL resize and crop; float32 rounding of x / (1/255) only.
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


@pytest.fixture
def lite0_imagenet(references, tmp_path, monkeypatch):
    """The catalog's tf_efficientnet_lite0 ImageNet entry pointed at the
    reference's file (random weights from timm, a real safetensors
    checkpoint; no network here). Returns the file's stem."""
    import dataclasses
    import hashlib

    from tfeff.weights.catalog import _CATALOG

    stem = os.path.join(references, "timm_tf_efficientnet_lite0")
    with open(stem + ".safetensors", "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    entry = dataclasses.replace(
        _CATALOG["efficientnet_lite0.in1k"],
        url="file://" + stem + ".safetensors",
        file_hash=digest,
        hash_algorithm="sha256",
    )
    monkeypatch.setitem(_CATALOG, "efficientnet_lite0.in1k", entry)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return stem


def test_imagenet_weights_with_new_classes_load_the_backbone(lite0_imagenet):
    # Transfer learning in one call (issue 18): weights="imagenet" with
    # classes=N loads the checkpoint into everything but the classifier,
    # which starts fresh.
    import keras

    stem = lite0_imagenet
    pixels = np.load(stem + ".npz")["pixels"]
    features = tfeff.create_model(
        "efficientnet_lite0", weights="imagenet", include_top=False,
        pooling="avg",
    ).predict(pixels, verbose=0)  # fmt: skip
    for model in (
        tfeff.create_model(
            "efficientnet_lite0", weights="imagenet", num_classes=5
        ),
        tfeff.applications.EfficientNetLite0(
            weights="imagenet", classes=5, classifier_activation=None
        ),
    ):
        assert model.output_shape == (None, 5)
        pooled = keras.Model(model.input, model.get_layer("head_pool").output)
        np.testing.assert_allclose(
            pooled.predict(pixels, verbose=0), features, rtol=0, atol=1e-5
        )
        kernel = model.get_layer("predictions").kernel.numpy()
        assert kernel.shape == (features.shape[-1], 5) and kernel.std() > 0


@pytest.mark.slow  # ~1 min: EfficientNet-Lite0 fine-tuned at 64 px.
def test_tfeff_train_fine_tunes_the_imagenet_backbone(lite0_imagenet, tmp_path):
    # `tfeff-train --weights imagenet` end to end (see lite0_imagenet).
    import json

    from tests.train.test_finetune import _tree
    from tfeff.train import cli

    data = _tree(tmp_path / "data")
    out = tmp_path / "run"
    argv = [
        "--model", "efficientnet_lite0", "--weights", "imagenet",
        "--data", str(data), "--out", str(out), "--image-size", "64",
        "--epochs", "1", "--freeze-epochs", "1", "--qat-epochs", "1",
        "--batch-size", "8",
    ]  # fmt: skip
    assert cli.main(argv) == 0
    result = json.loads((out / "verification.json").read_text())
    assert result["classes"] == ["blue", "green", "red"]
    assert result["int8_val_accuracy"] >= 2 / 3  # chance: 1/3


def test_a_checkpoint_file_with_other_classes_gives_a_new_head(references):
    # A reference checkpoint whose classifier is ImageNet's, for a 7-class
    # model: the backbone loads, the classifier is new (issue 18).
    import keras

    stem = os.path.join(references, "efficientnet_pytorch_efficientnet-b0")
    source = "efficientnet_pytorch:efficientnet-b0"
    pixels = np.load(stem + ".npz")["pixels"]
    full = tfeff.create_model(
        "efficientnet_b0", weights=stem + ".safetensors", source=source
    )
    new = tfeff.create_model(
        "efficientnet_b0", weights=stem + ".safetensors", source=source,
        num_classes=7,
    )  # fmt: skip
    assert new.output_shape == (None, 7)

    def pooled(model):
        head = keras.Model(model.input, model.get_layer("head_pool").output)
        return head.predict(pixels, verbose=0)

    np.testing.assert_array_equal(pooled(new), pooled(full))
    # Anything else that does not fit is still refused, naming both archs.
    with pytest.raises(ValueError, match="another family, width or depth"):
        tfeff.create_model(
            "efficientnet_b0", weights=stem + ".safetensors", source=source,
            num_classes=7, channel_multiplier=0.5,
        )  # fmt: skip
