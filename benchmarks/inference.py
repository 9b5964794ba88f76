"""Inference speed of tfeff models.

Two sections, one process each:

- `compare`: tfeff EfficientNet-B0 vs keras.applications' with the same
  weights: Keras CPU throughput at batch 32, 224x224, and float32 TFLite
  latency at batch 1 (ai-edge-litert, 2 threads). Measurements alternate
  between the two models round by round, so drift hits both. Prints ratios
  (>= 1.0 means tfeff is at least as fast).
- `table`: every variant at its native resolution: params, MACs, Keras CPU
  throughput and float32 TFLite latency; then MixNet-S against
  EfficientNet-B0 in alternating rounds; writes JSON and a PNG of latency
  against MACs. Results are saved after each variant, and a rerun skips the
  variants already measured (`--fresh` starts over).

    python benchmarks/inference.py compare [--rounds 5]
    python benchmarks/inference.py table [--variants 'mixnet_*'] [--batch 8]
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

import tfeff  # noqa: E402
import tfeff.export  # noqa: E402
import tfeff.profile  # noqa: E402


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
    # The library's exporter: batch 1, static shapes, as deployed.
    return tfeff.export.to_tflite(model, path, mode="float32")


def tflite_latency_ms(path, runs, threads):
    return tfeff.profile.measure_tflite_latency(
        path, num_threads=threads, warmup=1, runs=runs
    )


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)  # Atomic: never a half-written result file.


def compare(args):
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
        throughput, latency = alternate(models, paths, batch, args)
        sizes = {n: os.path.getsize(p) for n, p in paths.items()}
    result = {
        "date": datetime.date.today().isoformat(),
        "host": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "max_abs_output_diff": diff,
        "keras_throughput_img_per_s": throughput,
        "tflite_latency_ms": latency,
        "tflite_bytes": sizes,
        "throughput_ratio_tfeff_over_keras": throughput["tfeff"]
        / throughput["keras"],
        "tflite_speed_ratio_keras_over_tfeff": latency["keras"]
        / latency["tfeff"],
    }
    print(json.dumps(result, indent=2))
    write_json(args.out or "benchmarks/inference.json", result)
    return result


def alternate(models, paths, batch, args):
    """Medians of throughput and TFLite latency, models alternating."""
    for model in models.values():  # Warm-up: tracing and first run.
        keras_throughput(model, batch, 1)
    throughput = {name: [] for name in models}
    latency = {name: [] for name in models}
    for round_index in range(args.rounds):
        order = list(models) if round_index % 2 == 0 else list(models)[::-1]
        for name in order:
            # TFLite first: right after a Keras predict, TF's thread pools
            # still spin for a while and slow the interpreter down.
            latency[name].append(
                tflite_latency_ms(paths[name], args.tflite_runs, args.threads)
            )
            throughput[name].append(
                keras_throughput(models[name], batch, args.batches)
            )
        print(
            f"round {round_index + 1}/{args.rounds}: "
            + ", ".join(
                f"{n} {throughput[n][-1]:.1f} img/s, tflite {latency[n][-1]:.2f} ms"
                for n in models
            ),
            flush=True,
        )
    return (
        {n: statistics.median(v) for n, v in throughput.items()},
        {n: statistics.median(v) for n, v in latency.items()},
    )


def table(args):
    import fnmatch

    from tqdm import tqdm

    out = args.out or "benchmarks/variants.json"
    data = {}
    if os.path.exists(out) and not args.fresh:
        with open(out) as f:
            data = json.load(f)
    results = data.get("variants", {})
    header = {
        "date": datetime.date.today().isoformat(),
        "host": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "batch": args.batch,
        "threads": args.threads,
    }
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as workdir:
        # The goal first: MixNet-S (38% fewer MACs) against EfficientNet-B0,
        # alternating rounds in this process.
        head_to_head = data.get("mixnet_s_vs_b0")
        if head_to_head is None:
            pair, paths = {}, {}
            batch = rng.uniform(0, 255, (args.batch, 224, 224, 3)).astype(
                "float32"
            )
            for name in ("efficientnet_b0", "mixnet_s"):
                pair[name] = tfeff.create_model(name)
                paths[name] = to_tflite(
                    pair[name], os.path.join(workdir, f"pair_{name}.tflite")
                )
            throughput, latency = alternate(pair, paths, batch, args)
            head_to_head = {
                "keras_img_per_s": throughput,
                "tflite_ms": latency,
                "tflite_ratio_b0_over_mixnet_s": latency["efficientnet_b0"]
                / latency["mixnet_s"],
            }
            print(json.dumps(head_to_head, indent=2), flush=True)
            write_json(
                out,
                {**header, "variants": results, "mixnet_s_vs_b0": head_to_head},
            )
            keras.backend.clear_session()
        names = sorted(
            (
                v
                for v in tfeff.applications.list_models()
                if fnmatch.fnmatchcase(v, args.variants)
            ),
            key=lambda v: tfeff.estimate_cost(v).macs,  # Big models last.
        )
        for name in tqdm(names, desc="variants"):
            if name in results:
                continue
            variant = tfeff.models.get_variant(name)
            size = variant.resolution
            batch = rng.uniform(0, 255, (args.batch, size, size, 3)).astype(
                "float32"
            )
            model = tfeff.create_model(name)
            report = tfeff.estimate_cost(name)
            path = to_tflite(model, os.path.join(workdir, f"{name}.tflite"))
            # TFLite before Keras (see `alternate`).
            latency_ms = tflite_latency_ms(path, args.tflite_runs, args.threads)
            keras_throughput(model, batch, 1)  # Warm-up.
            results[name] = {
                "family": variant.family,
                "resolution": size,
                "params": report.params,
                "macs": report.macs,
                "published_macs": variant.published.macs,
                "published_top1": variant.published.top1,
                "keras_img_per_s": keras_throughput(model, batch, args.batches),
                "tflite_ms": latency_ms,
            }
            tqdm.write(
                f"{name}: {report.macs / 1e6:.0f} M MACs (multiply-adds), "
                f"{results[name]['keras_img_per_s']:.1f} img/s, "
                f"tflite {results[name]['tflite_ms']:.2f} ms"
            )
            write_json(
                out,
                {**header, "variants": results, "mixnet_s_vs_b0": head_to_head},
            )
            plot(results, out.replace(".json", ".png"))
            os.remove(path)
            keras.backend.clear_session()
    print(json.dumps(head_to_head, indent=2))
    print(markdown_table(results))


def markdown_table(results):
    lines = [
        "| variant | input | params | MACs (multiply-adds) | Keras CPU img/s | TFLite fp32 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in sorted(results.items(), key=lambda item: item[1]["macs"]):
        lines.append(
            f"| {name} | {r['resolution']} | {r['params'] / 1e6:.2f}M | "
            f"{r['macs'] / 1e6:.0f}M | {r['keras_img_per_s']:.1f} | {r['tflite_ms']:.2f} |"
        )
    return "\n".join(lines)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    families = sorted({r["family"] for r in results.values()})
    for family in families:
        points = sorted(
            (r["macs"] / 1e6, r["tflite_ms"], n)
            for n, r in results.items()
            if r["family"] == family
        )
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            label=family,
        )
        for x, y, n in points:
            ax.annotate(n.split("_", 1)[-1], (x, y), fontsize=6, alpha=0.7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MACs (multiply-adds), millions, native resolution")
    ax.set_ylabel("float32 TFLite latency, ms (batch 1, 2 threads)")
    ax.set_title("tfeff variants: latency against MACs")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "section", choices=["compare", "table"], nargs="?", default="compare"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--batches", type=int, default=3, help="batches per measurement"
    )
    parser.add_argument(
        "--batch", type=int, default=8, help="batch size of the table"
    )
    parser.add_argument("--tflite-runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--variants", default="*", help="glob over variant names (table)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="table: measure everything again"
    )
    parser.add_argument(
        "--out", default=None, help="JSON path (PNG beside it for the table)"
    )
    args = parser.parse_args(argv)
    return compare(args) if args.section == "compare" else table(args)


if __name__ == "__main__":
    main()
