"""Pieces the recipes (`tfeff.recipes`, run by `recipes/*.py`) share: the command line,
optimizers and schedules of the published recipes, L2 weight decay, and
the segmentation loss with an ignore label.

Command line (every recipe): `--model --weights --data-dir --out --epochs
--batch-size --image-size --strategy --mixed-precision --xla --config FILE
--set key=value`. `--batch-size` is the global batch (split across
replicas). Precedence: the recipe's config file < `--config` < flags <
`--set`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import argparse
import os

import keras

from tfeff._cli import add_traceback_flag
from tfeff.files import load_model
from tfeff.train.config import load_yaml
from tfeff.train.config import resolve_config
from tfeff.train.losses import SparseCrossEntropyIgnore  # noqa: F401
from tfeff.train.runner import DISTRIBUTION_STRATEGIES
from tfeff.train.runner import PRECISIONS
from tfeff.train.schedules import PerEpochSchedule
from tfeff.train.schedules import WarmupExponentialDecay
from tfeff.train.schedules import hybrid_lr_per_epoch


def recipe_main(module_doc, module_file, run, argv=None):
    """A recipe's `main`: its flags parsed (the description is the first
    paragraph of its docstring, the program its file name), then `run(args)`
    with library errors as one line and exit status 2."""
    from tfeff._cli import errors_as_one_line

    parser = build_parser(
        module_doc.split("\n\n")[0], prog=os.path.basename(module_file)
    )
    args = parser.parse_args(argv)
    with errors_as_one_line(parser, args):
        return run(args)


def build_parser(description, prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--model", help="variant name, e.g. efficientnet_b0")
    parser.add_argument(
        "--weights",
        help="start from pretrained weights: imagenet, imagenet:TAG or a "
        "weights file (the backbone's, for detection and segmentation); "
        "default: from scratch",
    )
    parser.add_argument("--data-dir", help="data set root (the real layout)")
    parser.add_argument(
        "--out", required=True, help="run directory (resumes if it exists)"
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, help="global batch size")
    parser.add_argument(
        "--image-size", type=int, help="square input size (pixels)"
    )
    parser.add_argument("--strategy", choices=DISTRIBUTION_STRATEGIES)
    parser.add_argument("--mixed-precision", choices=PRECISIONS)
    parser.add_argument(
        "--xla", action="store_true", default=None, help="jit_compile=True"
    )
    parser.add_argument("--config", help="YAML file of overrides")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config key (repeatable)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's own log lines",
    )
    return add_traceback_flag(parser)


def resolve(args, defaults_file):
    """The config from the defaults file, `--config`, flags and `--set`,
    checked; `--out` made and proved writable (all before any work)."""
    from tfeff._cli import check_output_folder
    from tfeff._console import set_verbose

    set_verbose(getattr(args, "verbose", False))
    flags = {
        "model": args.model,
        "weights": args.weights,
        "data_dir": args.data_dir,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "image_size": args.image_size,
        "strategy": args.strategy,
        "mixed_precision": args.mixed_precision,
        "xla": args.xla,
    }
    config = resolve_config(
        load_yaml(defaults_file),
        config_file=args.config,
        flags=flags,
        set_options=args.set,
    )
    if not config.get("data_dir"):
        raise ValueError("--data-dir is required (or data_dir in --config).")
    check_config(config)
    check_output_folder(args.out, "--out")
    return config


# The recipes' numbers and the ranges that train something: (key,
# lowest, highest, lowest allowed?, highest allowed?, what it is). A key
# a recipe's config lacks is not checked.
RANGES = (
    ("epochs", 1, None, True, None, "the number of epochs"),
    ("batch_size", 1, None, True, None, "the global batch size"),
    ("image_size", 1, None, True, None, "the input size in pixels"),
    ("learning_rate", 0.0, None, False, None, "the learning rate"),
    ("label_smoothing", 0.0, 1.0, True, False, "label smoothing"),
    ("ema_momentum", 0.0, 1.0, True, False, "the weight EMA (0 is off)"),
    ("batch_norm_momentum", 0.0, 1.0, True, False, "batch-norm momentum"),
    ("drop_path_rate", 0.0, 1.0, True, False, "stochastic depth"),
    ("weight_decay", 0.0, None, True, None, "the L2 weight decay"),
    ("warmup_epochs", 0, None, True, None, "the warm-up epochs"),
    ("lr_decay_epochs", 0.0, None, False, None, "epochs per lr decay"),
    ("lr_decay_rate", 0.0, 1.0, False, True, "the lr decay factor"),
    ("clr_max", 1, None, True, None, "the cyclic schedule's epochs"),
    ("crop_scale_min", 0.0, 1.0, False, True, "the smallest crop area"),
    ("scale_min", 0.0, None, False, None, "the smallest crop scale"),
    ("scale_max", 0.0, None, False, None, "the largest crop scale"),
    ("neg_pos_ratio", 0, None, False, None, "hard negatives per positive"),
    ("iou_threshold", 0.0, 1.0, False, False, "the NMS IoU threshold"),
    ("max_boxes", 1, None, True, None, "boxes kept per image"),
)


def _interval(low, high, low_in, high_in):
    left = "[" if low_in else "("
    right = "]" if high_in else ")"
    return f"{left}{low}, {'inf' if high is None else high}{right}"


CHOICES = {
    "lr_schedule": ("efficientnet", "hybrid", "constant"),
    "optimizer": ("rmsprop", "sgd", "adam"),
    "decoder": ("espnetv2", "espnet"),
    "layout": ("auto", "folder", "tfrecord"),
}


def check_config(config):
    """Every value of a resolved recipe config checked before any data or
    model is made: the variant, the named choices and the numbers."""
    from tfeff.models.registry import get_variant

    if config.get("model") is not None:
        get_variant(config["model"])  # ValueError naming it and the known
    finetune = config.get("finetune")
    if finetune and not os.path.isfile(finetune):
        raise ValueError(
            f"`finetune` is not a file. Received: finetune={finetune!r}"
        )
    check_weights(config)
    for key, allowed in CHOICES.items():
        if key in config and config[key] not in allowed:
            raise ValueError(
                f"`{key}` must be one of {allowed}. "
                f"Received: {key}={config[key]!r}"
            )
    check_numbers(config)


def check_weights(config):
    """`weights` names published ImageNet weights of the variant or an
    existing file, and is not combined with `finetune` (both would say
    where training starts)."""
    weights = config.get("weights")
    if not weights:
        return
    if not isinstance(weights, str):
        raise TypeError(
            "`weights` must be 'imagenet', 'imagenet:<tag>' or a file path. "
            f"Received: weights={weights!r}"
        )
    if config.get("finetune"):
        raise ValueError(
            "`weights` and `finetune` both say where training starts; give "
            f"one. Received: weights={weights!r}, "
            f"finetune={config['finetune']!r}"
        )
    from tfeff.weights.catalog import find_weights
    from tfeff.weights.catalog import no_imagenet_weights_error
    from tfeff.weights.catalog import parse_imagenet_tag

    is_imagenet, tag = parse_imagenet_tag(weights)
    if is_imagenet:
        name = config["model"]
        if not any(
            find_weights(name, include_top=top, tag=tag)
            for top in (True, False)
        ):
            raise no_imagenet_weights_error(name, tag)
    elif not os.path.isfile(weights):
        raise ValueError(
            "`weights` must be 'imagenet', 'imagenet:<tag>' or an existing "
            f"weights file. Received: weights={weights!r}"
        )


def finish(report, train_reader, val_reader, title="evaluation"):
    """The run's last lines: the evaluation report and the images each
    split skipped (named on stderr as they were met). Returns 0."""
    print(f"{title}: {report}")
    print(
        f"train: {train_reader.errors.report()}; "
        f"val: {val_reader.errors.report()}"
    )
    return 0


def regularize(model, config):
    """The recipe's batch-norm momentum and L2 weight decay on `model`."""
    set_batch_norm_momentum(model, config["batch_norm_momentum"])
    add_l2(
        model,
        config["weight_decay"],
        skip_batch_norm=not config["weight_decay_on_batch_norm"],
    )


