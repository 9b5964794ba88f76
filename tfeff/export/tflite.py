"""TFLite export (float32, float16, dynamic-range, int8) and verification.

TensorFlow-only code: the converter reads a TF concrete function of the
model at a static batch size (EdgeTPU and fast int8 kernels need static
shapes). Builtin ops only, never SELECT_TF_OPS (flex): a model that needs
them fails to convert here rather than on a phone.
"""

import json
import os

import numpy as np

import tfeff
from tfeff._cli import MissingPackageError
from tfeff.files import atomic_write_bytes

MODES = ("float32", "float16", "dynamic", "int8")
IO_DTYPES = ("float32", "int8", "uint8")
METADATA_NAME = "tfeff"


def _is_qat(model):
    from tfeff.quantize import QuantizedModel

    return isinstance(model, QuantizedModel)


def model_settings(model):
    """Arch string and preprocessing of a tfeff model (or its QAT twin)."""
    if _is_qat(model):
        settings = model.settings
    else:
        settings = getattr(model, "_settings", None) or {}
    arch = settings.get("arch")
    if arch is not None and not isinstance(arch, str):
        arch = tfeff.encode_arch(arch)
    return {
        "arch": arch,
        "input_shape": list(model.input_shape[1:]),
        "mean": settings.get("mean"),
        "std": settings.get("std"),
        "input_range": [0, 255] if settings.get("mean") else None,
    }


def _static_input_shape(model, batch_size):
    shape = tuple(model.input_shape[1:])
    if any(dim is None for dim in shape):
        raise ValueError(
            "TFLite export needs a static input size; build the model with "
            f"`input_shape=(height, width, channels)`. Received a model with "
            f"input_shape={model.input_shape}"
        )
    return (batch_size,) + shape


def _representative_dataset(data, input_shape):
    from tfeff.quantize.qat import _batches

    def generator():
        for batch in _batches(data, None):
            for sample in batch.reshape((-1,) + input_shape[1:]):
                yield [sample[None].astype("float32")]

    return generator


