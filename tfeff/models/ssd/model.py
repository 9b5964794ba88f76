"""`SSDDetector`: extra layers, optional top-down fusion and the box and
class heads on a backbone's P3-P5 (EdgeNets model/detection/ssd.py,
espnetv2.py)."""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.conv import numerics_scope
from tfeff.blocks.ops import BilinearResize
from tfeff.models.builder import IMAGENET_MEAN
from tfeff.models.builder import IMAGENET_STD
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import _SpecModelMixin
from tfeff.models.segmentation import efficient_pyramid_pool
from tfeff.models.ssd.anchors import AnchorSpec
from tfeff.models.ssd.anchors import generate_anchors

DEFAULT_EXTRA_CHANNELS = (512, 256, 128)  # EdgeNets espnetv2.py config[5:8].
# EdgeNets espnetv2.py: pyramid scales of the top-down fusion, coarse to fine.
FUSION_SCALES = (
    (2.0, 1.0),
    (2.0, 1.0, 0.5),
    (2.0, 1.0, 0.5, 0.25),
    (2.0, 1.0, 0.5, 0.25),
)


def _cbr(x, filters, kernel, name, *, strides=1, depthwise=False):
    # Strided convs pad as the backbone's numerics say (common.padded).
    if depthwise:
        x = depthwise_conv(x, kernel, strides=strides, name=f"{name}_conv")
    else:
        x = conv(x, filters, kernel, strides=strides, name=f"{name}_conv")
    x = batch_norm(x, f"{name}_bn")
    return activation_layer(x, "prelu", f"{name}_act")


def ssd_extra_layer(x, filters, *, name):
    """EdgeNets SSDExtraLayers: a 3x3 depthwise CBR at stride 2 and a 1x1
    CBR to `filters`."""
    x = _cbr(x, None, 3, f"{name}_down", strides=2, depthwise=True)
    return _cbr(x, filters, 1, f"{name}_expand")


HEADS = ("conv1x1", "separable")


def _head(x, filters, name, kind):
    """Box or class head: a 1x1 conv with bias (EdgeNets SSD300, the
    published models), or SSDLite's 3x3 depthwise CBR + 1x1 conv (EdgeNets'
    later SSDClassificationLayers)."""
    if kind == "separable" and min(x.shape[1:3]) > 1:
        x = _cbr(x, None, 3, f"{name}_dw", depthwise=True)
    return keras.layers.Conv2D(filters, 1, name=name)(x)


def _resize_to(x, reference, name):
    size = tuple(reference.shape[1:3])
    if tuple(x.shape[1:3]) == size:
        return x
    return BilinearResize(size[0], size[1], name=name)(x)


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}"
        )


