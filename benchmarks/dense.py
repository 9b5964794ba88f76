"""Dense prediction models: params, MACs and float32 TFLite latency.

    python benchmarks/dense.py [--rounds 5] [--runs 20] [--threads 2]

ESPNetv2 segmentation (s = 0.5, 1.0, 1.5, 2.0; 20 Cityscapes classes) at
512x256, ESPNet (p=2, q=8) at 512x256 beside it, and ESPNetv2-SSD (COCO,
80 classes + background) at 300x300, with and without its post-processing
(decode + NMS in the graph). Params and MACs (multiply-adds) come from the
built Keras models (`count_macs`); the published FLOPs
(../shared/reference/architectures.md §5.2, §5.3) are printed beside them.
Latency: ai-edge-litert, batch 1, median of `--rounds` rounds (models
interleaved, so drift on a shared host hits all alike) of `--runs`
invocations. Writes `dense.json` beside this file.
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
import tensorflow as tf  # noqa: E402

import tfeff  # noqa: E402
from tfeff.export import to_tflite  # noqa: E402
from tfeff.export.detection import with_postprocessing  # noqa: E402
from tfeff.files import atomic_write_json  # noqa: E402
from tfeff.profile import count_macs  # noqa: E402
from tfeff.profile import measure_tflite_latency  # noqa: E402

# (label, builder, input "WxH", published params M, published MMACs).
# EdgeNets model/segmentation/model_zoo/README.md (512x256: s = 0.5, 1.0,
# 1.5 only) and model/detection/model_zoo/README.md (COCO 300: 1.1 B).
MODELS = [
    (
        "ESPNetv2-seg s=0.5",
        lambda: tfeff.applications.ESPNetV2Seg(0.5, input_shape=(256, 512, 3)),
        "512x256",
        0.08,
        149.40,
    ),
    (
        "ESPNetv2-seg s=1.0",
        lambda: tfeff.applications.ESPNetV2Seg(1.0, input_shape=(256, 512, 3)),
        "512x256",
        0.23,
        271.66,
    ),
    (
        "ESPNetv2-seg s=1.5",
        lambda: tfeff.applications.ESPNetV2Seg(1.5, input_shape=(256, 512, 3)),
        "512x256",
        0.47,
        428.66,
    ),
    (
        "ESPNetv2-seg s=2.0",
        lambda: tfeff.applications.ESPNetV2Seg(2.0, input_shape=(256, 512, 3)),
        "512x256",
        0.79,
        None,
    ),
    (
        "ESPNet p=2 q=8",
        lambda: tfeff.applications.ESPNetSeg(2, 8, input_shape=(256, 512, 3)),
        "512x256",
        0.36,
        None,
    ),
    (
        "ESPNetv2-SSD (COCO)",
        lambda: tfeff.applications.ESPNetV2SSD(classes=80, input_size=300),
        "300x300",
        5.81,
        1100.0,
    ),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    rows, paths = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        for label, build, size, params_m, macs_m in MODELS:
            keras.utils.set_random_seed(0)
            model = build()
            row = {
                "model": label,
                "input": size,
                "params": sum(
                    int(w.numpy().size) for w in model.trainable_weights
                ),
                "macs": count_macs(model),
                "published_params_m": params_m,
                "published_mmacs": macs_m,
            }
            path = os.path.join(workdir, f"{len(rows)}.tflite")
            paths[label] = to_tflite(model, path)
            if isinstance(model, tfeff.models.ssd.SSDDetector):
                detect = with_postprocessing(model)
                post_label = f"{label} + NMS"
                paths[post_label] = to_tflite(
                    detect, os.path.join(workdir, f"{len(rows)}_nms.tflite")
                )
                rows.append(row)
                rows.append(dict(row, model=post_label))
            else:
                rows.append(row)
            print(f"exported {label}", flush=True)
            keras.backend.clear_session()
        times = {label: [] for label in paths}
        for round_index in range(args.rounds):
            order = list(paths) if round_index % 2 == 0 else list(paths)[::-1]
            for label in order:
                times[label].append(
                    measure_tflite_latency(
                        paths[label], num_threads=args.threads, runs=args.runs
                    )
                )
        for row in rows:
            row["float32_ms"] = statistics.median(times[row["model"]])
            row["rounds_ms"] = times[row["model"]]
    print()
    print(
        f"float32 TFLite (ai-edge-litert), batch 1, {args.threads} threads, "
        f"median of {args.rounds} rounds x {args.runs} runs"
    )
    print(
        "| model | input | params | published params | MACs (multiply-adds) "
        "| published FLOPs (MACs) | float32 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        published = (
            f"{row['published_mmacs']:.2f} M" if row["published_mmacs"] else "—"
        )
        print(
            f"| {row['model']} | {row['input']} | {row['params'] / 1e6:.3f} M | "
            f"{row['published_params_m']:.2f} M | {row['macs'] / 1e6:.2f} M | "
            f"{published} | {row['float32_ms']:.2f} |"
        )
    atomic_write_json(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "dense.json"),
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
