"""Losses the recipes train with (registered, so saved models load)."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


@keras.saving.register_keras_serializable(package="tfeff")
class SparseCrossEntropyIgnore(keras.losses.Loss):
    """Per-pixel cross-entropy from logits that skips `ignore_label`
    pixels, optionally class-weighted; mean over the counted pixels."""

    def __init__(
        self, ignore_label=255, class_weights=None, name="ce_ignore", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.ignore_label = int(ignore_label)
        self.class_weights = (
            None if class_weights is None else [float(w) for w in class_weights]
        )

    def call(self, y_true, y_pred):
        ops = keras.ops
        labels = ops.cast(y_true, "int32")
        valid = ops.cast(labels != self.ignore_label, "float32")
        safe = ops.where(labels == self.ignore_label, 0, labels)
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)
        picked = ops.take_along_axis(
            log_probs, ops.expand_dims(safe, -1), axis=-1
        )[..., 0]
        weights = valid
        if self.class_weights is not None:
            table = ops.convert_to_tensor(self.class_weights, "float32")
            weights = weights * ops.take(table, safe)
        per_image = -ops.sum(picked * weights, axis=(1, 2))
        count = ops.maximum(ops.sum(weights), 1.0)
        batch = ops.cast(ops.shape(y_pred)[0], "float32")
        return per_image * batch / count

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ignore_label": self.ignore_label,
                "class_weights": self.class_weights,
            }
        )
        return config
