"""Semantic segmentation: decoders on any backbone's `pyramid_outputs`.

`SemanticSegmenter(arch, num_classes, decoder=...)` builds the backbone from
its arch string, cuts it at the deepest pyramid level the decoder reads
(layers past it are not part of the model, as the references delete them)
and adds the decoder. Outputs are per-pixel logits at the input resolution.

Decoders:
- `"espnet"`: ESPNet (v1)'s decoder on P1, P2, P3. Reference: sacmehta/ESPNet
  train/Model.py `ESPNet` (@ afe71c38); ../shared/reference/
  architectures.md §6. On ESPNet-C (p=2, q=8) with 20 classes the model has
  the reference's 365,109 parameters.

Deviations from reference:
- Batch norm momentum is TF's 0.99 (epsilon 1e-3 as the reference).
- The optional auxiliary output (`aux_output=True`, for deep supervision in
  training) is the encoder's 1/8-resolution classifier upsampled
  bilinearly to the input size; the reference computes that classifier but
  returns only the decoder's output.
"""

import keras

from tfeff.blocks.common import activation_layer
from tfeff.blocks.common import batch_norm
from tfeff.blocks.esp import esp_module
from tfeff.models.builder import IMAGENET_MEAN
from tfeff.models.builder import IMAGENET_STD
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import _SpecModelMixin

DECODERS = ("espnet",)
_LEVELS = {"espnet": ("P1", "P2", "P3")}


def _conv1x1(x, filters, name):
    return keras.layers.Conv2D(filters, 1, use_bias=False, name=name)(x)


def _up2(x, filters, name):
    """Learned 2x up-sampling: a 2x2 stride-2 transposed conv (ESPNet's RUM
    step), no bias as the reference."""
    return keras.layers.Conv2DTranspose(
        filters, 2, strides=2, use_bias=False, name=name
    )(x)


def _bn_act(x, name, activation="prelu"):
    x = batch_norm(x, f"{name}_bn")
    return activation_layer(x, activation, f"{name}_act")


def espnet_decoder(pyramid, num_classes, *, name="decoder"):
    """ESPNet's decoder: 1/8 → 1/4 → 1/2 → 1/1, fusing P2 and P1.

    Args:
        pyramid: dict with KerasTensors `"P1"`, `"P2"`, `"P3"` (strides 2,
            4, 8).
        num_classes: int.
        name: str. Layer-name prefix.

    Returns:
        (logits, encoder_logits): full-resolution logits and the encoder's
        1/8-resolution classifier.
    """
    c = num_classes
    # Encoder classifier at 1/8, then BN (no activation) and 2x up.
    encoder_logits = _conv1x1(pyramid["P3"], c, f"{name}_l3_classifier")
    y = batch_norm(encoder_logits, f"{name}_l3_bn")
    y = _up2(y, c, f"{name}_l3_up")
    # Project P2 to the classes, concat, BN-PReLU, an ESP module without
    # residual (2C -> C), 2x up, BN-PReLU.
    skip = _conv1x1(pyramid["P2"], c, f"{name}_l2_project")
    y = keras.layers.Concatenate(name=f"{name}_l2_concat")([skip, y])
    y = _bn_act(y, f"{name}_l2_merge")
    y = esp_module(y, c, residual=False, name=f"{name}_l2_esp")
    y = _up2(y, c, f"{name}_l2_up")
    y = _bn_act(y, f"{name}_l2_up")
    # Concat P1, 3x3 CBR to the classes, 2x up to full resolution.
    y = keras.layers.Concatenate(name=f"{name}_l1_concat")([y, pyramid["P1"]])
    y = keras.layers.Conv2D(
        c, 3, padding="same", use_bias=False, name=f"{name}_l1_conv"
    )(y)
    y = _bn_act(y, f"{name}_l1")
    logits = _up2(y, c, f"{name}_classifier")
    return logits, encoder_logits


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}"
        )


@keras.saving.register_keras_serializable(package="tfeff")
class SemanticSegmenter(_SpecModelMixin, keras.Model):
    """Backbone + segmentation decoder; logits `(batch, H, W, num_classes)`.

    Args:
        arch: ArchSpec or arch string of the backbone (a variant's
            `resolved_arch()` or a searched arch).
        num_classes: int >= 2.
        decoder: one of `DECODERS`.
        input_shape: `(height, width, channels)`; height and width must be
            multiples of the deepest level's stride (8 for `"espnet"`) so
            that the decoder's up-sampling lands on the input size.
        mean, std: in-model preprocessing, as `EfficientBackbone`.
        aux_output: bool. Also output auxiliary logits at the input size
            (a second output, for deep supervision in training).
        name: str.

    Example:

    >>> model = SemanticSegmenter(
    ...     "stem_k3_s2_c16_npr | imgcat | espstage_r1_c64_img | espstage_r1_c128",
    ...     num_classes=6, input_shape=(32, 48, 3))
    >>> tuple(model.output.shape)
    (None, 32, 48, 6)
    """

    def __init__(
        self,
        arch,
        *,
        num_classes,
        decoder="espnet",
        input_shape=(512, 1024, 3),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        aux_output=False,
        name=None,
        **kwargs,
    ):
        _check_int(num_classes, "num_classes", 2)
        if decoder not in DECODERS:
            raise ValueError(
                f"`decoder` must be one of {DECODERS}. Received: decoder={decoder!r}"
            )
        if decoder == "espnet" and num_classes < 5:
            raise ValueError(
                "decoder='espnet' needs num_classes >= 5: its ESP module "
                "splits the class channels into 5 dilated branches. "
                f"Received: num_classes={num_classes}"
            )
        input_shape = tuple(input_shape)
        backbone = EfficientBackbone(
            arch, input_shape=input_shape, mean=mean, std=std
        )
        levels = _LEVELS[decoder]
        missing = [p for p in levels if p not in backbone.pyramid_outputs]
        if missing:
            raise ValueError(
                f"decoder={decoder!r} reads pyramid levels {levels}; this "
                f"backbone has {sorted(backbone.pyramid_outputs)}. Received: "
                f"arch={backbone._settings['arch']!r}"
            )
        stride = 2 ** int(levels[-1][1:])
        for size in input_shape[:2]:
            if size is None or size % stride:
                raise ValueError(
                    f"decoder={decoder!r} needs height and width that are "
                    f"multiples of {stride}. Received: input_shape={input_shape}"
                )
        logits, encoder_logits = espnet_decoder(
            backbone.pyramid_outputs, num_classes
        )
        outputs = logits
        if aux_output:
            aux = keras.layers.UpSampling2D(
                stride, interpolation="bilinear", name="decoder_aux_up"
            )(encoder_logits)
            outputs = [logits, aux]
        super().__init__(
            inputs=backbone.inputs, outputs=outputs, name=name, **kwargs
        )
        self.arch = backbone.arch
        self._settings = {
            "arch": backbone._settings["arch"],
            "num_classes": num_classes,
            "decoder": decoder,
            "input_shape": input_shape,
            "mean": backbone._settings["mean"],
            "std": backbone._settings["std"],
            "aux_output": bool(aux_output),
        }
