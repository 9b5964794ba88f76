"""Cityscapes semantic segmentation with ESPNetv2's recipe (stage 1).

    python -m tfeff.recipes.cityscapes --model espnetv2_200 --data-dir DIR --out RUN_DIR
    python recipes/cityscapes.py --model espnetv2_200 --weights imagenet ...

DIR holds `leftImg8bit/{train,val}/{city}/*_leftImg8bit.png` and
`gtFine/{train,val}/{city}/*_gtFine_labelIds.png` (labelIds are mapped to
the 19 train ids; 255 is ignored). `--image-size` is the crop width; the
height is half of it (512 -> 512x256). `--model` names the backbone
variant; `--set decoder=espnet` swaps the decoder. Defaults:
configs/cityscapes.yaml. Started again with the same command, a run resumes.
`--weights imagenet` starts the backbone from its ImageNet checkpoint; the
decoder starts fresh.
"""

import os
import sys

from tfeff.data.cityscapes import CityscapesReader
from tfeff.models.segmentation import SemanticSegmenter
from tfeff.train import SegmentationIoU
from tfeff.train import recipe
from tfeff.train.runner import prepare_runtime
from tfeff.train.runner import run_training

HERE = os.path.dirname(os.path.abspath(__file__))
# EdgeNets' Cityscapes class weights for train ids 0..18 (its 20th,
# "background", has weight 0 and is our ignore label); ecosystem.md §3.3.
CLASS_WEIGHTS = (
    2.8149201869965, 6.9850029945374, 3.7890393733978, 9.9428062438965,
    9.7702074050903, 9.5110931396484, 10.311357498169, 10.026463508606,
    4.6323022842407, 9.5608062744141, 7.8698215484619, 9.5168733596802,
    10.373730659485, 6.6616044044495, 10.260489463806, 10.287888526917,
    10.289801597595, 10.405355453491, 10.138095855713,
)  # fmt: skip


def main(argv=None):
    return recipe.recipe_main(__doc__, __file__, run, argv)


def run(args):
    config = recipe.resolve(
        args, os.path.join(HERE, "configs", "cityscapes.yaml")
    )
    strategy = prepare_runtime(config)
    train_reader = CityscapesReader(config["data_dir"], "train")
    val_reader = CityscapesReader(config["data_dir"], "val")
    width = config["image_size"]
    crop = (width // 2, width)
    batch = config["batch_size"]
    train = train_reader.dataset(
        crop,
        batch_size=batch,
        training=True,
        seed=config["seed"],
        scale=(config["scale_min"], config["scale_max"]),
    ).repeat()
    val = val_reader.dataset(crop, batch_size=batch)
    steps = max(1, train_reader.num_examples // batch)
    classes = train_reader.num_classes

    def build_and_compile():
        model = recipe.task_model(
            lambda arch, **normalization: SemanticSegmenter(
                arch,
                num_classes=classes,
                decoder=config["decoder"],
                input_shape=crop + (3,),
                **normalization,
            ),
            config,
            crop + (3,),
        )
        model.compile(
            optimizer=recipe.optimizer(config, steps),
            loss=recipe.SparseCrossEntropyIgnore(
                255, CLASS_WEIGHTS if config["class_weights"] else None
            ),
            metrics=[SegmentationIoU(classes, name="mean_iou")],
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
        monitor="val_mean_iou",
        monitor_mode="max",
        steps_per_epoch=steps,
    )
    return recipe.finish(report, train_reader, val_reader)


if __name__ == "__main__":
    sys.exit(main())
