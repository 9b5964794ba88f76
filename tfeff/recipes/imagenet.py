"""ImageNet classification with a published recipe.

    python -m tfeff.recipes.imagenet --model efficientnet_b0 --data-dir DIR --out RUN_DIR
    python recipes/imagenet.py --model efficientnet_b0 --weights imagenet ...
    python recipes/imagenet.py --model espnetv2_100 --data-dir DIR --out RUN_DIR \
        --config my.yaml --set label_smoothing=0.0

DIR holds `train/<wnid>/*.JPEG` and `val/<wnid>/*.JPEG`, or the TPU
TFRecord shards `train-*-of-*` / `validation-*-of-*`. Defaults:
configs/imagenet.yaml (EfficientNet) or configs/imagenet_espnetv2.yaml
(ESPNetv2, DiCENet). Started again with the same command, a run resumes.
`--weights imagenet` starts from the ImageNet checkpoint (with a new
classifier when the data set has other than 1000 classes).
Try it: `python -m tfeff.data.make_toy --format imagenet --out /tmp/toy`
then `--data-dir /tmp/toy --epochs 2 --image-size 64 --batch-size 8`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import os
import sys

import keras
import tensorflow as tf

import tfeff
from tfeff.data.imagenet import ImageNetReader
from tfeff.train import recipe
from tfeff.train.runner import prepare_runtime
from tfeff.train.runner import run_training

HERE = os.path.dirname(os.path.abspath(__file__))


def defaults_file(model):
    family = (model or "").split("_")[0]
    name = (
        "imagenet_espnetv2.yaml"
        if family in ("espnetv2", "dicenet")
        else "imagenet.yaml"
    )
    return os.path.join(HERE, "configs", name)


def main(argv=None):
    return recipe.recipe_main(__doc__, __file__, run, argv)


def run(args):
    config = recipe.resolve(args, defaults_file(args.model))
    strategy = prepare_runtime(config)
    train_reader = ImageNetReader(
        config["data_dir"], "train", layout=config["layout"]
    )
    val_reader = ImageNetReader(
        config["data_dir"], "val", layout=config["layout"]
    )
    num_classes = train_reader.num_classes or 1000
    size, batch = config["image_size"], config["batch_size"]

    def one_hot(images, labels):
        return images, tf.one_hot(labels, num_classes)

    train = train_reader.dataset(
        size,
        batch_size=batch,
        training=True,
        seed=config["seed"],
        scale=(config["crop_scale_min"], 1.0),
    ).map(one_hot)
    val = val_reader.dataset(size, batch_size=batch).map(one_hot)
    # Epochs of a fixed number of steps over a repeated stream: skipped
    # images do not shorten an epoch.
    steps = max(1, (train_reader.num_examples or 1_281_167) // batch)
    train = train.repeat()

    def build_and_compile():
        dropout = config["dropout_rate"]
        model = tfeff.create_model(
            config["model"],
            num_classes=num_classes,
            input_shape=(size, size, 3),
            classifier_activation=None,  # logits: the loss is float32-safe
            drop_path_rate=config["drop_path_rate"],
            dropout_rate=None if dropout < 0 else dropout,
            weights=config["weights"] or None,
        )
        recipe.regularize(model, config)
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
        if num_classes > 5:
            metrics.append(
                keras.metrics.TopKCategoricalAccuracy(5, name="top5")
            )
        model.compile(
            optimizer=recipe.optimizer(config, steps),
            loss=keras.losses.CategoricalCrossentropy(
                from_logits=True, label_smoothing=config["label_smoothing"]
            ),
            metrics=metrics,
            jit_compile=bool(config["xla"]),
        )
        return model

    _, report = run_training(
        config,
        strategy=strategy,
        build_and_compile=build_and_compile,
        train_data=train,
        val_data=val,
        out=args.out,
        monitor="val_accuracy",
        monitor_mode="max",
        steps_per_epoch=steps,
    )
    report["skipped_images"] = (
        train_reader.errors.count + val_reader.errors.count
    )
    return recipe.finish(report, train_reader, val_reader)


if __name__ == "__main__":
    sys.exit(main())
