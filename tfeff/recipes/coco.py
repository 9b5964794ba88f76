"""COCO detection: SSD on any backbone with ESPNetv2-SSD's recipe.

    python -m tfeff.recipes.coco --model espnetv2_200 --data-dir DIR --out RUN_DIR
    python recipes/coco.py --model mobilenetv2_100 --weights imagenet ...

`--weights imagenet` starts the backbone from its ImageNet checkpoint
(built with that checkpoint's numerics); the SSD heads start fresh.

DIR holds `annotations/instances_{train,val}2017.json` and the image
folders `train2017/`, `val2017/`. `--image-size` is the square input (300
or 512 use the published anchors). The evaluation report is COCO box AP
(pycocotools COCOeval on val2017). Defaults: configs/coco.yaml. Started
again with the same command, a run resumes.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import os
import sys

import numpy as np
import tensorflow as tf

from tfeff.data.coco import CocoReader
from tfeff.export.detection import with_postprocessing
from tfeff.models import ssd
from tfeff.train import coco_detection_metrics
from tfeff.train import detections_to_coco
from tfeff.train import recipe
from tfeff.train.runner import prepare_runtime
from tfeff.train.runner import run_training

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv=None):
    return recipe.recipe_main(__doc__, __file__, run, argv)


def run(args):
    config = recipe.resolve(args, os.path.join(HERE, "configs", "coco.yaml"))
    strategy = prepare_runtime(config)
    train_reader = CocoReader(
        config["data_dir"], config["train_split"], skip_empty=True
    )
    val_reader = CocoReader(config["data_dir"], config["val_split"])
    size, batch = config["image_size"], config["batch_size"]
    classes = train_reader.num_classes
    anchors = ssd.generate_anchors(ssd.AnchorSpec.for_image_size(size))

    def targets(boxes, labels, count):
        box_target, label_target = ssd.ssd_targets(
            boxes[:count],
            labels[:count],
            anchors,
            iou_threshold=config["iou_threshold"],
        )
        return box_target, label_target

    def to_training_pair(image, target):
        box_target, label_target = tf.numpy_function(
            targets,
            [target["boxes"], target["labels"], target["num_boxes"]],
            [tf.float32, tf.int32],
            stateful=False,
        )
        box_target.set_shape((len(anchors), 5))
        label_target.set_shape((len(anchors),))
        return image, (box_target, label_target)

    def pairs(reader, training):
        data = reader.dataset(
            size,
            training=training,
            seed=config["seed"],
            max_boxes=config["max_boxes"],
        )
        data = data.map(to_training_pair, num_parallel_calls=tf.data.AUTOTUNE)
        return data.batch(batch, drop_remainder=training).prefetch(
            tf.data.AUTOTUNE
        )

    train = pairs(train_reader, True).repeat()
    val = pairs(val_reader, False)
    steps = max(1, train_reader.num_examples // batch)

    def build_and_compile():
        model = recipe.task_model(
            lambda arch, **normalization: ssd.SSDDetector(
                arch,
                num_classes=classes,
                input_size=size,
                fusion=config["fusion"],
                **normalization,
            ),
            config,
            (size, size, 3),
        )
        model.compile(
            optimizer=recipe.optimizer(config, steps),
            loss=[ssd.SSDBoxLoss(), ssd.SSDClassLoss(config["neg_pos_ratio"])],
            jit_compile=bool(config["xla"]),
        )
        return model

    def evaluate(model):
        detect = with_postprocessing(model, max_detections=100)
        images = val_reader.dataset(
            size, batch_size=batch, max_boxes=config["max_boxes"]
        )
        records = []
        for image_batch, target in images:
            outputs = detect.predict_on_batch(image_batch)
            ids = target["image_id"].numpy().tolist()
            sizes = [
                (
                    val_reader.coco.imgs[i]["height"],
                    val_reader.coco.imgs[i]["width"],
                )
                for i in ids
            ]
            outputs = {k: np.asarray(v) for k, v in outputs.items()}
            records += detections_to_coco(
                ids, outputs, sizes, val_reader.category_ids
            )
        return coco_detection_metrics(val_reader.coco, records)

    _, report = run_training(
        config,
        strategy=strategy,
        build_and_compile=build_and_compile,
        train_data=train,
        val_data=val,
        out=args.out,
        evaluate=evaluate,
        steps_per_epoch=steps,
    )
    return recipe.finish(
        report, train_reader, val_reader, title="evaluation (COCO box AP)"
    )


if __name__ == "__main__":
    sys.exit(main())
