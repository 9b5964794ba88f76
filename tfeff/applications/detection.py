"""Detection constructors in the keras.applications style."""

import os

from tfeff.models.families.espnetv2 import ESPNETV2_CHANNELS
from tfeff.models.families.espnetv2 import espnetv2_arch
from tfeff.models.ssd import SSDDetector


def ESPNetV2SSD(
    scale=2.0,
    *,
    classes=80,
    input_size=300,
    weights=None,
    name=None,
):
    """Instantiates ESPNetv2-SSD: the full EESPNet (with its 1x1 expansion
    to 1280 channels at s = 2), SSD extras, top-down efficient pyramid
    pooling and 1x1 box/class heads (EdgeNets model/detection).

    Args:
        scale: EESPNet width, one of 0.5, 1.0, 1.25, 1.5, 2.0 (the
            published detector uses 2.0).
        classes: int. Object classes, background excluded (COCO 80, VOC
            20); the class logits have `classes + 1` channels.
        input_size: int. 300 or 512 use the published anchor
            configurations; other sizes work with derived anchors.
        weights: None, or the path of weights saved from this model.
        name: str. Defaults to `"espnetv2_ssd{input_size}"`.

    Returns:
        `SSDDetector`: `[box_offsets (batch, anchors, 4), class_logits
        (batch, anchors, classes + 1)]` for [0, 255] pixel inputs; decode
        with `tfeff.export.detection.with_postprocessing(model)`.

    Example:

    >>> model = tfeff.applications.ESPNetV2SSD(classes=80)
    >>> sum(int(w.numpy().size) for w in model.trainable_weights)  # 5.81 M published
    5806676
    """
    if scale not in ESPNETV2_CHANNELS:
        raise ValueError(
            f"`scale` must be one of {sorted(ESPNETV2_CHANNELS)}. "
            f"Received: scale={scale!r}"
        )
    if weights is not None and not (
        isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)
    ):
        raise ValueError(
            "`weights` must be None or the path of a weights file (no "
            "pretrained ESPNetv2-SSD weights are published for Keras). "
            f"Received: weights={weights!r}"
        )
    model = SSDDetector(
        espnetv2_arch(ESPNETV2_CHANNELS[scale]),
        num_classes=classes,
        input_size=input_size,
        fusion=True,
        name=name or f"espnetv2_ssd{input_size}",
    )
    if weights is not None:
        model.load_weights(weights)
    return model
