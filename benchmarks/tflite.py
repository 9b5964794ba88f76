"""float32 against int8 TFLite latency, per model, in one run.

    python benchmarks/tflite.py [--models efficientnet_b0,...] [--rounds 5]

For EfficientNet-B0, EfficientNet-Lite0, MixNet-S and GhostNet 1.0x at their
native resolutions: export float32 and fully int8 (post-training
quantization calibrated on smooth synthetic images; latency does not depend
on the weights' values), then time both with ai-edge-litert (batch 1,
`--threads` threads, median of `--runs` invocations), float and int8
alternating round by round so that drift on a shared host hits both. Prints
a table with the int8 speed-up (float32 ms / int8 ms) and writes
`tflite.json` beside this file. Goal from the export issue: int8 >= 1.5x
faster than float32 for Lite0.
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfeff  # noqa: E402
from tfeff.data.synthetic import smooth_images  # noqa: E402
from tfeff.export import to_tflite  # noqa: E402
from tfeff.export.tflite import xnnpack_can_prepare  # noqa: E402
from tfeff.files import atomic_write_json  # noqa: E402
from tfeff.models.registry import get_variant  # noqa: E402
from tfeff.profile import measure_tflite_latency  # noqa: E402
from tfeff.profile.latency import set_batch_norm_statistics  # noqa: E402

MODELS = {
    "efficientnet_b0": "EfficientNet-B0",
    "efficientnet_lite0": "EfficientNet-Lite0",
    "mixnet_s": "MixNet-S",
    "ghostnet_100": "GhostNet 1.0x",
}


def calibration_images(size, count=16, seed=0):
    """Images with spatial structure at [0, 255], like photographs."""
    return smooth_images(count, size=size, seed=seed, max_frequency=6.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    names = args.models.split(",")
    unknown = [n for n in names if n not in tfeff.list_variants()]
    if unknown:
        parser.error(f"unknown --models {unknown}")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            variant = get_variant(name)
            size = variant.resolution
            keras.utils.set_random_seed(0)
            model = tfeff.create_model(name)
            images = np.asarray(calibration_images(size), "float32")
            # Random weights with their initial batch-norm statistics give
            # GhostNet int8 scales XNNPACK refuses (see RESULTS.md).
            set_batch_norm_statistics(model, images)
            paths = {
                "float32": to_tflite(
                    model, os.path.join(workdir, f"{name}_f32.tflite")
                ),
                "int8": to_tflite(
                    model,
                    os.path.join(workdir, f"{name}_int8.tflite"),
                    mode="int8",
                    representative_data=[
                        batch[None] for batch in calibration_images(size)
                    ],
                ),
            }
            keras.backend.clear_session()
            times = {mode: [] for mode in paths}
            for round_index in range(args.rounds):
                order = (
                    list(paths) if round_index % 2 == 0 else list(paths)[::-1]
                )
                for mode in order:
                    times[mode].append(
                        measure_tflite_latency(
                            paths[mode],
                            num_threads=args.threads,
                            runs=args.runs,
                        )
                    )
            row = {
                "variant": name,
                "model": MODELS.get(name, name),
                "resolution": size,
                "float32_ms": statistics.median(times["float32"]),
                "int8_ms": statistics.median(times["int8"]),
                "float32_mb": os.path.getsize(paths["float32"]) / 1e6,
                "int8_mb": os.path.getsize(paths["int8"]) / 1e6,
                "int8_xnnpack": xnnpack_can_prepare(paths["int8"]),
                "rounds": times,
            }
            row["int8_speedup"] = row["float32_ms"] / row["int8_ms"]
            rows.append(row)
            print(
                f"{row['model']}: float32 {row['float32_ms']:.2f} ms, int8 "
                f"{row['int8_ms']:.2f} ms, x{row['int8_speedup']:.2f}",
                flush=True,
            )
    print()
    print(
        f"ai-edge-litert, batch 1, {args.threads} threads, median of "
        f"{args.rounds} rounds x {args.runs} runs"
    )
    print(
        "| model | input | float32 ms | int8 ms | int8 speed-up | "
        "float32 MB | int8 MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['model']} | {row['resolution']} | "
            f"{row['float32_ms']:.2f} | {row['int8_ms']:.2f} | "
            f"x{row['int8_speedup']:.2f} | {row['float32_mb']:.2f} | "
            f"{row['int8_mb']:.2f} |"
        )
    lite = next((r for r in rows if r["variant"] == "efficientnet_lite0"), None)
    if lite is not None:
        print(
            f"\nLite0 int8 >= 1.5x faster than float32: "
            f"{lite['int8_speedup'] >= 1.5} (x{lite['int8_speedup']:.2f})"
        )
    atomic_write_json(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "tflite.json"),
        {
            "date": datetime.date.today().isoformat(),
            "host": platform.node(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
            "threads": args.threads,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
