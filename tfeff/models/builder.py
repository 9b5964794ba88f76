"""The one builder: ArchSpec → keras.Model.

`EfficientBackbone` outputs the last feature map and exposes
`pyramid_outputs` (`"P1".."P5"`, Pn at stride 2^n). `ImageClassifier` adds
pooling and, optionally, the classification layer on the same graph (flat,
not nested, so QAT and TFLite conversion see one functional graph).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import math

import keras

from tfeff.blocks import get_block_builder
from tfeff.blocks.context import BlockContext
from tfeff.blocks.conv import DENSE_KERNEL_INITIALIZER
from tfeff.blocks.conv import numerics_scope
from tfeff.blocks.ops import ChannelSplit
from tfeff.spec.kinds import kind_of
from tfeff.spec.notation import as_arch_spec
from tfeff.spec.notation import encode_arch
from tfeff.spec.structure import expand_blocks
from tfeff.spec.structure import split_channels
from tfeff.spec.validate import check_input_size
from tfeff.spec.validate import validate_arch

# The classifier layer's name: weight loaders, transfer learning and
# fine-tuning find the head by it.
CLASSIFIER_NAME = "predictions"

# ImageNet statistics of [0, 1] pixels (tensorflow/tpu efficientnet_builder
# MEAN_RGB / STDDEV_RGB divided by 255).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _channel_stats(values, channels):
    values = [float(v) for v in values]
    if len(values) == channels:
        return values
    if len(values) == 1 or channels != 3:
        # Per-channel RGB statistics mean nothing for 1- or 4-channel
        # inputs; use their average for every channel.
        return [sum(values) / len(values)] * channels
    raise ValueError(
        f"Expected {channels} per-channel statistics. Received: {values}"
    )


def add_preprocessing(inputs, mean, std):
    """x / 255, then (x - mean) / std, in weightless-at-train-time layers.

    The statistics live in a `Normalization` layer's (non-trainable)
    variables so that official keras.applications files, which store them,
    load into the same place.
    """
    channels = inputs.shape[-1]
    x = keras.layers.Rescaling(1.0 / 255.0, name="stem_rescaling")(inputs)
    normalization = keras.layers.Normalization(
        axis=-1, name="stem_normalization"
    )
    x = normalization(x)
    normalization.adapt_mean.assign(_channel_stats(mean, channels))
    normalization.adapt_variance.assign(
        [s * s for s in _channel_stats(std, channels)]
    )
    normalization.finalize_state()
    return x


def emit_block(x, instance, *, name, drop_path_rate=0.0, image=None):
    """Emits the layers of one `BlockInstance` on `x`.

    The one place that maps a spec to its block builder, so that the
    latency table's per-block probes are the layers the model will have.

    Args:
        x: KerasTensor, the block's input.
        instance: BlockInstance from `expand_blocks`.
        name: str. Layer-name prefix.
        drop_path_rate: float. Stochastic depth of a residual block.
        image: KerasTensor or None. The preprocessed input image (ESPNet's
            input reinforcement reads it); None uses `x`.

    Returns:
        KerasTensor, the block's output.
    """
    context = BlockContext(
        name=name,
        drop_path_rate=drop_path_rate,
        image=x if image is None else image,
        output_stride=instance.stride,
    )
    return get_block_builder(kind_of(instance.spec).name)(
        x, instance.spec, context
    )


def build_features(
    inputs, spec, *, mean=IMAGENET_MEAN, std=IMAGENET_STD, drop_path_rate=0.0
):
    """Emits the layers of `spec` on `inputs`.

    Args:
        inputs: KerasTensor of shape `(batch, height, width, channels)`.
        spec: ArchSpec.
        mean, std: sequences of float, or None for no in-model preprocessing.
            Statistics of [0, 1] pixels; inputs are [0, 255] pixels.
        drop_path_rate: float. Stochastic depth of the last block; block i of
            n gets `drop_path_rate * i / n` (keras.applications' rule).

    Returns:
        (features, pyramid_outputs): the last feature map and a dict
        `{"P1": ..., "P5": ...}` of the last feature map at each stride.
    """
    x = inputs
    if mean is not None:
        x = add_preprocessing(inputs, mean, std)
    image = x
    instances = expand_blocks(spec, inputs.shape[-1])
    num_stage_blocks = sum(1 for inst in instances if inst.stage > 0)
    stage_index = 0
    pyramid = {}
    # Every block pads, pools and normalises as the network's numerics say.
    with numerics_scope(spec.numerics):
        for inst in instances:
            rate = 0.0
            if inst.stage > 0:
                rate = drop_path_rate * stage_index / num_stage_blocks
                stage_index += 1
            x = emit_block(
                x, inst, name=inst.name, drop_path_rate=rate, image=image
            )
            level = math.log2(inst.stride)
            if level.is_integer() and 1 <= level <= 5:
                pyramid[f"P{int(level)}"] = x
    return x, pyramid


def build_top(x, top):
    """Dense layers between global pooling and the classifier (`fc` tokens)."""
    for index, dense in enumerate(top, start=1):
        prefix = "top" if index == 1 else f"top{index}"
        if dense.groups == 1:
            x = keras.layers.Dense(
                dense.filters,
                use_bias=dense.use_bias,
                kernel_initializer=DENSE_KERNEL_INITIALIZER,
                name=f"{prefix}_dense",
            )(x)
        else:
            # A grouped 1x1 conv on pooled features (DiCENet) is a
            # block-diagonal dense layer: split, dense per group, concat.
            parts = ChannelSplit(
                split_channels(x.shape[-1], dense.groups),
                name=f"{prefix}_split",
            )(x)
            outs = [
                keras.layers.Dense(
                    units,
                    use_bias=dense.use_bias,
                    kernel_initializer=DENSE_KERNEL_INITIALIZER,
                    name=f"{prefix}_dense_g{g + 1}",
                )(part)
                for g, (part, units) in enumerate(
                    zip(parts, split_channels(dense.filters, dense.groups))
                )
            ]
            x = keras.layers.Concatenate(name=f"{prefix}_concat")(outs)
        if dense.activation != "linear":
            x = keras.layers.Activation(dense.activation, name=f"{prefix}_act")(
                x
            )
    return x


def _resolve_inputs(input_shape, input_tensor):
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise TypeError(
                "`input_tensor` must be a Keras tensor (from keras.Input). "
                f"Received: input_tensor={input_tensor!r}"
            )
        return input_tensor, tuple(input_tensor.shape[1:])
    if input_shape is None:
        input_shape = (None, None, 3)
    input_shape = tuple(input_shape)
    if (
        len(input_shape) != 3
        or not all(
            d is None or (isinstance(d, int) and d > 0) for d in input_shape
        )
        or input_shape[-1] is None
    ):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with positive "
            f"ints (height and width may be None). Received: input_shape={input_shape}"
        )
    return keras.Input(shape=input_shape, name="image"), input_shape


class _SpecModelMixin:
    """Config and attributes shared by the functional subclasses."""

    def _prepare(
        self, arch, input_shape, input_tensor, mean, std, drop_path_rate
    ):
        spec = as_arch_spec(arch)
        inputs, input_shape = _resolve_inputs(input_shape, input_tensor)
        spec = validate_arch(spec, in_channels=input_shape[-1])
        check_input_size(spec, input_shape)
        if not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(
                f"`drop_path_rate` must be in [0, 1). Received: drop_path_rate={drop_path_rate}"
            )
        if (mean is None) != (std is None):
            raise ValueError(
                "Pass both `mean` and `std`, or neither. Received: "
                f"mean={mean}, std={std}"
            )
        features, pyramid = build_features(
            inputs, spec, mean=mean, std=std, drop_path_rate=drop_path_rate
        )
        settings = {
            "arch": encode_arch(spec),
            "input_shape": input_shape,
            "mean": None if mean is None else [float(v) for v in mean],
            "std": None if std is None else [float(v) for v in std],
            "drop_path_rate": float(drop_path_rate),
        }
        return spec, inputs, features, pyramid, settings

    def _finish(self, spec, pyramid, settings):
        self.arch = spec
        self.pyramid_outputs = pyramid
        self._settings = settings

    # Config = the constructor arguments (small and readable; the graph is
    # rebuilt from the arch string on load).
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            **self._settings,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfeff")
class EfficientBackbone(_SpecModelMixin, keras.Model):
    """A feature extractor built from an architecture spec.

    Args:
        arch: ArchSpec or arch string.
        input_shape: tuple `(height, width, channels)`; height and width may
            be None. Defaults to `(None, None, 3)`.
        input_tensor: optional Keras tensor to build on.
        mean: per-channel means of [0, 1] pixels, or None to skip in-model
            preprocessing. Inputs are [0, 255] pixels. Defaults to ImageNet's.
        std: per-channel standard deviations, or None. Defaults to ImageNet's.
        drop_path_rate: float. Stochastic depth of the last block.
        name: str.

    Attributes:
        arch: ArchSpec. The resolved architecture.
        pyramid_outputs: dict `"P1".."P5"` of KerasTensors at strides 2..32.

    Example:

    >>> backbone = tfeff.build_backbone("stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16",
    ...                                 input_shape=(32, 32, 3))
    >>> sorted(backbone.pyramid_outputs)
    ['P1', 'P2']
    """

    def __init__(
        self,
        arch,
        *,
        input_shape=None,
        input_tensor=None,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        drop_path_rate=0.0,
        name=None,
        **kwargs,
    ):
        # === Layers / Functional Model ===
        spec, inputs, features, pyramid, settings = self._prepare(
            arch, input_shape, input_tensor, mean, std, drop_path_rate
        )
        super().__init__(inputs=inputs, outputs=features, name=name, **kwargs)
        # === Config ===
        self._finish(spec, pyramid, settings)


@keras.saving.register_keras_serializable(package="tfeff")
class ImageClassifier(_SpecModelMixin, keras.Model):
    """Backbone + global pooling + (optionally) dropout and a dense classifier.

    Args:
        arch, input_shape, input_tensor, mean, std, drop_path_rate: as in
            `EfficientBackbone`.
        num_classes: int, or None to output the pooled features.
        pooling: `"avg"` or `"max"`. Defaults to `"avg"`.
        dropout_rate: float. Dropout before the classifier. Defaults to `0.0`.
        classifier_activation: str or None. Defaults to `"softmax"`.
        name: str.

    Example:

    >>> model = tfeff.build_image_classifier(
    ...     "stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16 | head_k1_c32",
    ...     num_classes=10, input_shape=(32, 32, 3))
    >>> tuple(model.output.shape)
    (None, 10)
    """

    def __init__(
        self,
        arch,
        *,
        num_classes=1000,
        input_shape=None,
        input_tensor=None,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        pooling="avg",
        dropout_rate=0.0,
        classifier_activation="softmax",
        drop_path_rate=0.0,
        name=None,
        **kwargs,
    ):
        if pooling not in ("avg", "max"):
            raise ValueError(
                f"`pooling` must be 'avg' or 'max'. Received: pooling={pooling!r}"
            )
        if num_classes is not None and (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, int)
            or num_classes < 1
        ):
            raise ValueError(
                f"`num_classes` must be a positive int or None. Received: num_classes={num_classes!r}"
            )
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(
                f"`dropout_rate` must be in [0, 1). Received: dropout_rate={dropout_rate}"
            )
        # === Layers ===
        spec, inputs, features, pyramid, settings = self._prepare(
            arch, input_shape, input_tensor, mean, std, drop_path_rate
        )
        pool_cls = {
            "avg": keras.layers.GlobalAveragePooling2D,
            "max": keras.layers.GlobalMaxPooling2D,
        }[pooling]
        # === Functional Model ===
        x = pool_cls(name="head_pool")(features)
        if num_classes is not None:
            x = build_top(x, spec.top)
            if dropout_rate > 0:
                x = keras.layers.Dropout(dropout_rate, name="head_dropout")(x)
            x = keras.layers.Dense(
                num_classes,
                activation=classifier_activation,
                kernel_initializer=DENSE_KERNEL_INITIALIZER,
                name=CLASSIFIER_NAME,
            )(x)
        super().__init__(inputs=inputs, outputs=x, name=name, **kwargs)
        # === Config ===
        settings.update(
            num_classes=num_classes,
            pooling=pooling,
            dropout_rate=float(dropout_rate),
            classifier_activation=classifier_activation,
        )
        self._finish(spec, pyramid, settings)


def build_backbone(arch, **kwargs):
    """Builds an `EfficientBackbone` (see its arguments).

    Example:

    >>> backbone = tfeff.build_backbone("stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16",
    ...                                 input_shape=(32, 32, 3))
    >>> tuple(backbone.output.shape)
    (None, 8, 8, 16)
    """
    return EfficientBackbone(arch, **kwargs)


def build_image_classifier(arch, **kwargs):
    """Builds an `ImageClassifier` (see its arguments).

    Example:

    >>> model = tfeff.build_image_classifier("stem_k3_s2_c8 | mbconv_r1_k3_s1_e1_c8",
    ...                                      num_classes=3, input_shape=(16, 16, 3))
    >>> tuple(model.output.shape)
    (None, 3)
    """
    return ImageClassifier(arch, **kwargs)
