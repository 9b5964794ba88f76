"""The reference's evaluation transform, travelling with the weights.

A published top-1 is measured on images resized and cropped a particular
way (timm: shorter side to `floor(size / crop_pct)`, centre crop `size`;
torchvision: resize 256 or 232, crop 224; EdgeNets: resize 256, crop 224),
with one interpolation. `eval_transform(weights)` returns that transform for
a catalog entry, so a user reproduces the published accuracy without
reading the reference. It outputs [0, 255] RGB pixels: tfeff models
normalise (mean/std) inside.
"""

import math
import os

import numpy as np

from tfeff.weights.catalog import PretrainedWeights
from tfeff.weights.catalog import find_weights
from tfeff.weights.catalog import get_weights
from tfeff.weights.catalog import no_imagenet_weights_error

_INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


class EvalTransform:
    """Image file or array → the model's input, as the reference evaluates.

    Args:
        input_size: int. Side of the square crop.
        crop_fraction: float in (0, 1]. The crop's share of the resized
            shorter side (timm's `crop_pct`).
        interpolation: str. `"bilinear"`, `"bicubic"` or `"nearest"`.

    Call it on a path, a PIL image or an `(H, W, 3)` / `(H, W)` array (uint8,
    or 16-bit, scaled to 8 bits); it returns a float32 `(size, size, 3)`
    array of [0, 255] pixels. Grey, palette and alpha images become RGB.

    Example:

    >>> transform = tfeff.weights.EvalTransform(224, 0.875, "bicubic")
    >>> transform(np.zeros((300, 400, 3), "uint8")).shape
    (224, 224, 3)
    >>> transform.resize_size
    256
    """

    def __init__(self, input_size, crop_fraction, interpolation):
        if (
            isinstance(input_size, bool)
            or not isinstance(input_size, int)
            or input_size < 1
        ):
            raise ValueError(
                "`input_size` must be a positive int. Received: "
                f"input_size={input_size!r}"
            )
        if not isinstance(crop_fraction, (int, float)) or not (
            0 < crop_fraction <= 1
        ):
            raise ValueError(
                "`crop_fraction` must be in (0, 1]. Received: "
                f"crop_fraction={crop_fraction!r}"
            )
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"`interpolation` must be one of {_INTERPOLATIONS}. "
                f"Received: interpolation={interpolation!r}"
            )
        self.input_size = input_size
        self.crop_fraction = float(crop_fraction)
        self.interpolation = interpolation
        # timm's floor(size / crop_pct); the epsilon keeps 224 / (224 / 232)
        # at torchvision's 232.
        self.resize_size = int(math.floor(input_size / crop_fraction + 1e-6))

    def __repr__(self):
        return (
            f"EvalTransform(input_size={self.input_size}, "
            f"crop_fraction={self.crop_fraction}, "
            f"interpolation={self.interpolation!r})"
        )

    def __call__(self, image):
        from PIL import Image

        image = _as_rgb(image)
        width, height = image.size
        # torchvision's Resize(int): the shorter side to `resize_size`, the
        # longer truncated (not rounded) in proportion.
        if width <= height:
            size = (self.resize_size, int(self.resize_size * height / width))
        else:
            size = (int(self.resize_size * width / height), self.resize_size)
        resample = {
            "bilinear": Image.BILINEAR,
            "bicubic": Image.BICUBIC,
            "nearest": Image.NEAREST,
        }[self.interpolation]
        image = image.resize(size, resample)
        left = int(round((size[0] - self.input_size) / 2.0))
        top = int(round((size[1] - self.input_size) / 2.0))
        image = image.crop(
            (left, top, left + self.input_size, top + self.input_size)
        )
        return np.asarray(image, dtype="float32")


def _as_rgb(image):
    from PIL import Image

    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        try:
            with Image.open(path) as opened:
                opened.load()
                image = opened.copy()
        except (OSError, SyntaxError) as error:
            raise ValueError(f"Cannot read image {path!r}: {error}") from None
    if isinstance(image, np.ndarray):
        array = image
        if array.dtype == np.uint16:  # 16-bit: keep the top 8 bits.
            array = (array >> 8).astype(np.uint8)
        elif array.dtype != np.uint8:
            array = np.clip(array, 0, 255).astype(np.uint8)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim not in (2, 3) or (
            array.ndim == 3 and array.shape[-1] not in (3, 4)
        ):
            raise ValueError(
                "An image array must be (H, W), (H, W, 1), (H, W, 3) or "
                f"(H, W, 4). Received: shape={image.shape}"
            )
        image = Image.fromarray(array)
    if not isinstance(image, Image.Image):
        raise TypeError(
            "`image` must be a path, a PIL image or a numpy array. "
            f"Received: {type(image).__name__}"
        )
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.uint32)
        image = Image.fromarray((array >> 8).clip(0, 255).astype(np.uint8))
    return image.convert("RGB")


def eval_transform(weights, *, include_top=True):
    """The evaluation transform of a catalogued checkpoint.

    Args:
        weights: `PretrainedWeights`, a catalog key (`"mixnet_s.ft_in1k"`),
            or a variant name (its `weights="imagenet"` entry).
        include_top: bool. Which keras.applications file, where they differ.

    Returns:
        EvalTransform.

    Example:

    >>> tfeff.weights.eval_transform("efficientnet_lite3")
    EvalTransform(input_size=300, crop_fraction=0.904, interpolation='bilinear')
    >>> tfeff.weights.eval_transform("shufflenetv2_150").resize_size
    232
    """
    entry = weights
    if isinstance(weights, str):
        if "." in weights:
            entry = get_weights(weights)
        else:
            entry = find_weights(weights, include_top=include_top)
            if entry is None:
                raise no_imagenet_weights_error(weights)
    if not isinstance(entry, PretrainedWeights):
        raise TypeError(
            "`weights` must be PretrainedWeights, a catalog key or a variant "
            f"name. Received: weights={weights!r}"
        )
    return EvalTransform(
        entry.input_size, entry.crop_fraction, entry.interpolation
    )
