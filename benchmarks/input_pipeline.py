"""ImageNet-layout input pipeline throughput: tfeff's reader against a plain
decode-resize baseline, in the same run.

    python benchmarks/input_pipeline.py [--images 512] [--size 256] [--epochs 3]

Writes a toy ImageNet (class folders of JPEGs, `--size` pixels square)
to a temporary folder, then measures images per second of
- baseline: `tf.data` list → read → `decode_jpeg` → resize to 224 → batch
  (parallel map, no augmentation);
- tfeff: `ImageNetReader(...).dataset(224, training=True)` (shuffle, cv2
  decode, albumentations RandomResizedCrop + flip + colour jitter in a
  `numpy_function` with per-element seeds, batch),
alternating epoch by epoch, after one warm-up epoch each. Prints the table
and the ratio; writes `input_pipeline.json` beside this file.
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from tfeff.data.imagenet import ImageNetReader  # noqa: E402
from tfeff.data.toy import write_toy_imagenet  # noqa: E402
from tfeff.files import atomic_write_json  # noqa: E402


def baseline(reader, size, batch):
    data = tf.data.Dataset.from_tensor_slices((reader.files, reader.labels))

    def load(path, label):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        return tf.image.resize(image, (size, size)), label

    data = data.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return data.batch(batch).prefetch(tf.data.AUTOTUNE)


def images_per_second(dataset):
    start = time.perf_counter()
    count = 0
    for images, _ in dataset:
        count += int(images.shape[0])
    return count / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    per_class = max(1, args.images // 4)
    with tempfile.TemporaryDirectory() as root:
        write_toy_imagenet(root, per_class=(per_class, 1), size=args.size)
        reader = ImageNetReader(root, "train")
        pipelines = {
            "decode + resize (tf.data baseline)": baseline(
                reader, 224, args.batch_size
            ),
            "tfeff reader + albumentations": reader.dataset(
                224, batch_size=args.batch_size, training=True, seed=0
            ),
        }
        for dataset in pipelines.values():
            images_per_second(dataset)  # warm-up
        rates = {name: [] for name in pipelines}
        for epoch in range(args.epochs):
            order = list(pipelines) if epoch % 2 == 0 else list(pipelines)[::-1]
            for name in order:
                rates[name].append(images_per_second(pipelines[name]))
    medians = {
        name: statistics.median(values) for name, values in rates.items()
    }
    names = list(pipelines)
    ratio = medians[names[1]] / medians[names[0]]
    print(
        f"{reader.num_examples} JPEGs of {args.size}x{args.size} -> 224x224, batch "
        f"{args.batch_size}, {os.cpu_count()} cores, median of {args.epochs} epochs"
    )
    print("| pipeline | images/s |")
    print("|---|---:|")
    for name in names:
        print(f"| {name} | {medians[name]:.0f} |")
    print(f"\ntfeff / baseline: {ratio:.2f}x")
    atomic_write_json(
        os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "input_pipeline.json"
        ),
        {
            "date": datetime.date.today().isoformat(),
            "host": platform.node(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "tensorflow": tf.__version__,
            "images": reader.num_examples,
            "source_size": args.size,
            "batch_size": args.batch_size,
            "images_per_second": rates,
            "median_images_per_second": medians,
            "ratio": ratio,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
