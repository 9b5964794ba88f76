"""`load(model, weights)`: pretrained weights into a tfeff model."""

import hashlib
import os
import shutil
import urllib.request

import numpy as np

from tfeff.spec.notation import encode_arch
from tfeff.weights import converters
from tfeff.weights import readers
from tfeff.weights.catalog import PretrainedWeights
from tfeff.weights.catalog import find_weights
from tfeff.weights.catalog import no_imagenet_weights_error
from tfeff.weights.catalog import parse_imagenet_tag

# Layers a file may hold that a headless model lacks.
_CLASSIFIER_LAYERS = ("predictions",)


class ClassifierMismatchError(ValueError):
    """Every layer of a checkpoint fits the model but its classifier, which
    has another number of classes (a backbone for a new head). `classes`
    is the checkpoint's number of classes."""

    classes = None


# ImageNet std that keras.applications multiplies in when it loads its files
# (efficientnet.py: Rescaling(1/sqrt(std)) after Normalization, #49930).
_KERAS_IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def assign_named_weights(model, named, *, source):
    """Sets each layer's weights from `named[layer.name]`, checking shapes.

    Args:
        model: keras.Model.
        named: dict `{layer name: [arrays]}`.
        source: str. Described in error messages.

    Raises:
        ValueError: a layer is missing from the source, the source has a
            layer the model lacks, or shapes differ (naming the layer and
            both shapes).
    """
    layers = {layer.name: layer for layer in model.layers if layer.weights}
    missing = [name for name in layers if name not in named]
    if missing:
        raise ValueError(
            f"{source} has no weights for {len(missing)} layer(s) of model "
            f"{model.name!r}, first: {missing[:5]}. Is it the same "
            "architecture (variant, multipliers, include_top)?"
        )
    extra = [
        n for n in named if n not in layers and n not in _CLASSIFIER_LAYERS
    ]
    if extra:
        raise ValueError(
            f"{source} has weights for layer(s) that model {model.name!r} "
            f"lacks, first: {extra[:5]}."
        )
    mismatched = []
    for name, layer in layers.items():
        arrays = named[name]
        expected = [tuple(w.shape) for w in layer.weights]
        received = [tuple(np.shape(a)) for a in arrays]
        if expected != received:
            mismatched.append((name, expected, received))
    if mismatched:
        name, expected, received = mismatched[0]
        error = (
            ClassifierMismatchError
            if [m[0] for m in mismatched] == list(_CLASSIFIER_LAYERS)
            else ValueError
        )
        raised = error(
            f"Shape mismatch for layer {name!r}: the model has "
            f"{expected}, {source} has {received}."
        )
        if error is ClassifierMismatchError:
            raised.classes = received[0][-1]  # the file's kernel (in, out)
        raise raised
    for name, layer in layers.items():
        layer.set_weights(named[name])
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()  # Normalization caches mean/variance.


def _fold_keras_std(model):
    norm = model.get_layer("stem_normalization")
    variance = np.asarray(norm.adapt_variance)
    norm.adapt_variance.assign(
        variance * _KERAS_IMAGENET_STD[: variance.shape[0]]
    )
    norm.finalize_state()


def _has_classifier(model):
    return any(layer.name in _CLASSIFIER_LAYERS for layer in model.layers)


def _check_arch(model, entry):
    if entry.arch is not None and entry.arch != encode_arch(model.arch):
        raise ValueError(
            f"Weights {entry.key!r} were trained on arch {entry.arch!r}, but "
            f"the model's arch is {encode_arch(model.arch)!r}."
        )


def download(entry, *, cache_dir=None):
    """Fetches a catalogued weights file once (hash-checked); its local path.

    Args:
        entry: PretrainedWeights, or a variant name (its default ImageNet
            entry with the classifier, e.g. `"efficientnet_b0"`).
        cache_dir: str or None. Defaults to `$KERAS_HOME` or `~/.keras`
            (Keras' cache); the file goes to its
            `models/` folder and is not fetched again while its hash matches.

    Returns:
        str. The path of the file, for `weights=path`.

    Raises:
        ValueError: the download failed (one line naming the URL and how to
            load the file from a path instead), or the file's hash differs
            from the catalog's (naming the file and both hashes).
    """
    if isinstance(entry, str):
        variant = entry
        entry = find_weights(variant, include_top=True)
        if entry is None:
            raise no_imagenet_weights_error(variant)
    if not isinstance(entry, PretrainedWeights):
        raise TypeError(
            "`entry` must be PretrainedWeights or a variant name. "
            f"Received: entry={entry!r}"
        )
    if cache_dir is None:  # Keras' own cache: $KERAS_HOME or ~/.keras.
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(
            os.path.expanduser("~"), ".keras"
        )
    elif not os.path.isdir(cache_dir):
        raise ValueError(
            f"`cache_dir` is not a folder. Received: cache_dir={cache_dir!r}"
        )
    folder = os.path.join(cache_dir, "models")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"Cannot make the weights cache folder {folder!r} "
            f"({error.strerror or error}); pass cache_dir= a writable folder."
        ) from None
    path = os.path.join(folder, entry.file_name)
    if os.path.isfile(path) and _hash_matches(path, entry):
        return path
    temporary = f"{path}.part{os.getpid()}"
    try:
        with urllib.request.urlopen(entry.url, timeout=60) as response:
            with open(temporary, "wb") as file:
                shutil.copyfileobj(response, file, 1 << 20)
    except (OSError, ValueError) as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        reason = getattr(error, "reason", None) or error
        raise ValueError(
            f"Could not download {entry.url} ({reason}). Fetch it where "
            f"there is a network and load it from its path: "
            f"weights='/path/to/{entry.file_name}'"
            + (f", source={entry.source!r}" if entry.source else "")
            + f" (or put it at {path})."
        ) from None
    if not _hash_matches(temporary, entry):
        found = _file_hash(temporary, entry.hash_algorithm)
        os.remove(temporary)
        raise ValueError(
            f"The file downloaded from {entry.url} has {entry.hash_algorithm} "
            f"{found}, but the catalog expects {entry.file_hash} "
            f"({entry.hash_source}); nothing was kept at {path}."
        )
    os.replace(temporary, path)  # Never a half-written file under the name.
    return path


