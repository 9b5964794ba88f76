"""Readers: weight files → `{tfeff layer name: [numpy arrays]}`.

Every format ends in the same dict, which `assign.assign_named_weights`
loads with shape checks, so errors read the same whatever the source.
"""

import re

import h5py
import numpy as np

from tfeff._cli import MissingPackageError
from tfeff.files import load_model
from tfeff.spec.structure import expand_blocks

# --- keras.applications EfficientNet (legacy .h5) ------------------------------

_KERAS_PARTS = {
    "expand_conv": "expand_conv",
    "expand_bn": "expand_bn",
    "dwconv": "dw_conv",
    "bn": "dw_bn",
    "se_reduce": "se_reduce",
    "se_expand": "se_expand",
    "project_conv": "project_conv",
    "project_bn": "project_bn",
}


def keras_efficientnet_names(spec):
    """Maps keras.applications EfficientNet layer names to tfeff's."""
    names = {
        "normalization": "stem_normalization",
        "stem_conv": "stem_conv",
        "stem_bn": "stem_bn",
        "top_conv": "head_conv",
        "top_bn": "head_bn",
        "predictions": "predictions",
    }
    for inst in expand_blocks(spec):
        if inst.stage <= 0:
            continue
        block = int(inst.name.rsplit("block", 1)[1]) - 1
        prefix = f"block{inst.stage}{chr(ord('a') + block)}_"
        for keras_part, part in _KERAS_PARTS.items():
            names[prefix + keras_part] = f"{inst.name}_{part}"
    return names


def keras_mobilenetv2_names(spec):
    """Maps keras.applications MobileNetV2 layer names to tfeff's.

    keras/src/applications/mobilenet_v2.py names the first block
    `expanded_conv_*` and the others `block_<i>_*` (i counted over the whole
    network), the stem `Conv1`/`bn_Conv1` and the head `Conv_1`/`Conv_1_bn`.
    """
    names = {
        "Conv1": "stem_conv",
        "bn_Conv1": "stem_bn",
        "Conv_1": "head_conv",
        "Conv_1_bn": "head_bn",
        "predictions": "predictions",
    }
    blocks = [inst for inst in expand_blocks(spec) if inst.stage > 0]
    for index, inst in enumerate(blocks):
        prefix = "expanded_conv_" if index == 0 else f"block_{index}_"
        for keras_part, part in (
            ("expand", "expand_conv"),
            ("expand_BN", "expand_bn"),
            ("depthwise", "dw_conv"),
            ("depthwise_BN", "dw_bn"),
            ("project", "project_conv"),
            ("project_BN", "project_bn"),
        ):
            names[prefix + keras_part] = f"{inst.name}_{part}"
    return names


def keras_application_names(spec, layers):
    """The name map for a keras.applications file, by the layers it holds:
    EfficientNet (`stem_conv`, `block1a_*`) or MobileNetV2 (`Conv1`,
    `expanded_conv_*`); both are TensorFlow-trained, so the names say all.

    Returns:
        (names, family) with family `"efficientnet"` or `"mobilenetv2"`.
    """
    if "Conv1" in layers and "expanded_conv_depthwise" in layers:
        return keras_mobilenetv2_names(spec), "mobilenetv2"
    return keras_efficientnet_names(spec), "efficientnet"


def map_keras_efficientnet_name(names, layer):
    """tfeff's name for a keras.applications layer (see `keras_efficientnet_names`).

    The stem Normalization layer is unnamed in keras.applications, so Keras
    calls it `normalization`, `normalization_1`, ... depending on how many
    were made before it in the process that saved the file.
    """
    if re.fullmatch(r"normalization(_\d+)?", layer):
        return "stem_normalization"
    return names.get(layer, layer)


def read_legacy_h5(path):
    """Reads a Keras 2 / keras.applications `.h5`: `{layer: [arrays]}`."""
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in group.attrs:
            raise ValueError(
                f"{path} is not a Keras .h5 weights file (no 'layer_names')."
            )
        out = {}
        for raw in group.attrs["layer_names"]:
            layer = raw.decode() if isinstance(raw, bytes) else str(raw)
            weight_names = group[layer].attrs.get("weight_names", [])
            arrays = []
            for w in weight_names:
                w = w.decode() if isinstance(w, bytes) else str(w)
                arrays.append(np.asarray(group[layer][w]))
            if arrays:
                out[layer] = arrays
        return out


def is_legacy_h5(path):
    with h5py.File(path, "r") as f:
        return "layer_names" in f.attrs or "model_weights" in f


# --- tfeff's own files (Keras 3 .weights.h5 / .keras) ---------------------------


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras3_store_names(model):
    """Names Keras 3 gives a functional model's layers inside `.weights.h5`.

    Keras 3 keys layers by snake-cased class name, numbered in order of
    appearance (`conv2d`, `conv2d_1`, ...), not by layer name.
    """
    seen = {}
    names = {}
    for layer in model.layers:
        base = _snake_case(type(layer).__name__)
        count = seen.get(base, 0)
        seen[base] = count + 1
        names[base if count == 0 else f"{base}_{count}"] = layer.name
    return names


def read_keras3_weights(path, model):
    """Reads a Keras 3 `.weights.h5` saved from a model shaped like `model`."""
    store_names = _keras3_store_names(model)
    out = {}
    with h5py.File(path, "r") as f:
        if "layers" not in f:
            raise ValueError(f"{path} is not a Keras 3 .weights.h5 file.")
        for key in f["layers"]:
            variables = f["layers"][key].get("vars")
            if variables is None or not len(variables):
                continue
            arrays = [
                np.asarray(variables[str(i)]) for i in range(len(variables))
            ]
            out[store_names.get(key, key)] = arrays
    return out


