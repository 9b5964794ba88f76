"""Segmentation constructors in the keras.applications style."""

import os

from tfeff.models.families.espnet import espnet_c_arch
from tfeff.models.families.espnetv2 import ESPNETV2_CHANNELS
from tfeff.models.families.espnetv2 import espnetv2_arch
from tfeff.models.segmentation import DEFAULT_DECODER_PLANES
from tfeff.models.segmentation import SemanticSegmenter


def _check_weights_path(weights, family):
    if weights is not None and not (
        isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)
    ):
        raise ValueError(
            "`weights` must be None or the path of a weights file (no "
            f"pretrained {family} segmentation weights are published for "
            f"Keras). Received: weights={weights!r}"
        )


def ESPNetV2Seg(
    scale=2.0,
    *,
    classes=20,
    input_shape=(512, 1024, 3),
    decoder_planes=DEFAULT_DECODER_PLANES,
    aux_output=False,
    weights=None,
    name=None,
):
    """Instantiates ESPNetv2 segmentation: EESPNet (levels 1-4) and the
    EdgeNets decoder (efficient pyramid pooling, gated skips).

    Args:
        scale: one of 0.5, 1.0, 1.5, 2.0 (EdgeNets' released models; 1.25
            builds too).
        classes: int >= 2. EdgeNets uses 20 for Cityscapes (19 + background)
            and 21 for PASCAL VOC.
        input_shape: `(height, width, channels)`, multiples of 16. Defaults
            to Cityscapes' `(512, 1024, 3)`.
        decoder_planes: int. 16 for Cityscapes and PASCAL VOC, 32 for COCO
            (EdgeNets' `base_dec_planes`).
        aux_output: bool. Add an auxiliary classifier's logits as a second
            output (training only).
        weights: None, or the path of weights saved from this model.
        name: str. Defaults to `"espnetv2_s{scale}_seg"`.

    Returns:
        `SemanticSegmenter`: logits `(batch, height, width, classes)` for
        [0, 255] pixel inputs.

    Example:

    >>> model = tfeff.applications.ESPNetV2Seg(0.5, classes=20, input_shape=(64, 128, 3))
    >>> sum(int(w.numpy().size) for w in model.trainable_weights)  # 0.08 M published
    80230
    """
    if scale not in ESPNETV2_CHANNELS:
        raise ValueError(
            f"`scale` must be one of {sorted(ESPNETV2_CHANNELS)}. "
            f"Received: scale={scale!r}"
        )
    _check_weights_path(weights, "ESPNetv2")
    model = SemanticSegmenter(
        espnetv2_arch(ESPNETV2_CHANNELS[scale]),
        num_classes=classes,
        decoder="espnetv2",
        decoder_planes=decoder_planes,
        input_shape=input_shape,
        aux_output=aux_output,
        name=name or f"espnetv2_s{scale:g}_seg".replace(".", "_"),
    )
    if weights is not None:
        model.load_weights(weights)
    return model


def ESPNetSeg(
    p=2,
    q=8,
    *,
    classes=20,
    input_shape=(512, 1024, 3),
    aux_output=False,
    weights=None,
    name=None,
):
    """Instantiates ESPNet (v1): the ESPNet-C encoder and its decoder.

    Args:
        p: int. ESP modules at 1/4 resolution (the paper's alpha_2).
        q: int. ESP modules at 1/8 resolution (alpha_3).
        classes: int. Segmentation classes (Cityscapes: 19 + background = 20
            in the reference).
        input_shape: `(height, width, channels)`, multiples of 8.
            Defaults to Cityscapes' half resolution `(512, 1024, 3)`.
        aux_output: bool. Add the encoder's classifier, upsampled, as a
            second output for deep supervision.
        weights: None, or the path of weights saved from this model
            (`.weights.h5`).
        name: str. Defaults to `"espnet_p{p}q{q}_seg"`.

    Returns:
        `SemanticSegmenter`: logits `(batch, height, width, classes)` for
        [0, 255] pixel inputs.

    Example:

    >>> model = tfeff.applications.ESPNetSeg(classes=20, input_shape=(64, 128, 3))
    >>> sum(int(w.numpy().size) for w in model.trainable_weights)  # reference
    365109
    """
    _check_weights_path(weights, "ESPNet")
    model = SemanticSegmenter(
        espnet_c_arch(p, q),
        num_classes=classes,
        decoder="espnet",
        input_shape=input_shape,
        aux_output=aux_output,
        name=name or f"espnet_p{p}q{q}_seg",
    )
    if weights is not None:
        model.load_weights(weights)
    return model
