"""GPU training throughput: tfeff against keras.applications, same run.

    KERAS_BACKEND=jax python benchmarks/train_throughput.py [--batch 128]

Trains tfeff's EfficientNetB0 and keras.applications' EfficientNetB0 (the
reference: same architecture, parameter count checked equal) on one
resident synthetic batch at 224x224, 1000 classes, SGD, jit-compiled, and
reports images per second after warm-up, in float32 and mixed bfloat16, with
the ratio tfeff / reference. MixNet-S and GhostNet 1.0x (no keras.applications
counterpart) are timed for scale. Runs on any Keras backend; the figures in
RESULTS.md come from the JAX backend on a GPU, where TensorFlow is absent.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfeff  # noqa: E402


def models():
    yield (
        "EfficientNetB0",
        "tfeff",
        lambda: tfeff.applications.EfficientNetB0(weights=None),
    )
    yield (
        "EfficientNetB0",
        "keras.applications",
        lambda: keras.applications.EfficientNetB0(weights=None),
    )
    yield ("MixNetS", "tfeff", lambda: tfeff.applications.MixNetS(weights=None))
    yield (
        "GhostNet 1.0x",
        "tfeff",
        lambda: tfeff.applications.GhostNet(weights=None),
    )


def throughput(build, batch, steps, repeats):
    model = build()
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        jit_compile=True,
    )
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(
        rng.uniform(0, 255, (batch, 224, 224, 3)).astype("float32")
    )
    y = keras.ops.convert_to_tensor(rng.integers(0, 1000, (batch,)))
    start = time.perf_counter()
    loss = model.train_on_batch(x, y)  # Compile.
    compile_seconds = time.perf_counter() - start
    for _ in range(3):
        model.train_on_batch(x, y)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = model.train_on_batch(x, y)
        float(loss)  # Wait for the device.
        rates.append(steps * batch / (time.perf_counter() - start))
    params = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return statistics.median(rates), compile_seconds, params


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="JSON file for the results")
    args = parser.parse_args(argv)
    device = "cpu"
    if keras.backend.backend() == "jax":
        import jax

        device = str(jax.devices()[0].device_kind)
    results = []
    for policy in ("float32", "mixed_bfloat16"):
        keras.config.set_dtype_policy(policy)
        for name, source, build in models():
            rate, compile_seconds, params = throughput(
                build, args.batch, args.steps, args.repeats
            )
            keras.backend.clear_session()
            row = {
                "model": name,
                "source": source,
                "policy": policy,
                "images_per_second": rate,
                "compile_seconds": compile_seconds,
                "trainable_params": params,
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(
        f"{keras.backend.backend()} backend, {device}, batch {args.batch}, 224x224"
    )
    print("| model | policy | tfeff img/s | keras.applications img/s | ratio |")
    print("|---|---|---:|---:|---:|")
    for policy in ("float32", "mixed_bfloat16"):
        rows = [r for r in results if r["policy"] == policy]
        for name in dict.fromkeys(r["model"] for r in rows):
            ours = next(
                r for r in rows if r["model"] == name and r["source"] == "tfeff"
            )
            ref = next(
                (
                    r
                    for r in rows
                    if r["model"] == name and r["source"] != "tfeff"
                ),
                None,
            )
            if ref is not None:
                assert ours["trainable_params"] == ref["trainable_params"]
            print(
                f"| {name} | {policy} | {ours['images_per_second']:.0f} | "
                + (
                    f"{ref['images_per_second']:.0f} | "
                    f"{ours['images_per_second'] / ref['images_per_second']:.2f} |"
                    if ref
                    else "– | – |"
                )
            )
    if args.out:
        with open(args.out, "w") as file:
            json.dump(
                {
                    "backend": keras.backend.backend(),
                    "device": device,
                    "host": platform.node(),
                    "batch": args.batch,
                    "results": results,
                },
                file,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
