"""`tfeff-export MODEL.keras --mode int8 --representative-data DIR --edgetpu`.

Converts a saved model to TFLite (or, with `--format`, a SavedModel folder
or an ONNX file), checks the result against the Keras model and, with
`--edgetpu`, writes the EdgeTPU artefacts and report. Prints the size, the
verification figures and the report, and writes `STEM_TAG_export.json`
beside the file (TAG: the TFLite mode, `saved_model` or `onnx`).
"""

import argparse
import os
import sys

from tfeff._cli import add_traceback_flag
from tfeff.export.formats import FORMATS
from tfeff.files import load_model

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def image_files(directory):
    """Image paths under `directory` (any depth), sorted for repeatability."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found += [
            os.path.join(root, name)
            for name in sorted(files)
            if name.lower().endswith(IMAGE_EXTENSIONS)
        ]
    return found


def load_images(directory, size, limit, errors=None):
    """Up to `limit` readable images of `directory`, resized, as [0, 255]
    float32. Files that cannot be opened or decoded are skipped, named
    once and counted in `errors` (a `DecodeErrors`), and the next files
    are read instead."""
    import numpy as np
    import tensorflow as tf

    from tfeff.data.images import DecodeErrors
    from tfeff.data.images import UnreadableImage
    from tfeff.data.images import open_rgb

    errors = DecodeErrors() if errors is None else errors
    paths = image_files(directory)
    if not paths:
        raise ValueError(
            f"No images ({', '.join(IMAGE_EXTENSIONS)}) under "
            f"--representative-data. Received: {directory!r}"
        )
    height, width, channels = size
    images = []
    for path in paths:
        if len(images) == limit:
            break
        try:
            image = open_rgb(path)
        except UnreadableImage as error:
            errors.add(path, str(error).split(": ", 1)[-1])
            continue
        if channels == 1:
            image = image.mean(axis=-1, keepdims=True)
        elif channels != 3:
            raise ValueError(
                f"The model takes {channels}-channel images; "
                "--representative-data images are read as RGB."
            )
        image = tf.image.resize(
            image.astype("float32"), (height, width), antialias=True
        )
        images.append(image.numpy())
    if not images:
        raise ValueError(
            f"None of the {len(paths)} image files under "
            f"--representative-data {directory!r} could be read "
            f"({errors.examples[0]})."
        )
    return np.clip(np.stack(images), 0, 255).astype("float32")


def _random_images(shape, count):
    """Smooth random images; pure noise makes a poor comparison input."""
    from tfeff.data.synthetic import smooth_images

    height, width, channels = shape
    images = smooth_images(count, size=max(height, width), channels=channels)
    return images[:, :height, :width]


def _parser():
    parser = argparse.ArgumentParser(
        prog="tfeff-export",
        description="Export a saved Keras model (.keras) to TFLite and, "
        "optionally, the EdgeTPU; verify the file against the model.",
    )
    parser.add_argument("model", help="a .keras file (float or QAT model)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="tflite",
        help="tflite (default); saved_model (a TensorFlow SavedModel folder "
        "with a `serve` endpoint); onnx (needs tfeff[onnx]). All through "
        "Keras' own exporter, each verified against the model",
    )
    parser.add_argument(
        "--mode",
        choices=("float32", "float16", "dynamic", "int8"),
        default=None,
        help="TFLite only. Default: int8 for a quantization-aware model, "
        "else float32",
    )
    parser.add_argument(
        "--representative-data",
        metavar="DIR",
        default=None,
        help="folder of images (any depth) to calibrate int8 ranges and to "
        "verify on; needed for --mode int8 on a float model",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=200,
        help="images read from --representative-data (default 200)",
    )
    parser.add_argument(
        "--io-dtype",
        choices=("float32", "int8", "uint8"),
        default="float32",
        help="input/output type of an int8 model (default float32)",
    )
    parser.add_argument(
        "--edgetpu",
        action="store_true",
        help="also write the int8 EdgeTPU model and its compatibility "
        "report (and run edgetpu_compiler when it is on PATH)",
    )
    parser.add_argument(
        "--labels",
        metavar="FILE",
        default=None,
        help="a classifier's class names, one per line in output order, "
        "packed into the file with its standard metadata (MediaPipe's "
        "ImageClassifier shows them)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: the model's folder)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's and the converter's own log lines",
    )
    return add_traceback_flag(parser)


def _fail(parser, message):
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def main(argv=None):
    from tfeff._cli import errors_as_one_line
    from tfeff._console import quiet_keras_import
    from tfeff._console import set_verbose

    parser = _parser()
    args = parser.parse_args(argv)
    set_verbose(args.verbose)
    quiet_keras_import()  # After --help: it answers without TensorFlow.
    with errors_as_one_line(parser, args):
        return run(parser, args)


def run(parser, args):
    from tfeff._cli import check_output_folder

    # Argument checks come before TensorFlow is imported: a typo costs
    # a second, not a TensorFlow start-up.
    if not os.path.isfile(args.model) or not args.model.endswith(".keras"):
        _fail(parser, f"MODEL must be a .keras file. Received: {args.model!r}")
    if args.representative_data is not None and not os.path.isdir(
        args.representative_data
    ):
        _fail(
            parser,
            "--representative-data must be a folder. Received: "
            f"{args.representative_data!r}",
        )
    if args.samples < 1:
        _fail(parser, f"--samples must be >= 1. Received: {args.samples}")
    if args.format != "tflite":
        tflite_only = [
            flag
            for flag, given in (
                ("--mode", args.mode is not None),
                ("--io-dtype", args.io_dtype != "float32"),
                ("--edgetpu", args.edgetpu),
            )
            if given
        ]
        if tflite_only:
            _fail(
                parser,
                f"{', '.join(tflite_only)} applies to --format tflite only. "
                f"Received: --format {args.format}",
            )
    if args.format == "onnx":
        from tfeff._cli import MissingPackageError
        from tfeff.export.formats import _require_onnx

        try:
            _require_onnx("--format onnx")
        except MissingPackageError as error:
            _fail(parser, str(error))
    labels = None
    if args.labels is not None:
        try:
            with open(args.labels, encoding="utf-8") as file:
                labels = [line.rstrip("\r\n") for line in file]
        except OSError as error:
            _fail(parser, f"--labels {args.labels!r}: {error.strerror}")
        while labels and not labels[-1].strip():
            labels.pop()  # a final empty line
    out = check_output_folder(
        args.out or os.path.dirname(os.path.abspath(args.model)), "--out"
    )

    import tfeff  # noqa: F401  Registers tfeff's layers for loading.
    from tfeff.export.tflite import _is_qat
    from tfeff.export.tflite import verify
    from tfeff.files import atomic_write_json

    model = load_model(args.model, compile=False)
    qat = _is_qat(model)
    shape = tuple(model.input_shape[1:])
    if args.format == "tflite":
        _check_shape(parser, shape, "a TFLite file needs one")
    images = None
    if args.representative_data is not None:
        from tfeff.data.images import DecodeErrors

        skipped = DecodeErrors()
        size = _check_shape(parser, shape)
        images = load_images(
            args.representative_data, size, args.samples, skipped
        )
        if skipped.count:
            print(f"Representative data: {skipped.report()}")
    os.makedirs(out, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.model))[0]
    if args.format == "tflite":
        path, tag, summary = _export_tflite(
            parser, args, model, qat, images, labels, out, stem
        )
    else:
        path, tag, summary = _export_other(args, model, labels, out, stem)

    source = "representative images"
    check = images
    if check is None:
        source = (
            "smooth random images (pass --representative-data for real ones)"
        )
        check = _random_images(_check_shape(parser, shape), 16)
    check = check[:64]
    figures = verify(path, model, check)
    print(
        f"Verification on {figures['samples']} {source}: top-1 agreement "
        f"{figures['top1_agreement']:.4f}, max |diff| "
        f"{figures['max_abs_diff']:.4g}, mean |diff| "
        f"{figures['mean_abs_diff']:.4g}"
    )
    summary = {
        "model": os.path.abspath(args.model),
        "format": args.format,
        **summary,
        "quantization_aware": qat,
        "verification": dict(figures, inputs=source),
    }
    if args.edgetpu:
        from tfeff.export.edgetpu import to_edgetpu

        edgetpu_dir = os.path.join(out, f"{stem}_edgetpu")
        try:
            report = to_edgetpu(
                model
                if summary["mode"] != "int8" or args.io_dtype != "int8"
                else path,
                edgetpu_dir,
                representative_data=images,
            )
        except (ValueError, TypeError) as error:
            _fail(parser, f"--edgetpu: {error}")
        print(report.table())
        summary["edgetpu"] = {
            "dir": edgetpu_dir,
            "mapped": report.mapped,
            "total": len(report.ops),
            "all_mapped": report.all_mapped,
        }
    atomic_write_json(os.path.join(out, f"{stem}_{tag}_export.json"), summary)
    return 0


def _check_shape(parser, shape, why="images to verify on need one"):
    """The model's input size, which must be fixed for `why`."""
    if any(dim is None for dim in shape):
        _fail(
            parser,
            f"the model's input size is not fixed ({shape}); {why}: "
            "rebuild it with input_shape=(height, width, channels)",
        )
    return shape


