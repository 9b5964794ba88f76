"""`create_model`: registry + builder + weights."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import dataclasses

import keras

from tfeff.models.builder import CLASSIFIER_NAME
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import ImageClassifier
from tfeff.models.registry import get_variant
from tfeff.spec.structure import needs_static_size


def create_model(
    name,
    *,
    num_classes=1000,
    include_top=True,
    pooling=None,
    input_shape=None,
    input_tensor=None,
    weights=None,
    classifier_activation="softmax",
    channel_multiplier=None,
    repeat_multiplier=None,
    drop_path_rate=None,
    dropout_rate=None,
    include_preprocessing=True,
    model_name=None,
    source=None,
):
    """Builds a registered variant, optionally with pretrained weights.

    Args:
        name: str or Variant. Variant name (see `tfeff.list_variants()`), or
            a `Variant` such as `compound_scale` returns.
        num_classes: int. Classifier width when `include_top`.
        include_top: bool. Add pooling, dropout and the classifier.
        pooling: None, `"avg"` or `"max"`. With `include_top=False`: None
            outputs the last feature map, otherwise the pooled features.
        input_shape: tuple or None. Defaults to the variant's resolution
            with a top, `(None, None, 3)` without.
        input_tensor: optional Keras tensor to build on.
        weights: None, `"imagenet"` (the variant's default checkpoint),
            `"imagenet:<tag>"` (another one, `tfeff.weights.list_weights`),
            or a weights path (see `tfeff.weights.load`). A checkpoint
            trained in PyTorch builds the model with PyTorch's numerics.
            ImageNet weights with `num_classes` other than 1000, or a
            checkpoint file whose classifier has another width, load the
            backbone (the no-top file where one is published) and give a
            freshly initialised classifier: transfer learning.
        classifier_activation: str or None.
        channel_multiplier, repeat_multiplier: float > 0. Extra width and
            depth multipliers on top of the variant's (1.0 is the published
            variant; `efficientnet_b3` with 0.5 is half as wide as B3), as
            in `tfeff.applications`.
        drop_path_rate, dropout_rate: float. Override the variant's.
        include_preprocessing: bool. In-model `x / 255` and normalization, so
            the model takes [0, 255] pixels. Defaults to `True`.
        model_name: str. The Keras model name. Defaults to `name`.
        source: str or None. The reference implementation that wrote the
            checkpoint file `weights` (`tfeff.weights.list_sources()`, e.g.
            `"timm:mixnet_s"`). The model is built with the numerics that
            checkpoint was trained with, so it computes what the reference
            computes.

    Returns:
        `ImageClassifier` or, with `include_top=False` and `pooling=None`,
        `EfficientBackbone`.

    Example:

    >>> model = tfeff.create_model("test_efficientnet", num_classes=10)
    >>> tuple(model.output.shape)
    (None, 10)
    """
    variant = get_variant(name)
    name = variant.name
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            f"`pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}"
        )
    if not isinstance(include_top, bool):
        raise TypeError(
            f"`include_top` must be a bool. Received: include_top={include_top!r}"
        )
    _check_multiplier("channel_multiplier", channel_multiplier)
    _check_multiplier("repeat_multiplier", repeat_multiplier)
    pretrained = weights is not None
    # Transfer learning: ImageNet weights with a classifier of another
    # width load into the backbone, and the classifier starts fresh
    # (timm's create_model(pretrained=True, num_classes=N), keras-hub's
    # from_preset(num_classes=N)).
    new_head = (
        pretrained
        and include_top
        and _is_imagenet(weights)
        and num_classes != IMAGENET_CLASSES
    )
    if pretrained:
        _check_pretrained_args(
            name,
            weights,
            include_top,
            num_classes,
            input_shape,
            input_tensor,
            classifier_activation,
            channel_multiplier,
            repeat_multiplier,
            include_preprocessing,
            new_head,
        )
    spec = variant.resolved_arch(
        _times(variant.scaling.channel_multiplier, channel_multiplier),
        _times(variant.scaling.repeat_multiplier, repeat_multiplier),
    )
    numerics = _checkpoint_numerics(
        name, weights, source, include_top and not new_head
    )
    if numerics is not None:
        spec = dataclasses.replace(spec, numerics=numerics)
    if input_shape is None and input_tensor is None:
        # DiCENet's DICE units are built for one size, so it gets its
        # resolution even without a top.
        static = include_top or needs_static_size(spec)
        input_shape = (
            (variant.resolution,) * 2 + (3,) if static else (None, None, 3)
        )
    common = dict(
        input_shape=input_shape,
        input_tensor=input_tensor,
        mean=variant.mean if include_preprocessing else None,
        std=variant.std if include_preprocessing else None,
        drop_path_rate=variant.drop_path_rate
        if drop_path_rate is None
        else drop_path_rate,
        name=model_name or name,
    )
    if include_top:
        model = ImageClassifier(
            spec,
            num_classes=num_classes,
            pooling=pooling or "avg",
            dropout_rate=variant.dropout_rate
            if dropout_rate is None
            else dropout_rate,
            classifier_activation=classifier_activation,
            **common,
        )
    elif pooling is None:
        model = EfficientBackbone(spec, **common)
    else:
        model = ImageClassifier(
            spec, num_classes=None, pooling=pooling, **common
        )
    if new_head:
        _load_backbone(model, spec, weights, name, common)
    elif pretrained:
        from tfeff.weights import load
        from tfeff.weights.loader import ClassifierMismatchError

        try:
            load(model, weights, variant=name, source=source)
        except ClassifierMismatchError as error:
            # A checkpoint file whose classifier has another number of
            # classes: its backbone, and a new head, as for "imagenet".
            _load_backbone(
                model,
                spec,
                weights,
                name,
                common,
                source=source,
                classes=error.classes,
            )
    return model


IMAGENET_CLASSES = 1000


def load_backbone_weights(model, backbone):
    """Copies a (pretrained) backbone's variables into a task model built
    on the same architecture: an `SSDDetector`, a `SemanticSegmenter`, a
    classifier with another head.

    The builder names every layer from the spec, so the variables of the
    model's backbone are those of an `EfficientBackbone` of `model.arch`,
    with the same paths. Each of them that the model has must be in
    `backbone` with the same shape, or this is a ValueError naming the
    first ones (another architecture is never half loaded). The heads and
    the decoder keep their initialisation; backbone layers the task does
    not use (a segmenter stops at its deepest pyramid level) are skipped.

    Returns:
        dict: `loaded` (variables copied), `fresh` (the model's variables
        outside its backbone), `unused` (`backbone` variables the model
        does not use).
    """
    own_arch = getattr(model, "arch", None)
    source_arch = getattr(backbone, "arch", None)
    if own_arch is None or source_arch is None:
        raise TypeError(
            "`model` and `backbone` must be tfeff models (with `.arch`). "
            f"Received: model={model.name!r}, backbone={backbone.name!r}"
        )
    if own_arch.numerics != source_arch.numerics:
        raise ValueError(
            "The backbone computes with other numerics than the model "
            f"({source_arch.numerics} vs {own_arch.numerics}); build the "
            "model from `backbone.arch`."
        )
    shape = tuple(model.input_shape[1:])
    own_backbone = {
        variable.path
        for variable in EfficientBackbone(own_arch, input_shape=shape).weights
    }
    source = {variable.path: variable for variable in backbone.weights}
    loaded, mismatched, fresh = [], [], 0
    for variable in model.weights:
        if variable.path not in own_backbone:
            fresh += 1
            continue
        found = source.get(variable.path)
        if found is None:
            mismatched.append(f"{variable.path} missing")
        elif tuple(found.shape) != tuple(variable.shape):
            mismatched.append(
                f"{variable.path} {tuple(variable.shape)} vs "
                f"{tuple(found.shape)}"
            )
        else:
            loaded.append((variable, found))
    if mismatched or not loaded:
        raise ValueError(
            f"The backbone {backbone.name!r} does not fit {model.name!r}: "
            + (
                f"{len(mismatched)} of its backbone's variables differ "
                f"(first: {mismatched[:3]})."
                if mismatched
                else "the model has no backbone variable."
            )
        )
    for variable, found in loaded:
        variable.assign(found)
    _finalize_normalization(model)
    return {
        "loaded": len(loaded),
        "fresh": fresh,
        "unused": len(source) - len(loaded),
    }


def _is_imagenet(weights):
    from tfeff.weights.catalog import parse_imagenet_tag

    return isinstance(weights, str) and parse_imagenet_tag(weights)[0]


def _load_backbone(
    model, spec, weights, name, common, source=None, classes=None
):
    """ImageNet weights into every layer of `model` but its classifier.

    The checkpoint is loaded into the same network without a top (its
    no-top file where one is published) or, for a file whose classifier
    has `classes` classes, into the same network with that classifier
    (a Keras 3 `.weights.h5` names its layers by position, so it reads
    only into its own shape). Then it is copied variable by variable
    (same paths: the builder names every layer); the classifier keeps its
    fresh initialisation. Every variable but the classifier's must be
    matched, or this is a ValueError rather than a half-loaded model.
    """
    from tfeff.weights import load

    body_args = dict(common, input_tensor=None)
    body_args["input_shape"] = tuple(model.input_shape[1:])
    body = ImageClassifier(
        spec,
        num_classes=classes,
        pooling="avg",
        classifier_activation=None,
        **body_args,
    )
    load(body, weights, variant=name, source=source)
    loaded = {variable.path: variable for variable in body.weights}
    missing = []
    for variable in model.weights:
        if variable.path.startswith(f"{CLASSIFIER_NAME}/"):
            continue
        source = loaded.get(variable.path)
        if source is None or tuple(source.shape) != tuple(variable.shape):
            missing.append(variable.path)
            continue
        variable.assign(source)
    if missing:
        raise ValueError(
            f"The weights {weights!r} of {name!r} do not cover "
            f"{len(missing)} variables of the model with a new head (first: "
            f"{missing[:3]})."
        )
    _finalize_normalization(model)


def _finalize_normalization(model):
    """Normalization computes from its variables only in `finalize_state`
    (which loading calls and a plain assign does not)."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()


