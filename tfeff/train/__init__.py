"""Training helpers shared by recipes: metrics, losses, schedules.

The `.keras` files recipes write name these losses, metrics and schedules in
their compile config; `import tfeff` registers them with Keras as soon as
Keras is loaded (`tfeff/_lazy.py`, `after_keras_import`), so plain
`keras.saving.load_model` reads those files after `import tfeff`.

Names import on first use (`tfeff/_lazy.py`), so `tfeff-train --help`
starts no TensorFlow.
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = (
    "_compat",
    "backup",
    "cli",
    "coco_eval",
    "config",
    "finetune",
    "finetune_config",
    "losses",
    "metrics",
    "recipe",
    "runner",
    "schedules",
)
_EXPORTS = {
    "AtomicBackupAndRestore": "tfeff.train.backup",
    "coco_detection_metrics": "tfeff.train.coco_eval",
    "detections_to_coco": "tfeff.train.coco_eval",
    "SparseCrossEntropyIgnore": "tfeff.train.losses",
    "SegmentationIoU": "tfeff.train.metrics",
    "confusion_matrix": "tfeff.train.metrics",
    "iou_from_confusion": "tfeff.train.metrics",
    "PerEpochSchedule": "tfeff.train.schedules",
    "WarmupExponentialDecay": "tfeff.train.schedules",
    "_compat": "tfeff.train._compat",
    "backup": "tfeff.train.backup",
    "cli": "tfeff.train.cli",
    "coco_eval": "tfeff.train.coco_eval",
    "config": "tfeff.train.config",
    "finetune": "tfeff.train.finetune",
    "finetune_config": "tfeff.train.finetune_config",
    "losses": "tfeff.train.losses",
    "metrics": "tfeff.train.metrics",
    "recipe": "tfeff.train.recipe",
    "runner": "tfeff.train.runner",
    "schedules": "tfeff.train.schedules",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = sorted(set(_EXPORTS) - set(_SUBMODULES))