def task_model(make, config, input_shape):
    """A detection or segmentation model, started where the config says.

    `make(arch, mean=, std=)` builds it on the variant's backbone (with the
    variant's input normalization). With `weights`, the arch is the
    pretrained backbone's (its checkpoint's numerics) and its variables are
    copied in; with `finetune`, the stage-1 model's weights are loaded
    (optionally with frozen batch norms). Then `regularize`.
    """
    from tfeff.models.registry import get_variant

    variant = get_variant(config["model"])
    arch, pretrained = start_backbone(config, input_shape)
    model = make(arch, mean=variant.mean, std=variant.std)
    if pretrained is not None:
        report_backbone(model, pretrained, config["weights"])
    start_from(
        model,
        config["finetune"],
        freeze_batch_norm=config["freeze_batch_norm"],
    )
    regularize(model, config)
    return model


def start_backbone(config, input_shape):
    """The recipe's backbone arch and, with `weights`, the pretrained
    backbone to copy from (`load_backbone_weights`), built with the
    numerics its checkpoint was trained with; (arch, None) from scratch."""
    import tfeff

    variant = tfeff.models.get_variant(config["model"])
    if not config.get("weights"):
        return variant.resolved_arch(), None
    backbone = tfeff.create_model(
        variant.name,
        include_top=False,
        weights=config["weights"],
        input_shape=tuple(input_shape),
    )
    return backbone.arch, backbone


def report_backbone(model, backbone, weights):
    """Copies `backbone` into `model` and says what was loaded."""
    from tfeff.models.create import load_backbone_weights

    counts = load_backbone_weights(model, backbone)
    print(
        f"Backbone from {weights}: {counts['loaded']} variables loaded; "
        f"{counts['fresh']} of the heads start fresh."
    )
    return counts