def _checkpoint_numerics(name, weights, source, include_top=True):
    """The numerics a checkpoint needs (None: the variant's own)."""
    from tfeff.weights.catalog import find_weights
    from tfeff.weights.catalog import parse_imagenet_tag
    from tfeff.weights.converters import get_source

    is_imagenet, tag = parse_imagenet_tag(weights)
    if source is None:
        entry = (
            find_weights(name, include_top=include_top, tag=tag)
            if is_imagenet
            else None
        )
        if entry is None or entry.source is None:
            return None
        return get_source(entry.source).numerics
    found = get_source(source)
    if weights is None or is_imagenet:
        raise ValueError(
            "`source` names the reference that wrote a weights file; pass "
            f"the file as `weights`. Received: weights={weights!r}, "
            f"source={source!r}"
        )
    if found.variant != name:
        raise ValueError(
            f"Checkpoint source {found.name!r} is tfeff variant "
            f"{found.variant!r}, not {name!r}. Received: source={source!r}"
        )
    return found.numerics


def _check_multiplier(name, value):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"`{name}` must be a number. Received: {name}={value!r}"
        )
    if not value > 0:
        raise ValueError(f"`{name}` must be > 0. Received: {name}={value!r}")


def _times(base, extra):
    """The variant's multiplier times an extra one (None: the variant's)."""
    return None if extra is None else base * extra


