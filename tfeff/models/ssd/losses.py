"""SSD multibox losses (keras.ops, any backend; EdgeNets
loss_fns/multi_box_loss.py): smooth L1 on matched boxes, cross-entropy
with hard-negative mining."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


def _positive_count(labels):
    positives = keras.ops.cast(labels > 0, "float32")
    return positives, keras.ops.maximum(keras.ops.sum(positives), 1.0)


@keras.saving.register_keras_serializable(package="tfeff")
class SSDBoxLoss(keras.losses.Loss):
    """Smooth L1 of the box offsets over positive anchors, divided by the
    batch's positives (EdgeNets utilities/..., MultiBoxLoss).

    `y_true`: `(batch, anchors, 5)`: the encoded offsets and, last, the
    label (0 = background); `y_pred`: `(batch, anchors, 4)`.
    """

    def __init__(self, name="ssd_box_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        ops = keras.ops
        y_true = ops.cast(y_true, y_pred.dtype)
        positives, count = _positive_count(y_true[..., 4])
        diff = ops.abs(y_true[..., :4] - y_pred)
        smooth = ops.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5)
        per_image = ops.sum(ops.sum(smooth, -1) * positives, -1)
        # Keras averages over the batch; scale so the result is the sum over
        # the batch divided by its positives, as the reference.
        batch = ops.cast(ops.shape(y_pred)[0], "float32")
        return per_image * batch / count


@keras.saving.register_keras_serializable(package="tfeff")
class SSDClassLoss(keras.losses.Loss):
    """Softmax cross-entropy over positives and the hardest negatives
    (`neg_pos_ratio` per positive, per image), divided by the batch's
    positives (EdgeNets box_utils.hard_negative_mining, MultiBoxLoss).

    `y_true`: `(batch, anchors)` int labels; `y_pred`: logits
    `(batch, anchors, num_classes + 1)`.
    """

    def __init__(self, neg_pos_ratio=3, name="ssd_class_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(neg_pos_ratio, bool) or not neg_pos_ratio > 0:
            raise ValueError(
                "`neg_pos_ratio` must be > 0. Received: "
                f"neg_pos_ratio={neg_pos_ratio!r}"
            )
        self.neg_pos_ratio = neg_pos_ratio

    def call(self, y_true, y_pred):
        ops = keras.ops
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 3:
            labels = labels[..., 0]
        positives, count = _positive_count(labels)
        log_probs = ops.log_softmax(y_pred, axis=-1)
        background = -log_probs[..., 0]
        # Rank negatives by their background loss; positives rank last.
        mining = ops.where(positives > 0, -1e9, ops.stop_gradient(background))
        rank = ops.argsort(ops.argsort(-mining, axis=-1), axis=-1)
        num_negatives = (
            ops.sum(positives, -1, keepdims=True) * self.neg_pos_ratio
        )
        negatives = ops.cast(
            ops.cast(rank, "float32") < num_negatives, "float32"
        )
        negatives = negatives * (1.0 - positives)
        classes = ops.shape(y_pred)[-1]
        one_hot = ops.one_hot(labels, classes)
        cross_entropy = -ops.sum(one_hot * log_probs, -1)
        per_image = ops.sum(cross_entropy * (positives + negatives), -1)
        batch = ops.cast(ops.shape(y_pred)[0], "float32")
        return per_image * batch / count

    def get_config(self):
        config = super().get_config()
        config["neg_pos_ratio"] = self.neg_pos_ratio
        return config