def _file_hash(path, algorithm):
    if algorithm == "git-blob-sha1":  # How git names a file's bytes.
        digest = hashlib.sha1(f"blob {os.path.getsize(path)}\0".encode())
    else:
        digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash_matches(path, entry):
    """Full hash, or the prefix torchvision puts in its file names; a file
    the catalog pins no hash for matches (said in `entry.hash_source`)."""
    if not entry.file_hash:
        return True
    return _file_hash(path, entry.hash_algorithm).startswith(entry.file_hash)


def load_pretrained(model, entry, *, cache_dir=None):
    """Downloads (with hash check) and loads a catalogued weights file.

    Args:
        model: a tfeff model.
        entry: PretrainedWeights.
        cache_dir: str or None. Defaults to `~/.keras`.
    """
    if not isinstance(entry, PretrainedWeights):
        raise TypeError(
            f"`entry` must be PretrainedWeights. Received: {entry!r}"
        )
    _check_arch(model, entry)
    path = download(entry, cache_dir=cache_dir)
    load_file(model, path, format=entry.format, source=entry.source)
    if entry.stores_std_as_variance:
        _fold_keras_std(model)
    return model


# Checkpoints of reference implementations, read by `converters`.
_REFERENCE_FORMATS = ("safetensors", "pth", "mxnet_params")


