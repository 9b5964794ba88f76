"""Weight loading, offline: every file here is written by the test itself."""

import dataclasses
import hashlib
import os
import pathlib

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

import tfeff
from tests.harness import random_images
from tfeff.weights import PretrainedWeights
from tfeff.weights.catalog import _CATALOG

TOLERANCE = 1e-4  # Max abs difference the issue allows on random input.


def _perturb(model, seed=0, keep=()):
    """Random but sane weights everywhere, so a wrong mapping shows."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.name in keep:
            continue
        new = []
        for w in layer.weights:
            value = np.asarray(w)
            if "variance" in w.path:
                value = rng.uniform(0.5, 1.5, value.shape)
            elif "count" in w.path:
                pass
            else:
                value = value + rng.normal(0, 0.05, value.shape)
            new.append(value.astype(value.dtype))
        if new:
            layer.set_weights(new)
            if hasattr(layer, "finalize_state"):
                layer.finalize_state()  # Normalization caches its statistics.
    return model


def _keras_b0(include_top=True, seed=0):
    model = keras.applications.EfficientNetB0(
        weights=None, include_top=include_top, classifier_activation=None
    )
    return _perturb(model, seed)


def _save_official_h5(model, path):
    # The layout of the keras.applications files: top-level `layer_names`
    # and one group per layer with `weight_names`.
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    return path


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def keras_b0_file(tmp_path_factory):
    model = _keras_b0()
    path = _save_official_h5(
        model, tmp_path_factory.mktemp("w") / "efficientnetb0.h5"
    )
    images = random_images((2, 224, 224, 3))
    return path, images, model.predict(images, verbose=0)


def test_keras_h5_from_path_equals_keras_applications(keras_b0_file):
    path, images, expected = keras_b0_file
    ours = tfeff.applications.EfficientNetB0(
        weights=str(path), classifier_activation=None
    )
    got = ours.predict(images, verbose=0)
    assert np.abs(got - expected).max() <= TOLERANCE


def test_keras_notop_h5(tmp_path):
    theirs = _keras_b0(include_top=False, seed=1)
    path = _save_official_h5(theirs, tmp_path / "efficientnetb0_notop.h5")
    ours = tfeff.applications.EfficientNetB0(
        include_top=False, weights=str(path), input_shape=(96, 128, 3)
    )
    images = random_images((1, 96, 128, 3))
    theirs_out = keras.Model(theirs.input, theirs.output).predict(
        images, verbose=0
    )
    assert (
        np.abs(ours.predict(images, verbose=0) - theirs_out).max() <= TOLERANCE
    )


def _file_entry(path, tag="test", file_hash=None):
    """A catalog entry for a local file, served by a file:// URL."""
    return PretrainedWeights(
        variant="efficientnet_b0",
        tag=tag,
        url=path.as_uri(),
        file_hash=file_hash or _sha256(path),
        format="keras_h5",
    )


def test_file_url_with_hash(keras_b0_file, tmp_path):
    path, images, expected = keras_b0_file
    entry = _file_entry(path)
    model = tfeff.applications.EfficientNetB0(classifier_activation=None)
    tfeff.weights.load(model, entry, cache_dir=str(tmp_path))
    assert (
        np.abs(model.predict(images, verbose=0) - expected).max() <= TOLERANCE
    )
    bad = _file_entry(path, tag="bad", file_hash="0" * 64)
    with pytest.raises(ValueError, match="hash"):
        tfeff.weights.load(model, bad, cache_dir=str(tmp_path / "other"))


def test_download_returns_the_cached_path(keras_b0_file, tmp_path):
    path, _, _ = keras_b0_file
    entry = _file_entry(path)
    local = tfeff.weights.download(entry, cache_dir=str(tmp_path))
    assert local == str(tmp_path / "models" / entry.file_name)
    assert _sha256(pathlib.Path(local)) == entry.file_hash
    # Fetched once: a second call finds the file by its hash.
    path.rename(path.with_suffix(".moved"))
    try:
        assert tfeff.weights.download(entry, cache_dir=str(tmp_path)) == local
    finally:
        path.with_suffix(".moved").rename(path)
    with pytest.raises(ValueError, match="espnetv2_100"):
        tfeff.weights.download("espnetv2_100")
    with pytest.raises(TypeError, match="entry=3"):
        tfeff.weights.download(3)