def _add_metadata(data, entries):
    """The model `data` with `entries` ({name: bytes}) as metadata buffers
    (one repacking of the flatbuffer for all)."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
    schema = flatbuffer_utils.schema_fb
    for name, payload in entries.items():
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(payload, dtype=np.uint8)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = name
        entry.buffer = len(model.buffers) - 1
        model.metadata = list(model.metadata or []) + [entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _is_classifier(model):
    shapes = model.output_shape
    return isinstance(shapes, tuple) and len(shapes) == 2


def checked_labels(model, labels):
    """`labels` as a list of class names, one per output of the classifier
    `model`; a ValueError or TypeError naming what is wrong otherwise."""
    from tfeff.export import metadata as standard

    if not _is_classifier(model):
        raise ValueError(
            "`labels` name a classifier's classes; this model's output is "
            f"{model.output_shape}."
        )
    return standard.check_labels(labels, model.output_shape[-1])


def read_metadata(path):
    """The metadata `to_tflite` embedded (arch, preprocessing, mode), or {}."""
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(path)
    for entry in model.metadata or []:
        name = (
            entry.name.decode() if isinstance(entry.name, bytes) else entry.name
        )
        if name == METADATA_NAME:
            raw = model.buffers[entry.buffer].data
            return json.loads(bytes(np.asarray(raw, dtype=np.uint8)).decode())
    return {}


def convert(
    model,
    mode="float32",
    representative_data=None,
    io_dtype="float32",
    batch_size=1,
):
    """Converts a Keras model to TFLite flatbuffer bytes (see `to_tflite`)."""
    import warnings

    import tensorflow as tf

    # Raised for every int8-IO conversion; the statistics come from the
    # fake-quant ranges or the representative data, as intended.
    warnings.filterwarnings(
        "ignore", message="Statistics for quantized inputs were expected"
    )

    if mode not in MODES:
        raise ValueError(
            f"`mode` must be one of {MODES}. Received: mode={mode!r}"
        )
    if io_dtype not in IO_DTYPES:
        raise ValueError(
            f"`io_dtype` must be one of {IO_DTYPES}. Received: io_dtype={io_dtype!r}"
        )
    if io_dtype != "float32" and mode != "int8":
        raise ValueError(
            f"`io_dtype={io_dtype!r}` needs mode='int8'. Received: mode={mode!r}"
        )
    qat = _is_qat(model)
    if qat and mode != "int8":
        raise ValueError(
            "A quantization-aware model exports as mode='int8'. "
            f"Received: mode={mode!r}"
        )
    if mode == "int8" and not qat and representative_data is None:
        raise ValueError(
            "mode='int8' needs `representative_data` (input batches to "
            "calibrate activation ranges), or a model from "
            "tfeff.quantize.quantize_aware. Received: representative_data=None"
        )
    shape = _static_input_shape(model, batch_size)
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(shape, tf.float32))
    # Without the trackable object the converter freezes the variables into
    # constants; with it (the SavedModel path) it fails to legalize
    # per-channel fake-quant ops.
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if mode == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif mode == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif mode == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if not qat:
            converter.representative_dataset = _representative_dataset(
                representative_data, shape
            )
            converter.target_spec.supported_ops = [
                tf.lite.OpsSet.TFLITE_BUILTINS_INT8
            ]
        if io_dtype != "float32":
            dtype = tf.int8 if io_dtype == "int8" else tf.uint8
            converter.inference_input_type = dtype
            converter.inference_output_type = dtype
    from tfeff._console import native_output_captured

    # The converter prints a dozen C++ lines per call (`fully_quantize:
    # ...`, NodeDef attribute notes); shown only if it fails.
    with native_output_captured():
        return converter.convert()


def to_tflite(
    model,
    path,
    mode="float32",
    representative_data=None,
    io_dtype="float32",
    batch_size=1,
    *,
    labels=None,
    version="1",
    description=None,
    warn_xnnpack=True,
):
    """Exports `model` to a `.tflite` file, atomically.

    Args:
        model: a tfeff model, its `quantize_aware` twin, or any functional
            Keras model with a static input size.
        path: str. Output file.
        mode: `"float32"`, `"float16"` (float16 weights), `"dynamic"` (int8
            weights, float activations) or `"int8"` (every op int8). A QAT
            model is always `"int8"` and needs no data.
        representative_data: input batches for `mode="int8"` on a float
            model (post-training quantization): an array, an iterable of
            arrays or (x, y) pairs, a `tf.data.Dataset`, or a callable
            returning one.
        io_dtype: `"float32"` (a QUANTIZE/DEQUANTIZE pair at the ends),
            `"int8"` or `"uint8"` (`mode="int8"` only).
        batch_size: int. The static batch size of the exported model.
        labels: list of str or None. A classifier's class names, packed
            into the file as its label file.
        version, description: str. The model's, in the standard metadata.
        warn_xnnpack: bool. For `mode="int8"`, warn when XNNPACK would
            refuse the file (`xnnpack_blockers`). Off where the caller
            runs the file and reports that itself (latency probes).

    Returns:
        str, the path written. The file embeds metadata `"tfeff"` (arch
        string, input shape, mean/std, mode; read it with `read_metadata`)
        and, for an image classifier, the standard TFLite Model Metadata
        (input image and normalization, output scores, label file, name,
        version) that MediaPipe Tasks and the LiteRT support libraries
        read (`tfeff.export.metadata`).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a file path. Received: path={path!r}")
    from tfeff.export import metadata as standard

    classifier = _is_classifier(model)
    if labels is not None:
        labels = checked_labels(model, labels)
    data = convert(
        model,
        mode=mode,
        representative_data=representative_data,
        io_dtype=io_dtype,
        batch_size=batch_size,
    )
    metadata = dict(model_settings(model))
    metadata.update(
        {
            "mode": mode,
            "io_dtype": io_dtype,
            "quantization_aware": _is_qat(model),
            "tfeff_version": tfeff.__version__,
        }
    )
    entries = {METADATA_NAME: json.dumps(metadata, sort_keys=True).encode()}
    if classifier:
        entries[standard.METADATA_BUFFER_NAME] = standard.classifier_metadata(
            name=model.name,
            description=description
            or f"{model.name} image classifier exported by tfeff "
            f"{tfeff.__version__} ({mode})",
            version=str(version),
            labels=labels,
            scores=_ends_in_softmax(model),
        )
    data = _add_metadata(data, entries)
    if labels:
        data += standard.label_archive(labels)  # read from the file's end
    atomic_write_bytes(path, data)
    if mode == "int8" and warn_xnnpack:
        _warn_of_xnnpack_blockers(path)
    return os.fspath(path)