@keras.saving.register_keras_serializable(package="tfeff")
class SSDDetector(_SpecModelMixin, keras.Model):
    """Backbone + SSD extras, optional top-down fusion, box and class heads.

    Args:
        arch: ArchSpec or arch string of a backbone with P3, P4, P5.
        num_classes: int >= 1. Object classes, background excluded (COCO:
            80); the logits have `num_classes + 1` channels.
        input_size: int. Square input size; 300 and 512 use EdgeNets'
            anchor configurations, other sizes strides 8..64 and a 1x1 top.
        fusion: bool. ESPNetv2-SSD's top-down fusion of the levels with
            efficient pyramid pooling.
        extra_channels: three ints: the two extra layers' widths and the
            1x1 top's.
        heads: `"conv1x1"` (the published ESPNetv2-SSD) or `"separable"`
            (SSDLite: a 3x3 depthwise CBR before each 1x1, except on 1x1
            maps).
        mean, std: in-model preprocessing, as `EfficientBackbone`.
        name: str.

    Attributes:
        anchor_spec: `AnchorSpec`.
        anchors: float32 array `(num_anchors, 4)`, center form.

    Example:

    >>> model = SSDDetector(
    ...     tfeff.models.get_variant("test_efficientnet").resolved_arch(),
    ...     num_classes=3, input_size=64)
    >>> [tuple(o.shape) for o in model.outputs]
    [(None, 522, 4), (None, 522, 4)]
    """

    def __init__(
        self,
        arch,
        *,
        num_classes,
        input_size=300,
        fusion=True,
        extra_channels=DEFAULT_EXTRA_CHANNELS,
        heads="conv1x1",
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        name=None,
        **kwargs,
    ):
        _check_int(num_classes, "num_classes", 1)
        if heads not in HEADS:
            raise ValueError(
                f"`heads` must be one of {HEADS}. Received: heads={heads!r}"
            )
        _check_int(input_size, "input_size", 32)
        extra_channels = tuple(extra_channels)
        if len(extra_channels) != 3 or not all(
            isinstance(c, int) and c > 0 for c in extra_channels
        ):
            raise ValueError(
                "`extra_channels` must be three positive ints. Received: "
                f"extra_channels={extra_channels!r}"
            )
        spec = AnchorSpec.for_image_size(input_size)
        backbone = EfficientBackbone(
            arch, input_shape=(input_size, input_size, 3), mean=mean, std=std
        )
        missing = [
            p for p in ("P3", "P4", "P5") if p not in backbone.pyramid_outputs
        ]
        if missing:
            raise ValueError(
                "SSDDetector reads pyramid levels P3, P4, P5; this backbone "
                f"has {sorted(backbone.pyramid_outputs)}. Received: "
                f"arch={backbone._settings['arch']!r}"
            )
        # The heads pad and normalise as the backbone does.
        with numerics_scope(backbone.arch.numerics):
            pyramid = backbone.pyramid_outputs
            levels = [pyramid["P3"], pyramid["P4"], pyramid["P5"]]
            levels.append(
                ssd_extra_layer(levels[-1], extra_channels[0], name="extra1")
            )
            levels.append(
                ssd_extra_layer(levels[-1], extra_channels[1], name="extra2")
            )
            top = keras.layers.GlobalAveragePooling2D(
                keepdims=True, name="extra3_pool"
            )(levels[-1])
            top = keras.layers.Conv2D(
                extra_channels[2], 1, use_bias=False, name="extra3_conv"
            )(top)
            levels.append(keras.layers.ReLU(name="extra3_relu")(top))
            maps = tuple(int(level.shape[1]) for level in levels)
            if maps != spec.feature_maps:
                raise ValueError(
                    f"input_size={input_size} gives feature maps {maps}, but its "
                    f"anchors expect {spec.feature_maps}."
                )
            if fusion:
                # Top-down (EdgeNets espnetv2.py): the coarser map, resized,
                # joins the finer one through a pyramid pool at its width.
                fused = list(levels)
                coarse = levels[4]
                for step, index in enumerate((3, 2, 1, 0)):
                    fine = levels[index]
                    up = _resize_to(coarse, fine, f"fuse{step + 1}_up")
                    joined = keras.layers.Concatenate(
                        name=f"fuse{step + 1}_concat"
                    )([up, fine])
                    width = fine.shape[-1]
                    coarse = efficient_pyramid_pool(
                        joined,
                        max(1, width // 5),
                        width,
                        name=f"fuse{step + 1}",
                        scales=FUSION_SCALES[step],
                    )
                    fused[index] = coarse
                levels = fused
            per_location = spec.boxes_per_location
            boxes, logits = [], []
            for index, level in enumerate(levels):
                box = _head(
                    level, per_location * 4, f"box_head{index + 1}", heads
                )
                cls = _head(
                    level,
                    per_location * (num_classes + 1),
                    f"class_head{index + 1}",
                    heads,
                )
                boxes.append(
                    keras.layers.Reshape((-1, 4), name=f"box{index + 1}")(box)
                )
                logits.append(
                    keras.layers.Reshape(
                        (-1, num_classes + 1), name=f"class{index + 1}"
                    )(cls)
                )
        box_offsets = keras.layers.Concatenate(axis=1, name="box_offsets")(
            boxes
        )
        class_logits = keras.layers.Concatenate(axis=1, name="class_logits")(
            logits
        )
        super().__init__(
            inputs=backbone.inputs,
            outputs=[box_offsets, class_logits],
            name=name,
            **kwargs,
        )
        self.arch = backbone.arch
        self.anchor_spec = spec
        self.anchors = generate_anchors(spec)
        self._settings = {
            "arch": backbone._settings["arch"],
            "num_classes": num_classes,
            "input_size": input_size,
            "fusion": bool(fusion),
            "extra_channels": list(extra_channels),
            "heads": heads,
            "mean": backbone._settings["mean"],
            "std": backbone._settings["std"],
        }