def test_imagenet_folds_keras_std_fix(tmp_path, monkeypatch):
    # keras.applications stores the ImageNet std in the Normalization
    # "variance" slot and, for weights="imagenet" only, adds
    # Rescaling(1/sqrt(std)) (efficientnet.py; tensorflow/tensorflow#49930).
    # Emulate such a file and check weights="imagenet" reproduces that math.
    std = np.array([0.229, 0.224, 0.225], "float32")
    theirs = _keras_b0(seed=2)
    norm = next(
        layer
        for layer in theirs.layers
        if isinstance(layer, keras.layers.Normalization)
    )
    norm.set_weights(
        [np.array([0.485, 0.456, 0.406], "float32"), std, np.array(0)]
    )
    path = _save_official_h5(theirs, tmp_path / "efficientnetb0.h5")
    # Keras' imagenet graph: (x/255 - mean) / sqrt(std) * 1/sqrt(std).
    norm.set_weights(
        [np.array([0.485, 0.456, 0.406], "float32"), std * std, np.array(0)]
    )
    norm.finalize_state()
    images = random_images((1, 224, 224, 3))
    expected = theirs.predict(images, verbose=0)
    entry = PretrainedWeights(
        variant="efficientnet_b0",
        tag="keras_in1k",
        url=path.as_uri(),
        file_hash=_sha256(path),
        format="keras_h5",
        stores_std_as_variance=True,
        default=True,
    )
    monkeypatch.setitem(_CATALOG, "efficientnet_b0.keras_in1k", entry)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    ours = tfeff.applications.EfficientNetB0(
        weights="imagenet", classifier_activation=None
    )
    assert np.abs(ours.predict(images, verbose=0) - expected).max() <= TOLERANCE


def test_catalog_has_official_urls_and_hashes():
    entry = tfeff.weights.get_weights("efficientnet_b0.keras_in1k")
    assert (
        entry.url
        == "https://storage.googleapis.com/keras-applications/efficientnetb0.h5"
    )
    assert (
        entry.file_hash == "902e53a9f72be733fc0bcb005b3ebbac"
    )  # keras WEIGHTS_HASHES["b0"]
    # keras.applications B0-B7 and MobileNetV2 x6 (top and notop), 16 timm
    # files, 4 torchvision, EdgeNets' 5 ESPNetv2, 8 DiCENet files and its
    # ShuffleNetV2 0.5x, IGCV3's MXNet file.
    assert len(tfeff.weights.list_weights()) == 16 + 12 + 16 + 4 + 5 + 8 + 1 + 1


def test_shape_mismatch_names_layer_and_shapes(keras_b0_file):
    path, _, _ = keras_b0_file
    with pytest.raises(ValueError) as info:
        tfeff.applications.EfficientNetB0(
            weights=str(path), channel_multiplier=0.5
        )
    message = str(info.value)
    assert (
        "'stem_conv'" in message
        and "(3, 3, 3, 16)" in message
        and "(3, 3, 3, 32)" in message
    )


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_our_own_files(tmp_path, suffix):
    model = _perturb(
        tfeff.create_model("test_efficientnet", num_classes=4), seed=3
    )
    path = tmp_path / f"model{suffix}"
    model.save(path) if suffix == ".keras" else model.save_weights(path)
    images = random_images((2, 64, 64, 3))
    loaded = tfeff.create_model(
        "test_efficientnet", num_classes=4, weights=str(path)
    )
    np.testing.assert_allclose(
        loaded.predict(images, verbose=0),
        model.predict(images, verbose=0),
        atol=1e-6,
    )


# Issue 20: a file that exists but is text or cut short is named, with what
# was expected (before: "File not found" for a .keras, h5py's and
# safetensors' own words without the path, torch's pickling advice).
BAD_FILES = [
    ("model.keras", "text", "is not a .keras archive"),
    ("model.keras", "truncated", "is not a .keras archive"),
    ("model.h5", "text", "is not an HDF5 file"),
    ("model.weights.h5", "text", "is not an HDF5 file"),
    ("model.weights.h5", "truncated", "could not be read as keras_weights"),
    ("model.safetensors", "text", "is not a readable .safetensors file"),
    ("model.pth", "text", "is not a readable PyTorch checkpoint"),
]


