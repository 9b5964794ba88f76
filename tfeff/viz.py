"""Pictures of predictions: masks over images, boxes on images.

numpy and Pillow only (no matplotlib, no TensorFlow), so notebooks, recipes
and reports draw the same way. Every function returns a new `uint8`
`(height, width, 3)` array and leaves its input untouched.
"""

import colorsys

import numpy as np
from PIL import Image
from PIL import ImageDraw

from tfeff.data import cityscapes_labels


def segmentation_palette(num_classes):
    """`(num_classes, 3)` uint8 colours: Cityscapes' own for its 19 train ids,
    else evenly spaced hues (class 0, the background, black)."""
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            "`num_classes` must be a positive int. Received: "
            f"num_classes={num_classes!r}"
        )
    if num_classes == cityscapes_labels.NUM_TRAIN_CLASSES:
        return np.array(cityscapes_labels.TRAIN_CLASS_COLORS, dtype="uint8")
    colors = [(0, 0, 0)]
    for i in range(1, num_classes):
        r, g, b = colorsys.hsv_to_rgb((i - 1) / max(num_classes - 1, 1), 0.8, 1)
        colors.append((round(r * 255), round(g * 255), round(b * 255)))
    return np.array(colors, dtype="uint8")


def _as_rgb_uint8(image, name="image"):
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{name}` must be (height, width, 3) or (height, width). "
            f"Received: shape {image.shape}"
        )
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    if image.dtype != np.uint8:
        # Floats in [0, 1] or [0, 255]: both are common model inputs.
        scale = 255.0 if image.size and float(np.max(image)) <= 1.0 else 1.0
        image = np.clip(image.astype("float32") * scale, 0, 255)
        image = np.round(image).astype("uint8")
    return image


def overlay_mask(
    image, mask, *, num_classes=None, palette=None, alpha=0.5, ignore_label=255
):
    """`image` with each pixel tinted by its class in `mask`.

    Args:
        image: `(h, w, 3)` uint8, or floats in [0, 1] or [0, 255].
        mask: `(h, w)` integer class ids (or `(h, w, classes)` logits, reduced
            by argmax). Pixels equal to `ignore_label` are left as they are.
        num_classes: int. Sets the palette; defaults to `max(mask) + 1`.
        palette: `(classes, 3)` colours; defaults to `segmentation_palette`.
        alpha: float in [0, 1]. How much of the class colour shows.
    """
    image = _as_rgb_uint8(image)
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = np.argmax(mask, axis=-1)
    if mask.shape != image.shape[:2]:
        raise ValueError(
            "`mask` must have the image's height and width. Received: "
            f"mask shape {mask.shape}, image shape {image.shape}"
        )
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1]. Received: alpha={alpha}")
    valid = mask != ignore_label
    if palette is None:
        top = int(mask[valid].max()) + 1 if valid.any() else 1
        palette = segmentation_palette(num_classes or top)
    palette = np.asarray(palette, dtype="float32")
    if valid.any() and int(mask[valid].max()) >= len(palette):
        raise ValueError(
            f"`mask` has class {int(mask[valid].max())} but the palette has "
            f"{len(palette)} colours."
        )
    out = image.astype("float32")
    colors = palette[np.where(valid, mask, 0)]
    out[valid] = (1 - alpha) * out[valid] + alpha * colors[valid]
    return np.round(out).astype("uint8")


def draw_detections(
    image,
    boxes,
    labels,
    scores=None,
    *,
    class_names=None,
    min_score=0.0,
    normalized=True,
    palette=None,
    width=2,
):
    """`image` with a rectangle and a caption per detection.

    Args:
        image: `(h, w, 3)` uint8, or floats in [0, 1] or [0, 255].
        boxes: `(n, 4)` corner boxes `(x1, y1, x2, y2)` (tfeff's SSD order),
            in [0, 1] when `normalized`, else in pixels.
        labels: `(n,)` integer labels; with `class_names`, the caption.
        scores: `(n,)` or None. Detections under `min_score` are skipped.
        class_names: sequence indexed by label, or a dict label -> name.
    """
    image = _as_rgb_uint8(image)
    boxes = np.asarray(boxes, dtype="float32").reshape(-1, 4)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(boxes):
        raise ValueError(
            f"`labels` must have one entry per box. Received: {len(labels)} "
            f"labels for {len(boxes)} boxes"
        )
    if scores is not None:
        scores = np.asarray(scores, dtype="float32").reshape(-1)
        if len(scores) != len(boxes):
            raise ValueError(
                f"`scores` must have one entry per box. Received: "
                f"{len(scores)} scores for {len(boxes)} boxes"
            )
    height, width_px = image.shape[:2]
    if normalized:
        boxes = boxes * np.array([width_px, height, width_px, height])
    if palette is None:
        top = int(labels.max()) + 1 if len(labels) else 1
        palette = segmentation_palette(max(top, 2))
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    for i, (box, label) in enumerate(zip(boxes, labels)):
        if scores is not None and scores[i] < min_score:
            continue
        label = int(label)
        color = tuple(int(c) for c in palette[label % len(palette)])
        if color == (0, 0, 0):
            color = (255, 255, 255)
        x1, y1, x2, y2 = (float(v) for v in box)
        draw.rectangle([x1, y1, x2, y2], outline=color, width=width)
        if class_names is not None:
            name = class_names[label]
        else:
            name = str(label)
        caption = name if scores is None else f"{name} {scores[i]:.2f}"
        draw.text((x1 + 2, max(y1 - 11, 0)), caption, fill=color)
    return np.asarray(canvas)
