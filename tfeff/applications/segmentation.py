"""Segmentation constructors in the keras.applications style."""

import os

from tfeff.models.families.espnet import espnet_c_arch
from tfeff.models.segmentation import SemanticSegmenter


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
    if weights is not None and not (
        isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)
    ):
        raise ValueError(
            "`weights` must be None or the path of a weights file (no "
            f"pretrained ESPNet weights are published for Keras). Received: weights={weights!r}"
        )
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