@pytest.mark.parametrize("name, damage, words", BAD_FILES)
def test_unreadable_files_are_errors_naming_the_file(
    name, damage, words, tmp_path
):
    if name.endswith(".pth"):
        pytest.importorskip("torch")
    model = tfeff.create_model("test_efficientnet", num_classes=4)
    path = tmp_path / name
    if damage == "text":
        path.write_text("not a model")
    else:
        whole = tmp_path / f"whole{name[len('model') :]}"
        model.save(whole) if name.endswith(".keras") else model.save_weights(
            whole
        )
        data = whole.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    references = (".safetensors", ".pth")
    source = (
        {"source": "timm:tf_efficientnet_b0"}
        if name.endswith(references)
        else {}
    )
    with pytest.raises(ValueError, match=words) as error:
        tfeff.weights.load(model, str(path), **source)
    assert str(path) in str(error.value)


def test_unknown_file_type(tmp_path):
    path = tmp_path / "weights.bin.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match="Unknown weights file type"):
        tfeff.create_model("test_efficientnet", weights=str(path))


# --- PyTorch namings --------------------------------------------------------------

# PyTorch checkpoints hold no input normalization: the model keeps its own.
PYTORCH_FREE_LAYERS = ("stem_normalization",)


def _torch_conv(w):
    return np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))


def _torch_dw(w):
    return np.ascontiguousarray(np.transpose(w, (2, 3, 0, 1)))


def _torch_bn(layer, prefix, state):
    gamma, beta, mean, var = layer.get_weights()
    state.update(
        {
            f"{prefix}.weight": gamma,
            f"{prefix}.bias": beta,
            f"{prefix}.running_mean": mean,
            f"{prefix}.running_var": var,
            f"{prefix}.num_batches_tracked": np.array(0),
        }
    )


def _state_dict(model, naming):
    """A state dict as efficientnet-pytorch or timm would write it."""
    get = model.get_layer
    state = {}
    stem, stem_bn = (
        ("_conv_stem", "_bn0")
        if naming == "efficientnet_pytorch"
        else ("conv_stem", "bn1")
    )
    state[f"{stem}.weight"] = _torch_conv(get("stem_conv").get_weights()[0])
    _torch_bn(get("stem_bn"), stem_bn, state)
    n = 0
    for stage, block in enumerate(model.arch.blocks, start=1):
        for j in range(block.repeats):
            name = f"stage{stage}_block{j + 1}"
            expand = block.expand_ratio != 1
            if naming == "efficientnet_pytorch":
                p = f"_blocks.{n}."
                parts = {
                    "expand_conv": "_expand_conv",
                    "expand_bn": "_bn0",
                    "dw_conv": "_depthwise_conv",
                    "dw_bn": "_bn1",
                    "se_reduce": "_se_reduce",
                    "se_expand": "_se_expand",
                    "project_conv": "_project_conv",
                    "project_bn": "_bn2",
                }
            else:
                p = f"blocks.{stage - 1}.{j}."
                parts = (
                    {
                        "expand_conv": "conv_pw",
                        "expand_bn": "bn1",
                        "dw_conv": "conv_dw",
                        "dw_bn": "bn2",
                        "project_conv": "conv_pwl",
                        "project_bn": "bn3",
                    }
                    if expand
                    else {
                        "dw_conv": "conv_dw",
                        "dw_bn": "bn1",
                        "project_conv": "conv_pw",
                        "project_bn": "bn2",
                    }
                )
                parts.update(
                    se_reduce="se.conv_reduce", se_expand="se.conv_expand"
                )
            for part, torch_name in parts.items():
                if part.startswith("expand") and not expand:
                    continue
                layer = get(f"{name}_{part}")
                if part.endswith("bn"):
                    _torch_bn(layer, p + torch_name, state)
                elif part == "dw_conv":
                    state[p + torch_name + ".weight"] = _torch_dw(
                        layer.get_weights()[0]
                    )
                else:
                    weights = layer.get_weights()
                    state[p + torch_name + ".weight"] = _torch_conv(weights[0])
                    if len(weights) > 1:
                        state[p + torch_name + ".bias"] = weights[1]
            n += 1
    head, head_bn, fc = (
        ("_conv_head", "_bn1", "_fc")
        if naming == "efficientnet_pytorch"
        else ("conv_head", "bn2", "classifier")
    )
    state[f"{head}.weight"] = _torch_conv(get("head_conv").get_weights()[0])
    _torch_bn(get("head_bn"), head_bn, state)
    kernel, bias = get("predictions").get_weights()
    state[f"{fc}.weight"] = np.ascontiguousarray(kernel.T)
    state[f"{fc}.bias"] = bias
    return state


