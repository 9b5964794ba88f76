"""tfeff.viz: pixels where the masks and boxes say, inputs untouched."""

import numpy as np
import pytest

from tfeff import viz
from tfeff.data import cityscapes_labels


def test_palette_is_cityscapes_for_19_classes_else_distinct():
    np.testing.assert_array_equal(
        viz.segmentation_palette(19), cityscapes_labels.TRAIN_CLASS_COLORS
    )
    palette = viz.segmentation_palette(6)
    assert palette.shape == (6, 3) and palette.dtype == np.uint8
    assert tuple(palette[0]) == (0, 0, 0)  # background
    assert len({tuple(c) for c in palette}) == 6
    with pytest.raises(ValueError, match="num_classes=0"):
        viz.segmentation_palette(0)


def test_overlay_tints_exactly_the_labelled_pixels():
    image = np.full((4, 6, 3), 100, dtype="uint8")
    mask = np.zeros((4, 6), dtype="int32")
    mask[1:3, 2:5] = 2
    mask[0, 0] = 255  # ignored: left as it was
    palette = np.array([[0, 0, 0], [0, 255, 0], [255, 0, 0]], dtype="uint8")
    out = viz.overlay_mask(image, mask, palette=palette, alpha=0.5)
    assert out.dtype == np.uint8 and out.shape == image.shape
    np.testing.assert_array_equal(out[1, 2], [178, 50, 50])  # (100+255)/2
    np.testing.assert_array_equal(out[3, 5], [50, 50, 50])  # background
    np.testing.assert_array_equal(out[0, 0], [100, 100, 100])
    np.testing.assert_array_equal(image, 100)  # input untouched
    # Logits reduce by argmax; floats in [0, 1] count as [0, 255].
    logits = np.eye(3)[mask.clip(0, 2)]
    logits[0, 0] = 0
    same = viz.overlay_mask(image / 255.0, logits, palette=palette)
    np.testing.assert_array_equal(same[1:], out[1:])


def test_overlay_errors_name_the_argument():
    image = np.zeros((4, 6, 3), dtype="uint8")
    with pytest.raises(ValueError, match="mask shape"):
        viz.overlay_mask(image, np.zeros((5, 6), dtype="int32"))
    with pytest.raises(ValueError, match="alpha=2"):
        viz.overlay_mask(image, np.zeros((4, 6), dtype="int32"), alpha=2)
    with pytest.raises(ValueError, match="palette has 2"):
        viz.overlay_mask(
            image, np.full((4, 6), 3), palette=np.zeros((2, 3), dtype="uint8")
        )
    with pytest.raises(ValueError, match="image"):
        viz.overlay_mask(np.zeros((4,)), np.zeros((4,)))


def test_boxes_are_drawn_on_their_edges_only():
    image = np.zeros((40, 40, 3), dtype="uint8")
    out = viz.draw_detections(
        image,
        boxes=[[0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.5, 0.5]],
        labels=[1, 2],
        scores=[0.9, 0.1],
        min_score=0.5,
        width=1,
    )
    drawn = out.any(axis=-1)
    assert drawn[20, 10] and drawn[20, 30]  # left and right edges of box 1
    assert drawn[30, 10] and not drawn[30, 20]  # inside stays empty
    assert not drawn[5, 5]  # box 2 is under min_score
    # Pixel boxes and names.
    named = viz.draw_detections(
        image,
        [[10, 20, 30, 40]],
        [1],
        class_names=["background", "disc"],
        normalized=False,
    )
    assert named.any(axis=-1)[25, 10]
    with pytest.raises(ValueError, match="labels"):
        viz.draw_detections(image, [[0, 0, 1, 1]], [1, 2])
    with pytest.raises(ValueError, match="scores"):
        viz.draw_detections(image, [[0, 0, 1, 1]], [1], scores=[0.1, 0.2])