def check_numbers(config):
    """ValueError naming the key and the value for any number outside the
    range in which the recipe trains (before any data or model is made):
    `--epochs -1` used to save an untrained model as if finished,
    `--set label_smoothing=2.0` to train on it."""
    for key, low, high, low_in, high_in, meaning in RANGES:
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"`{key}` ({meaning}) must be a number. "
                f"Received: {key}={value!r}"
            )
        too_low = value < low if low_in else value <= low
        too_high = high is not None and (
            value > high if high_in else value >= high
        )
        if too_low or too_high or value != value:
            raise ValueError(
                f"`{key}` ({meaning}) must be in "
                f"{_interval(low, high, low_in, high_in)}. "
                f"Received: {key}={value!r}"
            )
    dropout = config.get("dropout_rate")
    if dropout is not None and not (dropout == -1 or 0 <= dropout < 1):
        raise ValueError(
            "`dropout_rate` must be in [0, 1), or -1 for the variant's own. "
            f"Received: dropout_rate={dropout!r}"
        )
    if config.get("scale_min", 0) > config.get("scale_max", float("inf")):
        raise ValueError(
            "`scale_min` must not exceed `scale_max`. Received: "
            f"scale_min={config['scale_min']!r}, "
            f"scale_max={config['scale_max']!r}"
        )


def learning_rate(config, steps_per_epoch):
    """The recipe's schedule: `efficientnet` (warm-up + exponential decay,
    lr scaled by batch/256) or `hybrid` (EdgeNets' sawtooth then linear)."""
    kind = config["lr_schedule"]
    if kind == "efficientnet":
        peak = config["learning_rate"] * config["batch_size"] / 256
        return WarmupExponentialDecay(
            peak,
            warmup_steps=config["warmup_epochs"] * steps_per_epoch,
            decay_steps=config["lr_decay_epochs"] * steps_per_epoch,
            decay_rate=config["lr_decay_rate"],
        )
    if kind == "hybrid":
        values = hybrid_lr_per_epoch(
            config["epochs"],
            config["learning_rate"],
            min(config["clr_max"], config["epochs"]),
        )
        return PerEpochSchedule(values, steps_per_epoch)
    if kind == "constant":
        return config["learning_rate"]
    raise ValueError(
        "`lr_schedule` must be 'efficientnet', 'hybrid' or 'constant'. "
        f"Received: lr_schedule={kind!r}"
    )


def optimizer(config, steps_per_epoch):
    rate = learning_rate(config, steps_per_epoch)
    kind = config["optimizer"]
    ema = {"use_ema": config["ema_momentum"] > 0}
    if ema["use_ema"]:
        ema["ema_momentum"] = config["ema_momentum"]
    if kind == "rmsprop":
        # TF1 RMSProp as the EfficientNet recipe (epsilon inside the sqrt).
        return keras.optimizers.RMSprop(
            rate, rho=0.9, momentum=0.9, epsilon=1e-3, **ema
        )
    if kind == "sgd":
        return keras.optimizers.SGD(
            rate, momentum=0.9, nesterov=config["nesterov"], **ema
        )
    if kind == "adam":
        return keras.optimizers.Adam(rate, **ema)
    raise ValueError(
        f"`optimizer` must be 'rmsprop', 'sgd' or 'adam'. Received: optimizer={kind!r}"
    )


def set_batch_norm_momentum(model, momentum):
    """Keras momentum of every batch norm (PyTorch's momentum=0.1 is
    Keras' 0.9; TF's EfficientNet uses 0.99)."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = float(momentum)


def start_from(model, path, *, freeze_batch_norm):
    """Stage 2 of a two-stage recipe: the weights of a stage-1 model
    (`.keras` or `.weights.h5`; fully convolutional, so a different input
    size is fine), optionally with every batch norm frozen (EdgeNets
    `--freeze-bn`: statistics and affine terms fixed)."""
    if path:
        if not os.path.isfile(path):
            raise ValueError(
                f"`finetune` is not a file. Received: finetune={path!r}"
            )
        if path.endswith(".keras"):
            source = load_model(path, compile=False)
            weights = source.get_weights()
            if [w.shape for w in weights] != [
                tuple(w.shape) for w in model.weights
            ]:
                raise ValueError(
                    f"finetune={path!r} is not this model's architecture "
                    f"({len(weights)} weights vs {len(model.weights)})."
                )
            model.set_weights(weights)
        else:
            model.load_weights(path)
    if freeze_batch_norm:
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False


def add_l2(model, factor, *, skip_batch_norm):
    """Coupled L2 weight decay as a loss: `factor * sum(w ** 2)` per
    weight (EfficientNet: 1e-5 * l2_loss = 5e-6 * sum w^2 on non-BN
    weights; PyTorch SGD weight_decay=wd is L2(wd / 2) on all)."""
    if factor <= 0:
        return
    regularizer = keras.regularizers.L2(factor)
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if skip_batch_norm and isinstance(
            layer, keras.layers.BatchNormalization
        ):
            continue
        for variable in layer._trainable_variables:
            variable.regularizer = regularizer
