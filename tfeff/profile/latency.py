"""Latency of `.tflite` files on this host, measured with ai-edge-litert."""

import os
import statistics
import tempfile
import time
import warnings

import numpy as np

# /proc/cpuinfo flags of the instructions int8 kernels use, in the words
# people search for (int8 speed-ups depend on them).
INT8_INSTRUCTIONS = (
    ("avx2", "AVX2"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("amx_int8", "AMX-INT8"),
    ("asimddp", "Arm dot product"),
    ("i8mm", "Arm I8MM"),
)


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as file:
            return file.read()
    except OSError:
        return ""


def cpu_model():
    """The CPU's model name (`/proc/cpuinfo`), else `platform`'s guess."""
    import platform

    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def int8_instructions():
    """The int8-relevant instruction sets this CPU reports, e.g.
    `["AVX2", "AVX-512 VNNI"]`."""
    flags = set()
    for line in _cpuinfo().splitlines():
        if line.startswith(("flags", "Features")):
            flags.update(line.split(":", 1)[1].split())
    return [name for flag, name in INT8_INSTRUCTIONS if flag in flags]


def describe_host():
    """`AMD EPYC 7B13, 2 cores, int8: AVX2, AVX-512 VNNI`: what a latency
    figure needs beside it."""
    instructions = ", ".join(int8_instructions()) or "none reported"
    return f"{cpu_model()}, {os.cpu_count()} cores, int8: {instructions}"


def measure_tflite_latency(
    path, *, num_threads=1, warmup=3, runs=20, seed=0, details=False
):
    """Median wall time of one `invoke()` in milliseconds.

    Inputs are random values of the model's input dtype; the median over
    `runs` timed invocations after `warmup` untimed ones resists the odd slow
    run from a busy host.

    Args:
        path: str. A `.tflite` file.
        num_threads: int. Interpreter threads (1: the phone-core baseline).
        warmup, runs: int.
        seed: int. For the random input.
        details: bool. Return `{"milliseconds", "xnnpack"}` instead, and
            leave the warning below to the caller.

    Returns:
        float, milliseconds (or the dict). Where XNNPACK cannot run the
        file, the time is TFLite's reference kernels' and a warning says so.
    """
    if not os.path.isfile(path):
        raise ValueError(f"`path` is not a file. Received: path={path!r}")
    if runs < 1:
        raise ValueError(f"`runs` must be >= 1. Received: runs={runs!r}")
    from tfeff.export.tflite import make_interpreter

    interpreter, xnnpack = make_interpreter(path, num_threads)
    if not xnnpack and not details:
        warnings.warn(
            f"XNNPACK cannot run {path}; timing TFLite's reference kernels, "
            "which are slower than a phone would be.",
            stacklevel=2,
        )
    rng = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        dtype = detail["dtype"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max + 1, detail["shape"])
        else:
            value = rng.uniform(0, 255, detail["shape"])
        interpreter.set_tensor(detail["index"], value.astype(dtype))
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    milliseconds = 1000.0 * statistics.median(times)
    if details:
        return {"milliseconds": milliseconds, "xnnpack": xnnpack}
    return milliseconds


def _batch_norms(layer):
    import keras

    if isinstance(layer, keras.layers.BatchNormalization):
        yield layer
    for inner in getattr(layer, "layers", ()):
        yield from _batch_norms(inner)


def set_batch_norm_statistics(model, images):
    """Sets every batch norm's moving mean and variance to those of
    `images` passing through `model` (one forward pass in training mode,
    momentum 0).

    For timing an untrained network: with its initial statistics (mean 0,
    variance 1) a deep network's activations grow by orders of magnitude
    from stage to stage (GhostNet 1.0x reached 2e6 at 7x7), the int8
    file then carries scales no trained network has, and XNNPACK refuses to
    prepare it ("failed to create XNNPACK runtime"; LiteRT 2.3 aborts),
    so the time measured was the reference kernels', 20x slower. Weights
    are untouched; what is timed is unchanged except for the scales.
    """
    layers = list(_batch_norms(model))
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        # In training mode each layer normalizes by its batch's statistics
        # and, at momentum 0, keeps exactly them: one pass makes inference
        # on `images` what that pass computed.
        model(images, training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum


def export_for_timing(
    model, path, *, mode="int8", pixels=True, untrained=False
):
    """Writes the TFLite file `measure_model_latency` times: int8 in and
    out, calibrated on 8 random inputs (or float32). See there for
    `pixels` and `untrained`."""
    from tfeff.export.tflite import to_tflite

    if mode not in ("int8", "float32"):
        raise ValueError(
            f"`mode` must be 'int8' or 'float32'. Received: mode={mode!r}"
        )
    shape = (8,) + tuple(model.input_shape[1:])
    rng = np.random.default_rng(0)
    if pixels:
        data = rng.uniform(0, 255, shape).astype("float32")
    else:
        data = rng.normal(0, 1, shape).astype("float32")
    if untrained:
        set_batch_norm_statistics(model, data)
    if mode == "int8":
        return to_tflite(
            model,
            path,
            mode="int8",
            representative_data=[data[i : i + 1] for i in range(8)],
            io_dtype="int8",
            warn_xnnpack=False,  # measure_tflite_latency says so itself
        )
    return to_tflite(model, path, mode="float32")


def measure_model_latency(
    model,
    *,
    mode="int8",
    num_threads=1,
    runs=20,
    pixels=True,
    details=False,
    untrained=False,
):
    """Converts a Keras model to TFLite and times it on this host.

    `mode="int8"` is what a deployment runs: post-training quantized, int8
    in and out, calibrated on random inputs (latency does not depend on the
    values). Used by the search's latency table and `tfeff-profile
    --latency`.

    Args:
        model: `keras.Model` with a static input size.
        mode: `"int8"` or `"float32"`.
        num_threads: int. Interpreter threads.
        runs: int. Timed invocations (the median is kept).
        pixels: bool. Calibrate on 0-255 values (a model that normalizes
            its own input) rather than unit normals (an inner block).
        details: bool. See `measure_tflite_latency`.
        untrained: bool. The model has random weights (a candidate, a
            probe): its batch-norm statistics are first set from the
            calibration inputs (`set_batch_norm_statistics`), as a trained
            network's would be. The model is changed so.

    Returns:
        float, milliseconds (with `details`, a dict that also says whether
        XNNPACK ran it).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        export_for_timing(
            model, path, mode=mode, pixels=pixels, untrained=untrained
        )
        return measure_tflite_latency(
            path, num_threads=num_threads, runs=runs, details=details
        )
