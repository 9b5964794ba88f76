"""Inference speed: tfeff EfficientNet-B0 vs keras.applications, same weights.

In one process: Keras CPU throughput at batch 32, 224x224, and float32 TFLite
latency at batch 1 with ai-edge-litert on 2 threads. Measurements alternate
between the two models round by round, so drift on the machine hits both.
Prints ratios (>= 1.0 means tfeff is at least as fast) and writes JSON.

    python benchmarks/inference.py [--rounds 5] [--out benchmarks/inference.json]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

import tfeff  # noqa: E402


def same_weight_models(workdir):
    """keras.applications B0 and tfeff B0 holding identical weights."""
    theirs = keras.applications.EfficientNetB0(weights=None)
    path = os.path.join(workdir, "efficientnetb0.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, theirs)
    ours = tfeff.applications.EfficientNetB0(weights=path)
    return ours, theirs


def keras_throughput(model, images, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        model.predict_on_batch(images)
    return iterations * len(images) / (time.perf_counter() - start)


def to_tflite(model, path):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    data = converter.convert()
    with open(path, "wb") as f:
        f.write(data)
    return path


def tflite_latency_ms(path, image, iterations, threads):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, image.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, image)
    interpreter.invoke()  # Warm-up.
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--batches", type=int, default=3, help="batches per round"
    )
    parser.add_argument("--tflite-runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/inference.json")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (32, 224, 224, 3)).astype("float32")
    with tempfile.TemporaryDirectory() as workdir:
        ours, theirs = same_weight_models(workdir)
        diff = float(
            np.abs(
                ours.predict_on_batch(batch) - theirs.predict_on_batch(batch)
            ).max()
        )
        models = {"tfeff": ours, "keras": theirs}
        paths = {
            name: to_tflite(m, os.path.join(workdir, f"{name}.tflite"))
            for name, m in models.items()
        }
        for model in models.values():  # Warm-up: tracing and first run.
            keras_throughput(model, batch, 1)
        throughput = {name: [] for name in models}
        latency = {name: [] for name in models}
        for round_index in range(args.rounds):
            order = list(models) if round_index % 2 == 0 else list(models)[::-1]
            for name in order:
                throughput[name].append(
                    keras_throughput(models[name], batch, args.batches)
                )
                latency[name].append(
                    tflite_latency_ms(
                        paths[name], batch[:1], args.tflite_runs, args.threads
                    )
                )
            print(
                f"round {round_index + 1}/{args.rounds}: "
                + ", ".join(
                    f"{n} {throughput[n][-1]:.1f} img/s, "
                    f"tflite {latency[n][-1]:.2f} ms"
                    for n in models
                ),
                flush=True,
            )
        sizes = {n: os.path.getsize(p) for n, p in paths.items()}
    result = {
        "date": datetime.date.today().isoformat(),
        "host": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "max_abs_output_diff": diff,
        "keras_throughput_img_per_s": {
            n: statistics.median(v) for n, v in throughput.items()
        },
        "tflite_latency_ms": {
            n: statistics.median(v) for n, v in latency.items()
        },
        "tflite_bytes": sizes,
    }
    t = result["keras_throughput_img_per_s"]
    lat = result["tflite_latency_ms"]
    result["throughput_ratio_tfeff_over_keras"] = t["tfeff"] / t["keras"]
    result["tflite_speed_ratio_keras_over_tfeff"] = lat["keras"] / lat["tfeff"]
    print(json.dumps(result, indent=2))
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
    os.replace(tmp, args.out)  # Atomic: never a half-written result file.
    return result


if __name__ == "__main__":
    main()
