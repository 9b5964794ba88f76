"""Latency-table probes: one TFLite conversion per block, against every
block of a network as the signatures of one file.

    python benchmarks/probe_batching.py [--variant efficientnet_b0]
        [--threads 2] [--runs 20]

The search's latency table (`tfeff.nas.latency.LatencyTable`) converts and
times each distinct block on its own. Issue 19 asked whether converting
them in batches would fill a cold cache faster. This script times both
ways, in one process, on the same probe models (built by the table's own
`_probe`, batch norms fitted to the calibration inputs as the table does):

- single: `measure_model_latency` per block (one int8 conversion each);
- batched: one SavedModel holding every probe as a signature (variables
  frozen first), one int8 conversion with a per-signature representative
  set, then each signature runner timed.

Prints the wall time of each way and the per-block latencies side by side.
Not a test: timings on a shared VM are noisy.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import tfeff  # noqa: E402
from tfeff.profile.latency import cpu_model  # noqa: E402
from tfeff.profile.latency import int8_instructions  # noqa: E402


def probes(variant, threads):
    from tfeff.nas.latency import LatencyTable
    from tfeff.profile.latency import set_batch_norm_statistics

    arch = tfeff.models.get_variant(variant).resolved_arch()
    table = LatencyTable(
        224, 10, num_threads=threads, directory=tempfile.mkdtemp(),
        verbose=False,
    )  # fmt: skip
    spec, rows, channels = table._instances(arch)
    found = []
    for key, instance, size in {row[0]: row for row in rows}.values():
        model, pixels = table._probe(spec, instance, size, channels)
        rng = np.random.default_rng(0)
        shape = (8,) + tuple(model.input_shape[1:])
        data = (
            rng.uniform(0, 255, shape) if pixels else rng.normal(0, 1, shape)
        ).astype("float32")
        set_batch_norm_statistics(model, data)
        found.append((key, model, data, pixels))
    return found


def one_conversion_each(found, threads, runs):
    from tfeff.profile.latency import export_for_timing
    from tfeff.profile.latency import measure_tflite_latency

    times = {}
    with tempfile.TemporaryDirectory() as folder:
        for index, (key, model, _, pixels) in enumerate(found):
            path = os.path.join(folder, f"{index}.tflite")
            # Batch norms already fitted to the same kind of inputs.
            export_for_timing(model, path, pixels=pixels)
            times[key] = measure_tflite_latency(
                path, num_threads=threads, runs=runs
            )
    return times


def _frozen_signature(model, spec):
    """A tf.function of `model` with its variables frozen into constants
    (a SavedModel of several Keras models otherwise keeps READ_VARIABLE
    ops the calibrator cannot run). A factory, not a lambda with default
    arguments: SavedModel cannot encode those."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    concrete = tf.function(
        lambda x: {"y": model(x, training=False)}
    ).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    return tf.function(lambda x: frozen(x), input_signature=[spec])


def one_file(found, threads, runs):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from tfeff._console import native_output_captured

    module = tf.Module()
    keys = []
    for index, (_, model, _, _) in enumerate(found):
        spec = tf.TensorSpec(
            (1,) + tuple(model.input_shape[1:]), tf.float32, name="x"
        )
        setattr(module, f"p{index}", _frozen_signature(model, spec))
        keys.append(f"p{index}")
    with tempfile.TemporaryDirectory() as folder:
        tf.saved_model.save(
            module,
            folder,
            signatures={key: getattr(module, key) for key in keys},
            options=tf.saved_model.SaveOptions(
                experimental_custom_gradients=False
            ),
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(
            folder, signature_keys=keys
        )
        converter.optimizations = [tf.lite.Optimize.DEFAULT]

        def representative():
            for key, (_, _, data, _) in zip(keys, found):
                for row in range(len(data)):
                    yield key, {"x": data[row : row + 1]}

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8
        ]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        with native_output_captured():
            blob = converter.convert()
    path = os.path.join(tempfile.mkdtemp(), "batched.tflite")
    with open(path, "wb") as file:
        file.write(blob)
    interpreter = Interpreter(model_path=path, num_threads=threads)
    times = {}
    rng = np.random.default_rng(0)
    for key, (name, _, _, _) in zip(keys, found):
        runner = interpreter.get_signature_runner(key)
        shape = runner.get_input_details()["x"]["shape"]
        x = rng.integers(-128, 128, shape).astype(np.int8)
        for _ in range(3):
            runner(x=x)
        timed = []
        for _ in range(runs):
            start = time.perf_counter()
            runner(x=x)
            timed.append(time.perf_counter() - start)
        times[name] = 1000 * statistics.median(timed)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="efficientnet_b0")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    found = probes(args.variant, args.threads)
    print(
        f"{args.variant}: {len(found)} distinct blocks; {cpu_model()}, "
        f"int8: {', '.join(int8_instructions()) or 'none'}; "
        f"{args.threads} threads"
    )
    start = time.perf_counter()
    single = one_conversion_each(found, args.threads, args.runs)
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    batched = one_file(found, args.threads, args.runs)
    batched_s = time.perf_counter() - start
    print(
        f"one conversion per block: {single_s:.1f} s; one file of "
        f"{len(found)} signatures: {batched_s:.1f} s "
        f"(ratio {batched_s / single_s:.2f})"
    )
    print(
        f"sum of block latencies: {sum(single.values()):.2f} ms single, "
        f"{sum(batched.values()):.2f} ms batched"
    )
    print("| block | single (ms) | batched (ms) |\n|---|---:|---:|")
    for key in single:
        print(f"| `{key}` | {single[key]:.3f} | {batched[key]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
