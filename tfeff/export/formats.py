"""SavedModel and ONNX files through Keras' own exporter, and runners that
read them back for `verify`.

`model.export(format="tf_saved_model" | "onnx")` does the tracing; this
module makes the files safe to hand on: written atomically, with exactly
the model's own inputs, checked against the Keras model. TensorFlow-only
code (ONNX goes through tf2onnx).
"""

import contextlib
import os
import shutil
import warnings

import numpy as np

FORMATS = ("tflite", "saved_model", "onnx")

_ONNX_PACKAGES = "tf2onnx, onnx and onnxruntime"
_ONNX_HINT = 'pip install "tfeff[onnx]"'


def _require_onnx(purpose):
    missing = []
    for name in ("tf2onnx", "onnx", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        from tfeff._cli import MissingPackageError

        raise MissingPackageError(
            f"{purpose} needs {_ONNX_PACKAGES}; missing: "
            f"{', '.join(missing)}. Install them with {_ONNX_HINT}."
        )


def _ensure_called(model):
    """Keras' exporter refuses a model that has never been called (a
    freshly built or loaded functional model); one call on zeros sets it."""
    if getattr(model, "_called", True):
        return
    shape = [1 if dim is None else dim for dim in model.input_shape]
    model(np.zeros(shape, "float32"), training=False)


@contextlib.contextmanager
def _normalization_as_constants(model):
    """Hands a `Normalization` layer's mean and variance to the tracer as
    numpy arrays while the model is exported.

    A Normalization's `call` reads `mean` and `variance`, eager tensors
    derived from its variables (by `finalize_state`, as tfeff's stem sets
    them) or from the values it was given. A traced function captures such tensors by value,
    and tf2onnx 1.17 makes every by-value capture an extra graph input, so
    the ONNX file would need the mean and variance fed beside the image.
    Numpy arrays are embedded as constants instead. The layer is restored
    afterwards, whatever happens.
    """
    import keras

    changed = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(layer, keras.layers.Normalization):
            continue
        if layer.mean is None:
            continue
        changed.append((layer, layer.mean, layer.variance))
        layer.mean = keras.ops.convert_to_numpy(layer.mean)
        layer.variance = keras.ops.convert_to_numpy(layer.variance)
    try:
        yield
    finally:
        for layer, mean, variance in changed:
            layer.mean, layer.variance = mean, variance


def _temporary_sibling(path):
    parent = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(parent, exist_ok=True)
    return os.path.join(parent, f".{os.path.basename(path)}.partial")


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def to_saved_model(model, path, *, labels=None):
    """Writes `model` as a TensorFlow SavedModel folder with a `serve`
    endpoint (Keras' `model.export(format="tf_saved_model")`).

    The folder is written beside `path` and renamed into place, so a
    killed export leaves no half folder. `labels` (a classifier's class
    names in output order) are written as `assets/labels.txt`.

    Returns:
        The folder's path.
    """
    path = os.fspath(path)
    if labels is not None:
        from tfeff.export.tflite import checked_labels

        labels = checked_labels(model, labels)
    _ensure_called(model)
    partial = _temporary_sibling(path)
    _remove(partial)
    try:
        with _normalization_as_constants(model):
            model.export(partial, format="tf_saved_model", verbose=False)
        if labels is not None:
            os.makedirs(os.path.join(partial, "assets"), exist_ok=True)
            with open(
                os.path.join(partial, "assets", "labels.txt"),
                "w",
                encoding="utf-8",
            ) as file:
                file.write("".join(f"{name}\n" for name in labels))
        _remove(path)
        os.replace(partial, path)
    finally:
        _remove(partial)
    return path


def to_onnx(model, path, *, opset=None, labels=None):
    """Writes `model` as an ONNX file (Keras' `model.export(format="onnx")`,
    tf2onnx under TensorFlow) whose only input is the model's image.

    The file is written beside `path` and renamed into place. `labels` go
    into the file's `metadata_props` as `labels` (one name per line), which
    onnxruntime shows as `get_modelmeta().custom_metadata_map["labels"]`.

    Raises:
        MissingPackageError: tf2onnx, onnx or onnxruntime is not installed.
        ValueError: the converted graph has inputs other than the model's own (the
            file would be unusable, so it is not written).
    """
    path = os.fspath(path)
    if opset is not None and (
        isinstance(opset, bool) or not isinstance(opset, int) or opset < 9
    ):
        raise ValueError(
            f"`opset` must be an int >= 9. Received: opset={opset!r}"
        )
    if labels is not None:
        from tfeff.export.tflite import checked_labels

        labels = checked_labels(model, labels)
    _require_onnx("ONNX export")
    import onnx

    from tfeff._console import native_output_captured

    _ensure_called(model)
    partial = _temporary_sibling(path)
    _remove(partial)
    try:
        with (
            _normalization_as_constants(model),
            native_output_captured(),
            warnings.catch_warnings(),
        ):
            # Keras' tf2onnx patch probes `np.object`, which warns.
            warnings.simplefilter("ignore", FutureWarning)
            model.export(
                partial, format="onnx", verbose=False, opset_version=opset
            )
        proto = onnx.load(partial)
        expected = len(model.inputs)
        names = [tensor.name for tensor in proto.graph.input]
        if len(names) != expected:
            raise ValueError(
                f"The ONNX graph of {model.name!r} has {len(names)} inputs "
                f"({', '.join(names)}); the model has {expected}. A layer "
                "holds a tensor the tracer captured as an input; the file "
                "was not written."
            )
        entries = {"name": model.name}
        if labels is not None:
            entries["labels"] = "\n".join(labels)
        for key, value in entries.items():
            prop = proto.metadata_props.add()
            prop.key, prop.value = key, value
        onnx.save(proto, partial)
        os.replace(partial, path)
    finally:
        _remove(partial)
    return path


class SavedModelRunner:
    """Runs a SavedModel folder's `serve` endpoint on float inputs."""

    def __init__(self, path):
        import tensorflow as tf

        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ValueError(
                f"{path!r} is not a SavedModel folder (no saved_model.pb)."
            )
        self.loaded = tf.saved_model.load(os.fspath(path))
        if not hasattr(self.loaded, "serve"):
            raise ValueError(
                f"The SavedModel {path!r} has no `serve` endpoint (the one "
                "Keras' exporter writes)."
            )

    def __call__(self, x):
        return np.asarray(self.loaded.serve(np.asarray(x, np.float32)))


class OnnxRunner:
    """Runs an ONNX file with onnxruntime's CPU provider on float inputs."""

    def __init__(self, path, num_threads=2):
        _require_onnx("Running an ONNX file")
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.log_severity_level = 3  # errors only
        self.session = onnxruntime.InferenceSession(
            os.fspath(path), options, providers=["CPUExecutionProvider"]
        )
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(
                f"{path!r} has {len(inputs)} inputs "
                f"({', '.join(i.name for i in inputs)}); expected one image."
            )
        self.input_name = inputs[0].name

    def __call__(self, x):
        feed = {self.input_name: np.asarray(x, np.float32)}
        return self.session.run(None, feed)[0]


def format_of(path):
    """The format of an exported file or folder: "tflite", "onnx" or
    "saved_model"; a ValueError naming the path otherwise."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return "saved_model"
    elif path.endswith(".tflite"):
        return "tflite"
    elif path.endswith(".onnx"):
        return "onnx"
    raise ValueError(
        "Expected a .tflite file, an .onnx file or a SavedModel folder "
        f"(with saved_model.pb). Received: {path!r}"
    )


def runner_for(path):
    """A callable running the exported model at `path` on a float batch."""
    from tfeff.export.tflite import TFLiteRunner

    kind = format_of(path)
    if kind == "tflite":
        return TFLiteRunner(path)
    if kind == "onnx":
        return OnnxRunner(path)
    return SavedModelRunner(path)
