"""keras.applications-style constructors for EfficientNet and -Lite."""

from tfeff.models.create import create_model

_DOC = """Instantiates {title} (`{variant}` in `tfeff.list_variants()`).

    Arguments follow `keras.applications`; inputs are float pixels in
    [0, 255] (the model rescales and normalises them).

    Args:
        include_top: bool. Include pooling, dropout and the classifier.
        weights: None, `"imagenet"`{imagenet_note}, or a path to a weights
            file (`.keras`, `.weights.h5`, keras `.h5`, PyTorch
            `.safetensors`/`.pth`).
        input_tensor: optional Keras tensor to build on.
        input_shape: optional `(height, width, channels)`.
        pooling: None, `"avg"` or `"max"`, for `include_top=False`.
        classes: int. Number of classes. Defaults to `1000`.
        classifier_activation: str or None. Defaults to `"softmax"`.
        channel_multiplier: float. Width multiplier (default: {width}).
        repeat_multiplier: float. Depth multiplier (default: {depth}).
        drop_path_rate: float. Stochastic depth (default: 0.2).
        dropout_rate: float. Head dropout (default: {dropout}).
        name: str. Model name.

    Returns:
        A `keras.Model` with `.arch` and `.pyramid_outputs`.

    Example:

    >>> model = tfeff.applications.{fn}(weights=None, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 1000)
"""


def _make(fn_name, variant, title, width, depth, dropout, imagenet):
    def constructor(
        include_top=True,
        weights=None,
        input_tensor=None,
        input_shape=None,
        pooling=None,
        classes=1000,
        classifier_activation="softmax",
        channel_multiplier=None,
        repeat_multiplier=None,
        drop_path_rate=None,
        dropout_rate=None,
        name=None,
    ):
        return create_model(
            variant,
            num_classes=classes,
            include_top=include_top,
            pooling=pooling,
            input_shape=input_shape,
            input_tensor=input_tensor,
            weights=weights,
            classifier_activation=classifier_activation,
            channel_multiplier=channel_multiplier,
            repeat_multiplier=repeat_multiplier,
            drop_path_rate=drop_path_rate,
            dropout_rate=dropout_rate,
            model_name=name,
        )

    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = _DOC.format(
        title=title,
        variant=variant,
        fn=fn_name,
        width=width,
        depth=depth,
        dropout=dropout,
        imagenet_note=(
            " (the official keras.applications file)"
            if imagenet
            else " (none published: a clear error)"
        ),
    )
    return constructor


# (width, depth, dropout): tensorflow/tpu efficientnet_builder.py.
EfficientNetB0 = _make(
    "EfficientNetB0", "efficientnet_b0", "EfficientNet-B0", 1.0, 1.0, 0.2, True
)
EfficientNetB1 = _make(
    "EfficientNetB1", "efficientnet_b1", "EfficientNet-B1", 1.0, 1.1, 0.2, True
)
EfficientNetB2 = _make(
    "EfficientNetB2", "efficientnet_b2", "EfficientNet-B2", 1.1, 1.2, 0.3, True
)
EfficientNetB3 = _make(
    "EfficientNetB3", "efficientnet_b3", "EfficientNet-B3", 1.2, 1.4, 0.3, True
)
EfficientNetB4 = _make(
    "EfficientNetB4", "efficientnet_b4", "EfficientNet-B4", 1.4, 1.8, 0.4, True
)
EfficientNetB5 = _make(
    "EfficientNetB5", "efficientnet_b5", "EfficientNet-B5", 1.6, 2.2, 0.4, True
)
EfficientNetB6 = _make(
    "EfficientNetB6", "efficientnet_b6", "EfficientNet-B6", 1.8, 2.6, 0.5, True
)
EfficientNetB7 = _make(
    "EfficientNetB7", "efficientnet_b7", "EfficientNet-B7", 2.0, 3.1, 0.5, True
)
# (width, depth, dropout): tensorflow/tpu lite/efficientnet_lite_builder.py.
EfficientNetLite0 = _make(
    "EfficientNetLite0",
    "efficientnet_lite0",
    "EfficientNet-Lite0",
    1.0,
    1.0,
    0.2,
    False,
)
EfficientNetLite1 = _make(
    "EfficientNetLite1",
    "efficientnet_lite1",
    "EfficientNet-Lite1",
    1.0,
    1.1,
    0.2,
    False,
)
EfficientNetLite2 = _make(
    "EfficientNetLite2",
    "efficientnet_lite2",
    "EfficientNet-Lite2",
    1.1,
    1.2,
    0.3,
    False,
)
EfficientNetLite3 = _make(
    "EfficientNetLite3",
    "efficientnet_lite3",
    "EfficientNet-Lite3",
    1.2,
    1.4,
    0.3,
    False,
)
EfficientNetLite4 = _make(
    "EfficientNetLite4",
    "efficientnet_lite4",
    "EfficientNet-Lite4",
    1.4,
    1.8,
    0.3,
    False,
)