def _source(naming):
    """The tiny variant's checkpoint as if `naming`'s reference wrote it."""
    return tfeff.weights.CheckpointSource(
        name=f"test:{naming}",
        variant="test_efficientnet",
        layout=naming if naming != "timm" else "timm_efficientnet",
        numerics=tfeff.spec.TF_NUMERICS,
    )


@pytest.mark.parametrize("naming", ["efficientnet_pytorch", "timm"])
def test_pytorch_safetensors_without_torch(naming, tmp_path):
    from safetensors.numpy import save_file

    source = _perturb(
        tfeff.create_model("test_efficientnet", num_classes=5),
        seed=4,
        keep=PYTORCH_FREE_LAYERS,
    )
    path = tmp_path / f"{naming}.safetensors"
    save_file(_state_dict(source, naming), str(path))
    loaded = tfeff.create_model(
        "test_efficientnet",
        num_classes=5,
        weights=str(path),
        source=_source(naming),
    )
    images = random_images((2, 64, 64, 3))
    diff = np.abs(
        loaded.predict(images, verbose=0) - source.predict(images, verbose=0)
    ).max()
    assert diff <= TOLERANCE
    # Headless model from a checkpoint with a classifier: the classifier is skipped.
    headless = tfeff.create_model(
        "test_efficientnet",
        include_top=False,
        weights=str(path),
        source=_source(naming),
    )
    assert headless.get_layer("stem_conv").get_weights()[0].shape == (
        3,
        3,
        3,
        8,
    )


def test_pytorch_pth_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    source = _perturb(
        tfeff.create_model("test_efficientnet", num_classes=5),
        seed=5,
        keep=PYTORCH_FREE_LAYERS,
    )
    state = {
        k: torch.from_numpy(np.array(v))
        for k, v in _state_dict(source, "timm").items()
    }
    path = tmp_path / "model.pth"
    torch.save({"state_dict": state}, path)
    loaded = tfeff.create_model(
        "test_efficientnet",
        num_classes=5,
        weights=str(path),
        source=_source("timm"),
    )
    images = random_images((1, 64, 64, 3))
    assert (
        np.abs(
            loaded.predict(images, verbose=0)
            - source.predict(images, verbose=0)
        ).max()
        <= TOLERANCE
    )


def test_pytorch_checkpoint_with_another_classifier_gives_a_new_head(tmp_path):
    # A 5-class checkpoint for a 6-class model: the backbone loads and the
    # classifier starts fresh (timm's pretrained=True, num_classes=N); it
    # was refused before transfer learning (issue 18).
    from safetensors.numpy import save_file

    source = tfeff.create_model("test_efficientnet", num_classes=5)
    path = tmp_path / "model.safetensors"
    save_file(_state_dict(source, "timm"), str(path))
    model = tfeff.create_model(
        "test_efficientnet", num_classes=6, weights=str(path),
        source=_source("timm"),
    )  # fmt: skip
    assert model.output_shape == (None, 6)
    for layer in source.layers:
        if layer.weights and layer.name != "predictions":
            for a, b in zip(
                layer.get_weights(), model.get_layer(layer.name).get_weights()
            ):  # (the normalization's std squared again: float rounding)
                np.testing.assert_allclose(a, b, rtol=1e-6)
    # Another architecture is still refused.
    with pytest.raises(ValueError, match="another family, width or depth"):
        tfeff.create_model(
            "test_efficientnet", num_classes=6, weights=str(path),
            source=_source("timm"), channel_multiplier=0.5,
        )  # fmt: skip


