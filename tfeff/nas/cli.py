"""`tfeff-search` / `python search/run.py`: architecture search under a MACs
or latency budget, then retraining, QAT, int8 export and a report.

"FLOPs" in `--budget` means multiply-adds, as the papers count them
(EfficientNet-B0 = 0.39 G), at batch 1 and the `--resolution` input.
"""

import argparse
import os
import re
import sys

from tfeff._cli import add_traceback_flag
from tfeff._cli import check_output_folder
from tfeff._cli import errors_as_one_line
from tfeff._cli import one_line
from tfeff.nas.space import KINDS
from tfeff.nas.space import SKELETONS

EPILOG = """\
examples:
  tfeff-search --budget 0.4GFLOPs
  tfeff-search --budget 300M --space mbconv,ghost --trials 20 --oracle bayesian
  tfeff-search --budget 0.4G --latency-budget 9ms    (pick it with
                    tfeff-profile efficientnet_b0 --latency: a baseline's ms)
  tfeff-search --budget 0.4G --resume                (continue the latest run)

distributed (one search, several processes, shared --out):
  KERASTUNER_TUNER_ID=chief   KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000 tfeff-search --out runs/s1 ...
  KERASTUNER_TUNER_ID=tuner0  KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000 tfeff-search --out runs/s1 ...
  (same arguments everywhere; the chief serves the oracle, then retrains,
  quantizes and exports the winner)
"""


def parse_latency(text):
    """`8ms`, `8`, `0.008s`, `8000us` → milliseconds.

    >>> parse_latency("8ms"), parse_latency("0.5s"), parse_latency("250us")
    (8.0, 500.0, 0.25)
    """
    match = re.fullmatch(
        r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|us|µs)?\s*",
        str(text),
    )
    if not match:
        raise ValueError(
            "`--latency-budget` must be a duration such as 8ms, 0.008s or "
            f"8000us. Received: {text!r}"
        )
    value = float(match.group(1))
    scale = {"ms": 1.0, None: 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001}
    value *= scale[match.group(2)]
    if value <= 0:
        raise ValueError(f"`--latency-budget` must be > 0. Received: {text!r}")
    return value