# XNNPACK's bounds on an int8 conv's requantization scale (input scale x
# weight scale / output scale): outside them it refuses the whole graph.
_REQUANTIZATION_BOUNDS = (2.0**-32, 256.0)
_RESCALED_OPS = (
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV",
)  # fmt: skip


def xnnpack_blockers(path):
    """The int8 ops of a `.tflite` file whose requantization scale is out
    of XNNPACK's bounds: [(output tensor name, scale, input range)]."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_litert.interpreter import OpResolverType

    from tfeff._console import native_output_captured

    with native_output_captured():
        interpreter = Interpreter(
            model_path=os.fspath(path),
            experimental_op_resolver_type=(
                OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            ),
        )
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    low, high = _REQUANTIZATION_BOUNDS
    found = []
    for op in interpreter._get_ops_details():
        if op["op_name"] not in _RESCALED_OPS:
            continue
        ins = list(op["inputs"])
        data, weights = (
            (ins[2], ins[1]) if op["op_name"] == "TRANSPOSE_CONV" else ins[:2]
        )
        x, w, y = tensors[data], tensors[weights], tensors[op["outputs"][0]]
        if x["dtype"] != np.int8 or not y["quantization"][0]:
            continue
        weight_scales = w["quantization_parameters"]["scales"]
        if not len(weight_scales):
            continue
        scale = x["quantization"][0] * float(np.max(weight_scales))
        scale /= y["quantization"][0]
        if not low <= scale < high:
            span = 255 * x["quantization"][0]
            found.append((y["name"].split(";")[0], scale, span))
    return found


def _warn_of_xnnpack_blockers(path):
    import warnings

    blockers = xnnpack_blockers(path)
    if not blockers:
        return
    name, scale, span = max(blockers, key=lambda b: b[1])
    warnings.warn(
        f"{os.fspath(path)}: XNNPACK (LiteRT's default CPU delegate) will "
        f"refuse this int8 file: {len(blockers)} layer(s) need a "
        f"requantization scale outside [2^-32, 256), the worst {scale:.4g} at "
        f"{name!r}, whose input spans {span:.4g}. Activations that large "
        "come from an untrained network or batch-norm statistics that do "
        "not match the data: train (or fit the batch norms) before "
        "quantizing. Interpreters without XNNPACK still run it.",
        stacklevel=3,
    )


def _ends_in_softmax(model):
    """Whether the outputs are probabilities: the last layer with an
    activation (a QAT model ends in its output quantizer) is a softmax."""
    import keras

    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Softmax):
            return True
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", "") == "softmax"
    return False


def xnnpack_can_prepare(path):
    """Whether the XNNPACK delegate accepts the model at `path`.

    LiteRT 2.3's XNNPACK delegate aborts the whole process ("double free or
    corruption") on some int8 graphs, e.g. a stride-2 Ghost bottleneck with
    a 7x7 depthwise kernel on a 2x2 map, where TensorFlow's own interpreter
    (same delegate) raises `RuntimeError: failed to prepare` instead. Asking
    TensorFlow first keeps a bad graph from killing a search.
    """
    import warnings

    import tensorflow as tf

    from tfeff._console import native_output_captured

    with warnings.catch_warnings(), native_output_captured():
        warnings.simplefilter("ignore")
        try:
            interpreter = tf.lite.Interpreter(model_path=os.fspath(path))
            interpreter.allocate_tensors()
        except RuntimeError:
            return False
    return True


def make_interpreter(path, num_threads=2):
    """An ai-edge-litert `Interpreter` with XNNPACK where it works.

    Returns:
        (interpreter, uses_xnnpack).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
        from ai_edge_litert.interpreter import OpResolverType
    except ImportError as error:  # pragma: no cover - install message
        raise MissingPackageError(
            "Running TFLite models needs ai-edge-litert: "
            "pip install 'tfeff[export]'"
        ) from error
    xnnpack = xnnpack_can_prepare(path)
    kwargs = {}
    if not xnnpack:
        kwargs["experimental_op_resolver_type"] = (
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    from tfeff._console import native_output_captured

    # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." per model.
    with native_output_captured():
        interpreter = Interpreter(
            model_path=os.fspath(path), num_threads=num_threads, **kwargs
        )
        interpreter.allocate_tensors()
    return interpreter, xnnpack


class TFLiteRunner:
    """Runs a `.tflite` file with ai-edge-litert on float inputs.

    Quantizes float inputs and dequantizes outputs for int8/uint8 IO, and
    feeds a batch one static-batch slice at a time.
    """

    def __init__(self, path, num_threads=2):
        self.interpreter, self.uses_xnnpack = make_interpreter(
            path, num_threads
        )
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def _quantize(self, x):
        scale, zero = self.input["quantization"]
        dtype = self.input["dtype"]
        if dtype == np.float32:
            return x.astype(np.float32)
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(
            dtype
        )

    def _dequantize(self, y):
        if self.output["dtype"] == np.float32:
            return y.astype(np.float32)
        scale, zero = self.output["quantization"]
        return (y.astype(np.float32) - zero) * scale

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32)
        batch = self.input["shape"][0]
        outputs = []
        for start in range(0, len(x), batch):
            chunk = x[start : start + batch]
            if len(chunk) < batch:  # Pad the last chunk to the static batch.
                pad = np.repeat(chunk[-1:], batch - len(chunk), axis=0)
                chunk = np.concatenate([chunk, pad])
            self.interpreter.set_tensor(
                self.input["index"], self._quantize(chunk)
            )
            self.interpreter.invoke()
            y = self._dequantize(
                self.interpreter.get_tensor(self.output["index"])
            )
            outputs.append(y[: len(x) - start])
        return np.concatenate(outputs)