def load_file(model, path, *, format=None, source=None):
    """Loads weights from a local file of any supported format.

    Formats: `.keras` and `.weights.h5` (tfeff models), keras.applications
    `.h5`, and reference checkpoints converted by `tfeff.weights.converters`:
    PyTorch (`.safetensors` without torch, `.pth` with torch) and MXNet
    `.params` (IGCV3; read without MXNet).

    Args:
        model: a tfeff model.
        path: str or path-like.
        format: str or None. Read off the file name when None.
        source: str or None. Which reference wrote a PyTorch or MXNet
            checkpoint
            (`tfeff.weights.list_sources()`, e.g. `"timm:tf_mixnet_s"`).
            Needed for timm files, whose tensor names are the same for its
            TensorFlow ports and its PyTorch-trained models; efficientnet-
            pytorch and torchvision files name their reference.

    Raises:
        ValueError: a file of unknown or contradictory layout, or of another
            family, width or numerics than the model, naming the file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"Weights file not found. Received: weights={path!r}")
    if format is None:
        if path.endswith(".keras"):
            format = "keras"
        elif path.endswith(".weights.h5"):
            format = "keras_weights"
        elif path.endswith((".h5", ".hdf5")):
            _check_container(path, "keras_h5")
            format = (
                "keras_h5" if readers.is_legacy_h5(path) else "keras_weights"
            )
        elif path.endswith(".safetensors"):
            format = "safetensors"
        elif path.endswith((".pth", ".pt", ".bin")):
            format = "pth"
        elif path.endswith(".params"):
            format = "mxnet_params"
        else:
            raise ValueError(
                "Unknown weights file type (expected .keras, .weights.h5, "
                ".h5, .safetensors, .pth or MXNet .params). Received: "
                f"weights={path!r}"
            )
    if source is not None and format not in _REFERENCE_FORMATS:
        raise ValueError(
            "`source` names the reference of a PyTorch or MXNet checkpoint "
            f"(.safetensors, .pth, .params); {path!r} is a {format} file. "
            f"Received: source={source!r}"
        )
    described = f"Weights file {path!r}"
    _check_container(path, format)
    try:
        named = _read_named(model, path, format, source)
    except OSError as error:  # h5py, zipfile, torch: a file cut short.
        raise ValueError(
            f"Weights file {path!r} could not be read as {format}: {error}"
        ) from error
    if not _has_classifier(model):
        named = {k: v for k, v in named.items() if k not in _CLASSIFIER_LAYERS}
    assign_named_weights(model, named, source=described)
    return model


def _check_container(path, format):
    """A file whose bytes are not its format's container is refused with
    its name, before a library reports it in its own words (keras says
    "File not found" of a text file named `.keras`)."""
    import zipfile

    import h5py

    if format == "keras" and not zipfile.is_zipfile(path):
        raise ValueError(
            f"Weights file {path!r} is not a .keras archive (a zip file); "
            "it may be truncated or another format."
        )
    if format in ("keras_weights", "keras_h5") and not h5py.is_hdf5(path):
        raise ValueError(
            f"Weights file {path!r} is not an HDF5 file (.h5 / .weights.h5); "
            "it may be truncated or another format."
        )


def _read_named(model, path, format, source):
    """{tfeff layer name: [arrays]} from the file, per its format."""
    if format == "keras":
        named = readers.read_keras_archive(path)
    elif format == "keras_weights":
        named = readers.read_keras3_weights(path, model)
    elif format == "keras_h5":
        raw = readers.read_legacy_h5(path)
        names, family = readers.keras_application_names(model.arch, raw)
        named = {
            readers.map_keras_efficientnet_name(names, name): arrays
            for name, arrays in raw.items()
        }
        if family == "mobilenetv2" and _has_layer(model, "stem_normalization"):
            # keras.applications MobileNetV2 takes x / 127.5 - 1, i.e.
            # [0, 1] pixels normalised by mean 0.5 and std 0.5.
            named["stem_normalization"] = _normalization(
                model, (0.5,) * 3, (0.5,) * 3
            )
    elif format in _REFERENCE_FORMATS:
        state = (
            readers.read_mxnet_params(path)
            if format == "mxnet_params"
            else readers.read_state_dict(path)
        )
        if source is None:
            source = converters.source_from_layout(state, model)
        if source is None:
            raise ValueError(_unknown_source_message(state, path, model))
        source = converters.get_source(source)
        named = converters.convert_state_dict(state, model, source, path=path)
        if _has_layer(model, "stem_normalization"):
            # The reference normalises its input with these statistics;
            # the model does it in its own Normalization layer.
            named["stem_normalization"] = _normalization(
                model, source.mean, source.std
            )
    else:
        raise ValueError(f"Unknown weights format. Received: format={format!r}")
    return named


def _has_layer(model, name):
    return any(layer.name == name for layer in model.layers)


def _normalization(model, mean, std):
    layer = model.get_layer("stem_normalization")
    mean_now, variance_now = layer.get_weights()[:2]
    channels = mean_now.shape[-1]
    if channels != len(mean):
        return layer.get_weights()
    weights = layer.get_weights()
    weights[0] = np.asarray(mean, mean_now.dtype).reshape(mean_now.shape)
    weights[1] = np.square(np.asarray(std, variance_now.dtype)).reshape(
        variance_now.shape
    )
    return weights


def _unknown_source_message(state, path, model):
    from tfeff.weights.converters import is_timm_layout
    from tfeff.weights.converters import list_sources

    if is_timm_layout(state):
        return (
            f"Weights file {path!r} is a timm checkpoint, and timm's names "
            "are the same for its TensorFlow ports (tf_*) and its PyTorch-"
            "trained models, which compute differently. Say which it is: "
            "source='timm:<model>' (e.g. 'timm:tf_efficientnet_b0' or "
            "'timm:efficientnet_b0'); known: "
            f"{list_sources('timm:*')}."
        )
    return (
        f"Weights file {path!r} is a reference checkpoint of unknown layout "
        f"(first tensors: {list(state)[:5]}) for model {model.name!r}. "
        "Pass source='<library>:<model>', one of "
        f"{list_sources()}."
    )


def load(model, weights, *, variant=None, source=None, cache_dir=None):
    """Loads `weights` into a tfeff model.

    Args:
        model: a tfeff model (has `.arch`).
        weights: None (nothing), `"imagenet"`, a `PretrainedWeights` entry,
            or a path to a weights file (see `load_file`).
        variant: str. The registered variant the model was built from; needed
            for `"imagenet"`.
        source: str or None. The reference that wrote a PyTorch checkpoint
            file (see `load_file`).
        cache_dir: str or None. Where downloads are kept (default `~/.keras`).

    Example:

    >>> model = tfeff.create_model("test_efficientnet")
    >>> path = str(tmp_path / "test.weights.h5")
    >>> model.save_weights(path)
    >>> _ = tfeff.weights.load(tfeff.create_model("test_efficientnet"), path)
    """
    if weights is None:
        return model
    if isinstance(weights, PretrainedWeights):
        return load_pretrained(model, weights, cache_dir=cache_dir)
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` must be None, 'imagenet', a path or PretrainedWeights. "
            f"Received: weights={weights!r}"
        )
    is_imagenet, tag = parse_imagenet_tag(weights)
    if is_imagenet:
        entry = (
            None
            if variant is None
            else find_weights(
                variant, include_top=_has_classifier(model), tag=tag
            )
        )
        if entry is None:
            raise no_imagenet_weights_error(variant, tag)
        return load_pretrained(model, entry, cache_dir=cache_dir)
    return load_file(model, weights, source=source)