def _check_pretrained_args(
    name,
    weights,
    include_top,
    num_classes,
    input_shape,
    input_tensor,
    classifier_activation,
    channel_multiplier,
    repeat_multiplier,
    include_preprocessing,
    new_head=False,
):
    from tfeff.weights.catalog import parse_imagenet_tag

    is_imagenet, tag = parse_imagenet_tag(weights)
    if is_imagenet:
        from tfeff.weights.catalog import find_weights
        from tfeff.weights.catalog import no_imagenet_weights_error

        if (
            find_weights(
                name, include_top=include_top and not new_head, tag=tag
            )
            is None
        ):
            raise no_imagenet_weights_error(name, tag)
        if channel_multiplier is not None or repeat_multiplier is not None:
            raise ValueError(
                "ImageNet weights exist only for the published multipliers of "
                f"{name!r}. Received: channel_multiplier={channel_multiplier}, "
                f"repeat_multiplier={repeat_multiplier}"
            )
        if not include_preprocessing:
            raise ValueError(
                "ImageNet weights carry their input normalization; keep "
                "include_preprocessing=True with weights='imagenet'."
            )
    shape = (
        tuple(input_tensor.shape[1:])
        if input_tensor is not None
        else input_shape
    )
    if shape is not None and shape[-1] != 3:
        raise ValueError(
            f"Pretrained weights expect 3 input channels. Received: input_shape={shape}"
        )
    if (
        include_top
        and not new_head
        and classifier_activation not in (None, "softmax")
    ):
        raise ValueError(
            "With pretrained weights and include_top=True, classifier_activation "
            "must be None or 'softmax'. Received: "
            f"classifier_activation={classifier_activation!r}"
        )