def verify(path, keras_model, data, *, steps=None):
    """Compares an exported model with the Keras model it came from.

    Args:
        path: str. A `.tflite` file (run with ai-edge-litert), an `.onnx`
            file (onnxruntime) or a SavedModel folder (its `serve`
            endpoint).
        keras_model: the Keras model (float or QAT).
        data: input batches, as `representative_data` of `to_tflite`.
        steps: int. Batches to use; all if None.

    Returns:
        dict: `top1_agreement` (fraction of samples whose argmax over the
        last axis agrees), `max_abs_diff`, `mean_abs_diff`, `samples`.
    """
    from tfeff.export.formats import runner_for
    from tfeff.quantize.qat import _batches

    runner = runner_for(path)
    agree = total = 0
    max_diff = 0.0
    sum_diff = 0.0
    count = 0
    for batch in _batches(data, steps):
        expected = np.asarray(keras_model(batch, training=False))
        actual = np.asarray(runner(batch)).reshape(expected.shape)
        diff = np.abs(expected - actual)
        max_diff = max(max_diff, float(diff.max()))
        sum_diff += float(diff.sum())
        count += diff.size
        agree += int((expected.argmax(-1) == actual.argmax(-1)).sum())
        total += int(np.prod(expected.shape[:-1]))
    return {
        "top1_agreement": agree / total,
        "max_abs_diff": max_diff,
        "mean_abs_diff": sum_diff / count,
        "samples": total,
    }