def _timm_like_file(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "model.safetensors"
    save_file({"conv_stem.weight": np.zeros((16, 3, 3, 3), "float32")}, path)
    return str(path)


@pytest.mark.parametrize(
    "variant, source, words",
    [
        # Another family, another width: refused before a tensor is read.
        ("ghostnet_100", "timm:tf_mixnet_s", "another family, width"),
        ("mixnet_m", "timm:tf_mixnet_s", "another family, width"),
    ],
)
def test_a_checkpoint_of_another_family_or_width_is_refused(
    tmp_path, variant, source, words
):
    path = _timm_like_file(tmp_path)
    model = tfeff.create_model(variant)
    with pytest.raises(ValueError, match=words) as error:
        tfeff.weights.load(model, path, source=source)
    assert path in str(error.value)


def test_a_checkpoint_of_the_other_numerics_is_refused_by_name(tmp_path):
    # mixnet_s is built with TensorFlow's numerics (tf_mixnet_s's);
    # timm's mixnet_s was trained in PyTorch.
    path = _timm_like_file(tmp_path)
    with pytest.raises(ValueError, match="PyTorch's .* numerics") as error:
        tfeff.weights.load(
            tfeff.create_model("mixnet_s"), path, source="timm:mixnet_s"
        )
    assert path in str(error.value)
    assert "source='timm:mixnet_s'" in str(error.value)


def test_a_timm_file_must_name_its_source(tmp_path):
    path = _timm_like_file(tmp_path)
    with pytest.raises(ValueError, match="tf_efficientnet_b0") as error:
        tfeff.create_model("efficientnet_b0", weights=path)
    assert path in str(error.value)


def test_bad_sources(tmp_path):
    path = _timm_like_file(tmp_path)
    with pytest.raises(ValueError, match="Unknown checkpoint source"):
        tfeff.create_model("mixnet_s", weights=path, source="timm:nope")
    with pytest.raises(ValueError, match="is tfeff variant 'mixnet_s'"):
        tfeff.create_model("mixnet_m", weights=path, source="timm:mixnet_s")
    with pytest.raises(ValueError, match="pass the file as `weights`"):
        tfeff.create_model("mixnet_s", source="timm:mixnet_s")
    with pytest.raises(TypeError, match="source"):
        tfeff.create_model("mixnet_s", weights=path, source=3)


def _entry(tmp_path, payload, file_hash, name="model-abcdef.pth"):
    path = tmp_path / name
    path.write_bytes(payload)
    return tfeff.weights.PretrainedWeights(
        variant="test_efficientnet",
        tag="test",
        url=path.as_uri(),
        file_hash=file_hash,
        format="pth",
        hash_source="test",
    )


def test_download_checks_a_hash_prefix_and_writes_atomically(tmp_path):
    import hashlib

    payload = b"weights" * 100
    digest = hashlib.sha256(payload).hexdigest()
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = _entry(tmp_path, payload, digest[:10])
    path = tfeff.weights.download(entry, cache_dir=str(cache))
    assert open(path, "rb").read() == payload
    assert sorted(os.listdir(cache / "models")) == ["model-abcdef.pth"]
    bad = _entry(tmp_path, payload, "0" * 10)
    (cache / "models" / "model-abcdef.pth").unlink()
    with pytest.raises(ValueError, match="catalog expects 0000000000") as e:
        tfeff.weights.download(bad, cache_dir=str(cache))
    assert os.listdir(cache / "models") == []  # Nothing half-kept.
    # The error names where the file came from and where it was to go.
    assert bad.url in str(e.value)
    assert str(cache / "models" / "model-abcdef.pth") in str(e.value)


def test_an_unwritable_cache_is_an_error_naming_the_folder(tmp_path):
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "models").write_text("a file where a folder goes")
    entry = _entry(tmp_path, b"x", None)
    with pytest.raises(ValueError, match="Cannot make the weights cache"):
        tfeff.weights.download(entry, cache_dir=str(tmp_path / "cache"))


