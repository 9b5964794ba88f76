"""`tfeff-train`: fine-tune a (pretrained) model on your own image folder,
train it quantization-aware and export a deployable int8 TFLite file.

    tfeff-train --model efficientnet_lite0 --weights imagenet \\
        --data folder:PATH --out runs/pets

PATH holds one sub-folder per class (or `train/` and `val/`, each so).
Started again with the same command, a run resumes where it stopped.
"""

import argparse
import sys

from tfeff._cli import add_traceback_flag
from tfeff._cli import check_output_folder
from tfeff._cli import errors_as_one_line
from tfeff.train.finetune_config import EXPORTS
from tfeff.train.finetune_config import FinetuneConfig


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tfeff-train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    add = parser.add_argument
    add("--model", required=True, help="variant, e.g. efficientnet_lite0")
    add(
        "--weights",
        default="imagenet",
        help="'imagenet' (default: the backbone, a new classifier), 'none', "
        "or a weights file",
    )
    add(
        "--source",
        default="",
        help="the reference that wrote a --weights file, e.g. "
        "efficientnet_pytorch:efficientnet-lite0 (tfeff.weights."
        "list_sources())",
    )
    add("--data", required=True, help="folder:PATH or PATH (class folders)")
    add("--out", required=True, help="run folder (resumes if it exists)")
    add(
        "--image-size",
        type=int,
        default=0,
        help="square input size (default: the variant's)",
    )
    add("--epochs", type=int, default=10, help="full fine-tuning epochs")
    add(
        "--freeze-epochs",
        type=int,
        default=2,
        help="epochs of the new classifier alone first (default 2)",
    )
    add("--qat-epochs", type=int, default=1, help="quantization-aware epochs")
    add("--batch-size", type=int, default=32)
    add("--learning-rate", type=float, default=1e-3)
    add(
        "--validation-fraction",
        type=float,
        default=0.2,
        help="held out per class when PATH has no val/ (default 0.2)",
    )
    add("--export", choices=EXPORTS, default="int8")
    add("--edgetpu", action="store_true", help="also the EdgeTPU report")
    add("--seed", type=int, default=0)
    add(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's own log lines",
    )
    return add_traceback_flag(parser)


def main(argv=None):
    from tfeff._console import quiet_keras_import
    from tfeff._console import set_verbose

    parser = build_parser()
    args = parser.parse_args(argv)
    set_verbose(args.verbose)
    quiet_keras_import()  # After --help: it answers without TensorFlow.
    with errors_as_one_line(parser, args):
        config = FinetuneConfig(
            model=args.model,
            data=args.data,
            out=check_output_folder(args.out, "--out"),
            weights=args.weights,
            source=args.source,
            image_size=args.image_size,
            epochs=args.epochs,
            freeze_epochs=args.freeze_epochs,
            qat_epochs=args.qat_epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            validation_fraction=args.validation_fraction,
            export=args.export,
            edgetpu=args.edgetpu,
            seed=args.seed,
        )
        from tfeff.train.finetune import run_finetune

        run_finetune(config)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
