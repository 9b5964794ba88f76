"""Shared machinery of the keras.applications-style constructors."""

from tfeff.models.create import create_model
from tfeff.models.registry import get_variant
from tfeff.models.registry import list_variants

ARGS_DOC = """
    Arguments follow `keras.applications`; inputs are float pixels in
    [0, 255] (the model rescales and normalises them).

    Args:
{selector}        include_top: bool. Include pooling, dropout and the classifier.
        weights: None, `"imagenet"` (where published), or a path to a
            weights file (`.keras`, `.weights.h5`, keras `.h5`, PyTorch
            `.safetensors`/`.pth`).
        input_tensor: optional Keras tensor to build on.
        input_shape: optional `(height, width, channels)`.
        pooling: None, `"avg"` or `"max"`, for `include_top=False`.
        classes: int. Number of classes. Defaults to `1000`. With
            `weights="imagenet"` and another number, the pretrained
            backbone gets a new, freshly initialised classifier.
        classifier_activation: str or None. Defaults to `"softmax"`.
        channel_multiplier: float. Extra width multiplier on top of the
            variant's.
        repeat_multiplier: float. Extra depth multiplier.
        drop_path_rate: float. Stochastic depth (residual blocks).
        dropout_rate: float. Head dropout.
        name: str. Model name.

    Returns:
        A `keras.Model` with `.arch` and `.pyramid_outputs`.
"""


def build_variant(
    variant,
    *,
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
    """The keras.applications argument names mapped onto `create_model`."""
    variant = get_variant(variant)
    # Both multiply the variant's (create_model's meaning, one meaning).
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


def make_constructor(fn_name, variant, title):
    """A constructor for one registered variant."""

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
        return build_variant(
            variant,
            include_top=include_top,
            weights=weights,
            input_tensor=input_tensor,
            input_shape=input_shape,
            pooling=pooling,
            classes=classes,
            classifier_activation=classifier_activation,
            channel_multiplier=channel_multiplier,
            repeat_multiplier=repeat_multiplier,
            drop_path_rate=drop_path_rate,
            dropout_rate=dropout_rate,
            name=name,
        )

    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = (
        f"Instantiates {title} (`{variant}` in `tfeff.list_variants()`).\n"
        + ARGS_DOC.format(selector="")
        + f"""
    Example:

    >>> model = tfeff.applications.{fn_name}(input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 1000)
"""
    )
    return constructor


def make_selector_constructor(fn_name, title, argument, table, default, doc):
    """A constructor whose size is chosen by one argument (`width`, `scale`).

    Args:
        table: dict {argument value: variant name}.
    """

    def constructor(
        **kwargs,
    ):
        value = kwargs.pop(argument, default)
        if value not in table:
            raise ValueError(
                f"Unsupported `{argument}` for {title}: published values are "
                f"{sorted(table)}; for other sizes pass channel_multiplier. "
                f"Received: {argument}={value!r}"
            )
        return build_variant(table[value], **kwargs)

    constructor.__name__ = constructor.__qualname__ = fn_name
    constructor.__doc__ = (
        f"Instantiates {title}.\n"
        + ARGS_DOC.format(
            selector=f"        {argument}: {doc} One of {sorted(table)}.\n"
        )
        + f"""
    Example:

    >>> model = tfeff.applications.{fn_name}({argument}={default!r}, input_shape=(64, 64, 3))
    >>> tuple(model.output.shape)
    (None, 1000)
"""
    )
    return constructor


def list_models(pretrained=False):
    """Names of every published variant (the tiny `test_*` ones left out).

    Args:
        pretrained: bool. Only the variants whose `weights="imagenet"`
            loads a published checkpoint (`tfeff.weights.list_weights`
            lists every file, other tags included).

    Example:

    >>> "mixnet_s" in tfeff.applications.list_models()
    True
    >>> "mixnet_s" in tfeff.applications.list_models(pretrained=True)
    True
    """
    if not isinstance(pretrained, bool):
        raise TypeError(
            f"`pretrained` must be a bool. Received: pretrained={pretrained!r}"
        )
    names = [v for v in list_variants() if not v.startswith("test_")]
    if pretrained:
        from tfeff.weights.catalog import pretrained_variants

        with_weights = set(pretrained_variants())
        names = [n for n in names if n in with_weights]
    return names