def build_parser():
    from tfeff.nas.config import SearchConfig

    d = SearchConfig()  # One place for the defaults.
    parser = argparse.ArgumentParser(
        prog="tfeff-search",
        description=(
            "Search efficient architectures (MBConv, MixConv, Ghost, EESP "
            "blocks on EfficientNet-B0's stage layout) under a budget of "
            "MACs (multiply-adds; 'FLOPs' as the papers count them) and/or "
            "TFLite latency, retrain the best, run quantization-aware "
            "training and export the winner to TFLite int8 and EdgeTPU."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--budget",
        default="0.4GFLOPs",
        help="MACs budget at --resolution: 0.4GFLOPs, 400MFLOPs, 400M, 4e8, "
        "or 'none' with --latency-budget (default: 0.4GFLOPs = 400M MACs)",
    )
    add(
        "--latency-budget",
        default=None,
        help="TFLite latency budget on this host, e.g. 8ms (batch 1, "
        "--latency-threads, --latency-mode), from a per-block table measured "
        "once and cached; a baseline's figure from `tfeff-profile "
        "efficientnet_b0 --latency` is a good anchor",
    )
    add(
        "--latency-mode",
        default="int8",
        choices=("int8", "float32"),
        help="which TFLite model --latency-budget is measured on: the fully "
        "int8 one the search exports (default) or float32",
    )
    add(
        "--latency-threads",
        type=int,
        default=d.latency_threads,
        help="TFLite interpreter threads --latency-budget is measured with "
        f"({d.latency_threads}: one phone core)",
    )
    add(
        "--resolution",
        type=int,
        default=224,
        help="deployment resolution at which the budget is costed (224)",
    )
    add(
        "--proxy-resolution",
        type=int,
        default=32,
        help="resolution the proxy task is trained at (32)",
    )
    add(
        "--dataset",
        default="digits",
        help="digits (embedded, scikit-learn's handwritten digits), cifar10 "
        "(keras.datasets, downloads once) or folder:PATH (one folder per "
        "class) (digits)",
    )
    add(
        "--space",
        default=",".join(KINDS),
        help=f"block kinds a stage may use, comma-separated ({','.join(KINDS)})",
    )
    add(
        "--skeleton",
        default=d.skeleton,
        choices=sorted(SKELETONS),
        help="stage layout the choices fill: EfficientNet-B0's, or a "
        f"4-stage miniature for quick checks ({d.skeleton})",
    )
    add(
        "--trials",
        type=int,
        default=d.trials,
        help=f"search trials, baselines included ({d.trials})",
    )
    add(
        "--epochs-per-trial",
        type=int,
        default=d.epochs_per_trial,
        help=f"proxy training epochs per trial ({d.epochs_per_trial})",
    )
    add(
        "--oracle",
        default=d.oracle,
        choices=("random", "evolution", "bayesian"),
        help=f"how trials are proposed ({d.oracle})",
    )
    add(
        "--retrain-top",
        type=int,
        default=d.retrain_top,
        help=f"best trials retrained ({d.retrain_top})",
    )
    add(
        "--retrain-epochs",
        type=int,
        default=d.retrain_epochs,
        help=f"epochs of the retrain ({d.retrain_epochs})",
    )
    add(
        "--retrain-seeds",
        type=int,
        default=d.retrain_seeds,
        help="trainings per retrained trial, ranked on their mean "
        f"validation accuracy ({d.retrain_seeds}; 3 ranks candidates a point "
        "apart more reliably)",
    )
    add(
        "--qat-epochs",
        type=int,
        default=d.qat_epochs,
        help=f"QAT fine-tuning epochs ({d.qat_epochs})",
    )
    add(
        "--no-baselines",
        action="store_true",
        help="do not seed the search with the B0/MixNet/GhostNet-style "
        "baselines scaled to the budget",
    )
    add(
        "--no-fill-budget",
        action="store_true",
        help="retrain the best trials as searched, not widened by a channel "
        "multiplier to the MACs budget (as the baselines they are compared "
        "with are)",
    )
    add("--no-edgetpu", action="store_true", help="skip the EdgeTPU report")
    add(
        "--seed",
        type=int,
        default=0,
        help="proposals, initialization, splits (0)",
    )
    add(
        "--out",
        default=None,
        help="report directory (default: runs/search-<timestamp>)",
    )
    add(
        "--resume",
        action="store_true",
        help="continue the run in --out (default: the latest runs/search-*)",
    )
    add("-q", "--quiet", action="store_true", help="print nothing but errors")
    add(
        "-v",
        "--verbose",
        action="store_true",
        help="also print Keras' own epoch lines, each latency measurement "
        "and TensorFlow's warnings (TFEFF_VERBOSE=1 in the environment: "
        "also its C++ log lines)",
    )
    return add_traceback_flag(parser)


def config_from_args(args, parser):
    """`SearchConfig` from parsed arguments; argument errors exit early."""
    from tfeff.nas.config import SearchConfig
    from tfeff.nas.config import default_out_dir
    from tfeff.nas.config import latest_run
    from tfeff.nas.tuner import is_worker
    from tfeff.profile.budget import parse_budget

    try:
        budget = None
        if str(args.budget).strip().lower() != "none":
            budget = parse_budget(args.budget)
        latency = None
        if args.latency_budget is not None:
            latency = parse_latency(args.latency_budget)
        kinds = tuple(k.strip() for k in args.space.split(",") if k.strip())
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(
                f"--space takes block kinds among {', '.join(KINDS)}. "
                f"Received: {args.space!r}"
            )
        out = args.out
        if args.resume and out is None:
            out = latest_run()
            if out is None:
                raise ValueError("--resume found no runs/search-* to continue.")
        if (
            args.resume
            and not os.path.isfile(os.path.join(out, "config.json"))
            and not is_worker()
        ):
            raise ValueError(
                f"--resume: {out!r} holds no search to continue (no "
                "config.json); leave out --resume to start one there."
            )
        if out is None:
            out = default_out_dir()
        elif (
            not args.resume
            and os.path.isfile(os.path.join(out, "config.json"))
            and os.environ.get("KERASTUNER_TUNER_ID", "chief").startswith(
                "chief"
            )
        ):
            raise ValueError(
                f"{out!r} already holds a search; pass --resume to continue "
                "it or choose another --out."
            )
        check_output_folder(out, "--out")
        verbose = 0 if args.quiet else (2 if args.verbose else 1)
        return SearchConfig(
            budget_macs=budget,
            latency_budget_ms=latency,
            latency_mode=args.latency_mode,
            latency_threads=args.latency_threads,
            resolution=args.resolution,
            proxy_resolution=args.proxy_resolution,
            dataset=args.dataset,
            kinds=kinds,
            skeleton=args.skeleton,
            trials=args.trials,
            epochs_per_trial=args.epochs_per_trial,
            oracle=args.oracle,
            baselines=not args.no_baselines,
            fill_budget=not args.no_fill_budget,
            retrain_top=args.retrain_top,
            retrain_epochs=args.retrain_epochs,
            retrain_seeds=args.retrain_seeds,
            qat_epochs=args.qat_epochs,
            seed=args.seed,
            out=out,
            edgetpu=not args.no_edgetpu,
            verbose=verbose,
        )
    except (TypeError, ValueError) as error:
        if args.traceback:
            raise
        parser.exit(2, f"{parser.prog}: error: {one_line(error)}\n")


def main(argv=None):
    from tfeff._console import quiet_keras_import
    from tfeff._console import set_verbose

    parser = build_parser()
    args = parser.parse_args(argv)
    set_verbose(args.verbose)
    quiet_keras_import()  # After --help: it answers without TensorFlow.
    config = config_from_args(args, parser)
    from tfeff.nas.pipeline import prepare
    from tfeff.nas.pipeline import run_search

    with errors_as_one_line(parser, args):
        # BudgetExceededError and SearchSetupError are ValueErrors: refusals
        # up front (a latency budget nothing meets is found once the table
        # has the cheapest candidate), said in one line like the others.
        prepare(config)  # Budget, lock: before loading anything.
        run_search(config)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