def _export_tflite(parser, args, model, qat, images, labels, out, stem):
    from tfeff.export.tflite import to_tflite

    mode = args.mode or ("int8" if qat else "float32")
    if mode == "int8" and not qat and images is None:
        _fail(
            parser,
            "--mode int8 on a float model needs --representative-data DIR "
            "(images to calibrate activation ranges), or export a "
            "quantization-aware model",
        )
    if args.edgetpu and not qat and images is None:
        _fail(
            parser,
            "--edgetpu on a float model needs --representative-data DIR "
            "(the EdgeTPU runs int8 only), or export a quantization-aware "
            "model",
        )
    path = os.path.join(out, f"{stem}_{mode}.tflite")
    to_tflite(
        model,
        path,
        mode=mode,
        representative_data=images,
        io_dtype=args.io_dtype,
        labels=labels,
    )
    size = os.path.getsize(path)
    print(f"Wrote {path}: {size / 1e6:.2f} MB ({mode}, {args.io_dtype} IO)")
    summary = {
        "tflite": path,
        "mode": mode,
        "io_dtype": args.io_dtype,
        "size_bytes": size,
    }
    return path, mode, summary


def _folder_size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, files in os.walk(path)
        for name in files
    )


def _export_other(args, model, labels, out, stem):
    from tfeff.export.formats import to_onnx
    from tfeff.export.formats import to_saved_model

    if args.format == "onnx":
        path = to_onnx(model, os.path.join(out, f"{stem}.onnx"), labels=labels)
    else:
        path = to_saved_model(
            model, os.path.join(out, f"{stem}_saved_model"), labels=labels
        )
    size = _folder_size(path)
    print(f"Wrote {path}: {size / 1e6:.2f} MB ({args.format})")
    summary = {"path": path, "size_bytes": size}
    return path, args.format, summary


if __name__ == "__main__":
    sys.exit(main())
