"""SegmentationIoU: hand-computed confusion matrices, ignore label, streaming."""

import keras
import numpy as np
import pytest

from tfeff.train import SegmentationIoU
from tfeff.train import confusion_matrix
from tfeff.train import iou_from_confusion


def test_confusion_matrix_by_hand_and_ignore_label():
    y_true = np.array([[0, 0, 1, 2], [2, 255, 1, 1]])
    y_pred = np.array([[0, 1, 1, 2], [0, 2, 1, 0]])
    matrix = keras.ops.convert_to_numpy(confusion_matrix(y_true, y_pred, 3))
    expected = np.array(
        [
            [1, 1, 0],  # true 0: one right, one predicted 1
            [1, 2, 0],  # true 1: two right, one predicted 0
            [1, 0, 1],  # true 2: one right, one predicted 0 (255 skipped)
        ]
    )
    np.testing.assert_array_equal(matrix, expected)
    # IoU = TP / (row + column - TP)
    np.testing.assert_allclose(
        iou_from_confusion(matrix), [1 / (2 + 3 - 1), 2 / (3 + 3 - 2), 1 / 2]
    )


def test_logits_and_trailing_label_axis_are_accepted():
    labels = np.array([[[1], [0]]])  # (1, 2, 1)
    logits = np.array([[[0.1, 0.9], [0.8, 0.2]]])  # (1, 2, 2)
    matrix = confusion_matrix(labels, logits, 2)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(matrix), np.eye(2))


def test_streaming_mean_over_present_classes_only():
    metric = SegmentationIoU(num_classes=4)
    metric.update_state(np.array([[0, 1]]), np.array([[0, 1]]))
    metric.update_state(np.array([[1, 255]]), np.array([[0, 3]]))
    # Totals: class 0 TP 1, FP 1 -> 1/2; class 1 TP 1, FN 1 -> 1/2;
    # class 2 never seen (left out); class 3 never predicted on a counted
    # pixel (the 255 pixel is ignored) -> left out.
    assert float(metric.result()) == pytest.approx(0.5)
    per_class = metric.per_class_iou()
    np.testing.assert_allclose(per_class[:2], [0.5, 0.5])
    assert np.isnan(per_class[2]) and np.isnan(per_class[3])
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_perfect_and_hopeless_predictions():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (2, 16, 16))
    metric = SegmentationIoU(num_classes=5)
    metric.update_state(labels, keras.ops.one_hot(labels, 5))
    assert float(metric.result()) == pytest.approx(1.0)
    metric = SegmentationIoU(num_classes=5)
    metric.update_state(labels, (labels + 1) % 5)
    assert float(metric.result()) == 0.0


def test_in_fit_and_config_round_trip():
    # Seeded: a search run earlier in the process (tests/nas) turns on op
    # determinism, which refuses fit's unseeded shuffle.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Conv2D(3, 1)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=255
        ),
        metrics=[SegmentationIoU(num_classes=3)],
    )
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    y = np.argmax(x, -1)
    y[:, 0, 0] = 255
    history = model.fit(x, y, epochs=2, verbose=0)
    assert 0.0 <= history.history["mean_iou"][-1] <= 1.0
    restored = SegmentationIoU.from_config(
        SegmentationIoU(num_classes=7, ignore_label=None).get_config()
    )
    assert restored.num_classes == 7 and restored.ignore_label is None


@pytest.mark.parametrize(
    "num_classes, error", [(1, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_bad_num_classes(num_classes, error):
    with pytest.raises(error, match="num_classes"):
        SegmentationIoU(num_classes=num_classes)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(np.zeros((2, 3)), np.zeros((3, 2)), 2)
