"""`preprocess_input` and `decode_predictions`, as in keras.applications."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


def preprocess_input(x, data_format=None):
    """A pass-through: tfeff models normalise inside the model.

    Like keras.applications' EfficientNet, tfeff models take float pixels in
    [0, 255] and rescale and normalise them in their stem, so there is
    nothing to do here. Kept for keras.applications compatibility.

    Args:
        x: array or tensor of [0, 255] pixels.
        data_format: ignored (channels-last only).

    Returns:
        `x`, unchanged.

    Example:

    >>> tfeff.applications.preprocess_input(np.array([0.0, 255.0]))
    array([  0., 255.])
    """
    del data_format
    return x


def decode_predictions(preds, top=5):
    """Decodes ImageNet predictions into `(class_id, name, score)` lists.

    Uses keras.applications' class index (downloaded once, hash-checked).

    Args:
        preds: array of shape `(batch, 1000)`.
        top: int. How many classes to return per sample.

    Returns:
        list (per sample) of lists of `(wordnet_id, class_name, score)`.
    """
    shape = getattr(preds, "shape", None)
    if shape is None or len(shape) != 2 or shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of ImageNet predictions of "
            f"shape (samples, 1000). Received: preds.shape={shape}"
        )
    return keras.applications.imagenet_utils.decode_predictions(preds, top=top)