def read_keras_archive(path):
    """Reads a `.keras` file saved from a tfeff model, by layer name."""

    saved = load_model(path, compile=False)
    return {
        layer.name: [np.asarray(w) for w in layer.get_weights()]
        for layer in saved.layers
        if layer.weights
    }


# --- PyTorch checkpoints -----------------------------------------------------------


def read_state_dict(path):
    """Reads a PyTorch state dict from `.safetensors` (no torch) or `.pth`."""
    if str(path).endswith(".safetensors"):
        from safetensors.numpy import load_file

        try:
            return load_file(str(path))
        except Exception as error:  # SafetensorError, OSError: its words.
            raise ValueError(
                f"Weights file {str(path)!r} is not a readable .safetensors "
                f"file ({type(error).__name__}: {error})."
            ) from error
    try:
        import torch
    except ImportError:
        raise MissingPackageError(
            f"Reading {path} needs PyTorch (pip install 'tfeff[torch]'); "
            "or convert it to .safetensors, which tfeff reads without torch."
        ) from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError, RuntimeError, EOFError.
        raise ValueError(
            f"Weights file {str(path)!r} is not a readable PyTorch checkpoint "
            f"(a state dict of tensors; {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''})."
        ) from error
    for key in ("state_dict", "model", "model_state_dict"):
        if (
            isinstance(state, dict)
            and key in state
            and isinstance(state[key], dict)
        ):
            state = state[key]
    return {
        k: v.detach().cpu().numpy()
        for k, v in state.items()
        if hasattr(v, "detach")
    }


# --- MXNet checkpoints -------------------------------------------------------------

# MXNet's NDArray list file (`mx.nd.save`, the `*-0000.params` of
# `mx.model.save_checkpoint`): little-endian uint64 magic 0x112, uint64 0,
# uint64 count, then per array uint32 magic 0xF993FAC9, int32 storage type
# (0 = dense), uint32 ndim, int64 dims, int32 device type and id, int32 dtype
# flag, the data; then uint64 count and per name uint64 length + bytes
# (`arg:` and `aux:` prefixes). src/ndarray/ndarray.cc `NDArray::Save`.
_MXNET_LIST_MAGIC = 0x112
_MXNET_ARRAY_MAGIC = 0xF993FAC9
_MXNET_DTYPES = {
    0: "<f4",
    1: "<f8",
    2: "<f2",
    3: "u1",
    4: "<i4",
    5: "i1",
    6: "<i8",
}


def read_mxnet_params(path):
    """Reads an MXNet `.params` file into {name: array}, without MXNet.

    The `arg:` / `aux:` prefixes MXNet writes are dropped (the names are
    unique without them).

    Raises:
        ValueError: a file that is not a dense MXNet NDArray list, naming
            the file and what was found where.
    """
    import struct

    with open(path, "rb") as file:
        data = file.read()
    offset = 0

    def take(fmt):
        nonlocal offset
        size = struct.calcsize(fmt)
        if offset + size > len(data):
            raise ValueError(
                f"MXNet params file {path!r} ends at byte {len(data)} "
                f"inside a record at byte {offset}: truncated."
            )
        values = struct.unpack_from(fmt, data, offset)
        offset += size
        return values

    magic, _ = take("<QQ")
    if magic != _MXNET_LIST_MAGIC:
        raise ValueError(
            f"File {path!r} is not an MXNet NDArray list: it starts with "
            f"{magic:#x}, expected {_MXNET_LIST_MAGIC:#x}."
        )
    (count,) = take("<Q")
    arrays = []
    for index in range(count):
        at = offset
        (array_magic,) = take("<I")
        if array_magic != _MXNET_ARRAY_MAGIC:
            raise ValueError(
                f"MXNet params file {path!r}: array {index} (byte {at}) has "
                f"magic {array_magic:#x}, expected {_MXNET_ARRAY_MAGIC:#x} "
                "(NDArray v2; older or newer layouts are not read)."
            )
        storage, ndim = take("<iI")
        if storage != 0:
            raise ValueError(
                f"MXNet params file {path!r}: array {index} is stored sparse "
                f"(storage type {storage}); only dense arrays are read."
            )
        shape = take(f"<{ndim}q")
        if ndim == 0:
            arrays.append(np.zeros((0,), "float32"))
            continue
        _device, _device_id, flag = take("<iii")
        if flag not in _MXNET_DTYPES:
            raise ValueError(
                f"MXNet params file {path!r}: array {index} has dtype flag "
                f"{flag}, expected one of {sorted(_MXNET_DTYPES)}."
            )
        dtype = np.dtype(_MXNET_DTYPES[flag])
        size = int(np.prod(shape)) * dtype.itemsize
        if offset + size > len(data):
            raise ValueError(
                f"MXNet params file {path!r}: array {index} needs {size} "
                f"bytes at byte {offset}, the file has {len(data) - offset}."
            )
        arrays.append(
            np.frombuffer(data, dtype, int(np.prod(shape)), offset)
            .reshape(shape)
            .astype(dtype.newbyteorder("="))
        )
        offset += size
    (names_count,) = take("<Q")
    if names_count != count:
        raise ValueError(
            f"MXNet params file {path!r} holds {count} arrays but "
            f"{names_count} names."
        )
    named = {}
    for array in arrays:
        (length,) = take("<Q")
        (raw,) = take(f"<{length}s")
        name = raw.decode("utf-8")
        named[
            name.split(":", 1)[1] if name[:4] in ("arg:", "aux:") else name
        ] = array
    if offset != len(data):
        raise ValueError(
            f"MXNet params file {path!r} has {len(data) - offset} bytes "
            "after its last name."
        )
    return named