def test_download_offline_is_one_line_naming_the_url(tmp_path):
    entry = dataclasses.replace(
        _entry(tmp_path, b"x", None),
        url=(tmp_path / "missing.pth").as_uri(),
        source="torchvision:shufflenet_v2_x0_5",
    )
    with pytest.raises(ValueError) as error:
        tfeff.weights.download(entry, cache_dir=str(tmp_path))
    message = str(error.value)
    assert "\n" not in message and entry.url in message
    assert "weights='/path/to/missing.pth'" in message
    assert "source='torchvision:shufflenet_v2_x0_5'" in message
    with pytest.raises(ValueError, match="cache_dir"):
        tfeff.weights.download(entry, cache_dir=str(tmp_path / "nope"))


def test_catalog_entries_say_where_their_hash_comes_from():
    for key in tfeff.weights.list_weights():
        entry = tfeff.weights.get_weights(key)
        assert entry.hash_source, key
        assert entry.url.startswith("https://"), key
        if entry.format in ("safetensors", "pth"):
            source = tfeff.weights.get_source(entry.source)
            assert source.variant == entry.variant, key
            assert tuple(entry.mean) == tuple(source.mean), key
        assert entry.top1 is None or 40 < entry.top1 < 90, key
    # torchvision's file names carry the sha256 prefix it checks.
    entry = tfeff.weights.get_weights("shufflenetv2_100.tv_in1k")
    assert entry.file_hash == "5666bf0f80"


def test_pretrained_models_and_tags():
    pretrained = tfeff.applications.list_models(pretrained=True)
    for name in (
        "efficientnet_b0",
        "efficientnet_lite0",
        "mixnet_s",
        "ghostnet_100",
        "shufflenetv2_050",
    ):
        assert name in pretrained
    assert "espnetv2_100" in pretrained and "dicenet_020" in pretrained
    assert "igcv3_d" in pretrained  # homles11/IGCV3's MXNet file.
    assert "espnet_c" not in pretrained  # Its encoders are Cityscapes'.
    # PyTorch-trained tags build the model with PyTorch's numerics.
    from tfeff.models.create import _checkpoint_numerics

    assert _checkpoint_numerics("mixnet_s", "imagenet:ft_in1k", None) == (
        tfeff.spec.TORCH_NUMERICS
    )
    assert _checkpoint_numerics("mixnet_s", "imagenet", None) == (
        tfeff.spec.TF_NUMERICS
    )
    with pytest.raises(ValueError, match="tags: \\['ft_in1k', 'in1k'\\]"):
        tfeff.create_model("mixnet_s", weights="imagenet:nope")
    assert _checkpoint_numerics("mobilenetv2_100", "imagenet", None) is None
    assert _checkpoint_numerics(
        "mobilenetv2_100", "imagenet:ra_in1k", None
    ) == (tfeff.spec.TORCH_NUMERICS)


def test_download_checks_git_blob_ids(tmp_path):
    # EdgeNets' files are pinned by the blob ids of the publisher's git
    # tree; `echo hello | git hash-object --stdin` names these bytes so.
    entry = dataclasses.replace(
        _entry(
            tmp_path, b"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"
        ),
        hash_algorithm="git-blob-sha1",
    )
    cache = tmp_path / "cache"
    cache.mkdir()
    assert (
        open(tfeff.weights.download(entry, cache_dir=str(cache)), "rb").read()
        == b"hello\n"
    )


@pytest.mark.parametrize(
    "alpha, variant", [(0.35, "mobilenetv2_035"), (1.0, "mobilenetv2_100")]
)
def test_keras_mobilenetv2_h5_equals_keras_applications(
    alpha, variant, tmp_path
):
    # keras.applications' MobileNetV2 with random weights and batch-norm
    # statistics, saved in its published files' layout; it takes
    # x / 127.5 - 1, tfeff [0, 255] pixels.
    theirs = _perturb(
        keras.applications.MobileNetV2(
            alpha=alpha, weights=None, classifier_activation=None
        ),
        seed=3,
    )
    path = _save_official_h5(theirs, tmp_path / "mobilenet_v2.h5")
    ours = tfeff.create_model(
        variant, weights=str(path), classifier_activation=None
    )
    images = random_images((2, 224, 224, 3))
    expected = theirs.predict(images / 127.5 - 1.0, verbose=0)
    diff = np.abs(ours.predict(images, verbose=0) - expected).max()
    assert diff <= TOLERANCE, diff
