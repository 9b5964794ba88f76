"""Latency of `.tflite` files on this host, measured with ai-edge-litert."""

import os
import statistics
import time
import warnings

import numpy as np


def measure_tflite_latency(path, *, num_threads=1, warmup=3, runs=20, seed=0):
    """Median wall time of one `invoke()` in milliseconds.

    Inputs are random values of the model's input dtype; the median over
    `runs` timed invocations after `warmup` untimed ones resists the odd slow
    run from a busy host.

    Args:
        path: str. A `.tflite` file.
        num_threads: int. Interpreter threads (1: the phone-core baseline).
        warmup, runs: int.
        seed: int. For the random input.

    Returns:
        float, milliseconds.
    """
    if not os.path.isfile(path):
        raise ValueError(f"`path` is not a file. Received: path={path!r}")
    if runs < 1:
        raise ValueError(f"`runs` must be >= 1. Received: runs={runs!r}")
    from tfeff.export.tflite import make_interpreter

    interpreter, xnnpack = make_interpreter(path, num_threads)
    if not xnnpack:
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
    return 1000.0 * statistics.median(times)
