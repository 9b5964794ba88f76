"""Semantic segmentation: decoders on any backbone's `pyramid_outputs`.

`SemanticSegmenter(arch, num_classes, decoder=...)` builds the backbone from
its arch string, cuts it at the deepest pyramid level the decoder reads
(layers past it are not part of the model, as the references delete them)
and adds the decoder. Outputs are per-pixel logits at the input resolution.

Decoders:
- `"espnetv2"`: ESPNetv2's decoder (EfficientPyrPool stages and gated
  EfficientPWConv skips) on P1..P4. Reference: sacmehta/EdgeNets
  model/segmentation/espnetv2.py, nn_layers/efficient_pyramid_pool.py,
  nn_layers/efficient_pt.py (@ 4a6c105d); architectures.md §5.2 (b).
- `"espnet"`: ESPNet (v1)'s decoder on P1, P2, P3. Reference: sacmehta/ESPNet
  train/Model.py `ESPNet` (@ afe71c38); ../shared/reference/
  architectures.md §6. On ESPNet-C (p=2, q=8) with 20 classes the model has
  the reference's 365,109 parameters.

Deviations from reference:
- ESPNetv2: bilinear resizes use half-pixel centres (TF, TFLite), not
  PyTorch's `align_corners=True`; the pyramid's adaptive average pooling is
  an average pool where the size ratio is an integer and a bilinear resize
  elsewhere (adaptive pooling with uneven windows has no TFLite op). The
  merge (BR → shuffle → grouped 3x3 CBR) and the skips' grouped 3x3 convs
  are emitted as depthwise convs and sums: same parameters and MACs (see
  `efficient_pyramid_pool`, `_grouped_conv3x3`).
- Batch norm momentum is TF's 0.99 (epsilon 1e-3 as the reference).
- The optional auxiliary output (`aux_output=True`, for deep supervision in
  training) is the encoder's 1/8-resolution classifier upsampled
  bilinearly to the input size; the reference computes that classifier but
  returns only the decoder's output.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import math

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import numerics_scope
from tfeff.blocks.esp import esp_module
from tfeff.blocks.ops import BilinearResize
from tfeff.blocks.ops import ChannelSlice
from tfeff.models.builder import IMAGENET_MEAN
from tfeff.models.builder import IMAGENET_STD
from tfeff.models.builder import EfficientBackbone
from tfeff.models.builder import _SpecModelMixin

DECODERS = ("espnet", "espnetv2")
_LEVELS = {"espnet": ("P1", "P2", "P3"), "espnetv2": ("P1", "P2", "P3", "P4")}
# EdgeNets' `base_dec_planes`: 16 for Cityscapes and PASCAL VOC, 32 for COCO.
DEFAULT_DECODER_PLANES = 16
PYRAMID_SCALES = (2.0, 1.5, 1.0, 0.5, 0.1)


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


def _cbr(x, filters, kernel, name, activation="prelu"):
    x = keras.layers.Conv2D(
        filters, kernel, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    return _bn_act(x, name, activation)


def _depthwise3x3(x, name, depth_multiplier=1):
    return keras.layers.DepthwiseConv2D(
        3,
        padding="same",
        depth_multiplier=depth_multiplier,
        use_bias=False,
        name=name,
    )(x)


def _resample(x, size, name, average):
    """Resizes to `size` (h, w): an average pool where the ratio is an
    integer and `average` asks for it (PyTorch's adaptive average pooling
    is exactly that there), bilinear otherwise."""
    height, width = x.shape[1:3]
    if (height, width) == tuple(size):
        return x
    if average and height % size[0] == 0 and width % size[1] == 0:
        pool = (height // size[0], width // size[1])
        return keras.layers.AveragePooling2D(pool, name=f"{name}_pool")(x)
    return BilinearResize(size[0], size[1], name=f"{name}_resize")(x)


def efficient_pyramid_pool(
    x, proj_planes, out_planes, *, name, last=False, scales=PYRAMID_SCALES
):
    """ESPNetv2's EfficientPyrPool (EdgeNets nn_layers/efficient_pyramid_pool.py).

    1x1 CBR to `proj_planes`; per scale a resize (at least 5x5), a 3x3
    depthwise conv and a resize back; merge; 1x1 conv to `out_planes`,
    then BN-PReLU unless `last` (the classifier, which has a bias instead).

    The reference merges with BR over the concat → channel shuffle(5) →
    3x3 CBR grouped by `proj_planes`. Each of those groups reads one channel
    from every scale, so it is emitted here as BN-PReLU per scale → 3x3
    depthwise per scale → sum: the same function and parameters, with no
    concat, shuffle or grouped conv (none of which TFLite or the EdgeTPU
    runs well).
    """
    x = _cbr(x, proj_planes, 1, f"{name}_proj")
    height, width = x.shape[1:3]
    merged = []
    for index, scale in enumerate(sorted(scales, reverse=True)):
        branch = f"{name}_s{index}"
        size = (height, width)
        if scale != 1.0:  # The reference resizes only the other scales.
            size = (
                max(5, math.ceil(height * scale)),
                max(5, math.ceil(width * scale)),
            )
        y = _resample(x, size, f"{branch}_in", average=scale < 1.0)
        y = _depthwise3x3(y, f"{branch}_dw")
        y = _resample(y, (height, width), f"{branch}_out", average=scale > 1.0)
        y = _bn_act(y, f"{branch}_merge")
        merged.append(_depthwise3x3(y, f"{branch}_merge_dw"))
    y = keras.layers.Add(name=f"{name}_merge_sum")(merged)
    y = _bn_act(y, f"{name}_merge")
    y = keras.layers.Conv2D(
        out_planes, 1, use_bias=last, name=f"{name}_out_conv"
    )(y)
    if not last:
        y = _bn_act(y, f"{name}_out")
    return y


def _grouped_conv3x3(x, filters, groups, name):
    """A 3x3 conv grouped by `groups` as depthwise convs: in-group input
    `l` of every group is a strided channel slice, convolved depthwise
    (multiplier = outputs per group), and the slices' results are summed.
    Same parameters and MACs as `Conv2D(groups=groups)`; TF's CPU kernel
    and the EdgeTPU have no grouped conv."""
    per_group_in = x.shape[-1] // groups
    multiplier = filters // groups
    if per_group_in == 1:
        return _depthwise3x3(x, name, multiplier)
    parts = []
    for offset in range(per_group_in):
        part = ChannelSlice(
            offset, x.shape[-1], per_group_in, name=f"{name}_in{offset}"
        )(x)
        parts.append(_depthwise3x3(part, f"{name}_dw{offset}", multiplier))
    return keras.layers.Add(name=f"{name}_sum")(parts)


def efficient_pw_conv(x, filters, *, name):
    """ESPNetv2's EfficientPWConv (EdgeNets nn_layers/efficient_pt.py): a 3x3
    CBR grouped by gcd(in, out), gated per channel by sigmoid(1x1 conv of
    the global average)."""
    gate = keras.layers.GlobalAveragePooling2D(
        keepdims=True, name=f"{name}_gate_pool"
    )(x)
    gate = keras.layers.Conv2D(
        filters, 1, use_bias=False, name=f"{name}_gate_conv"
    )(gate)
    gate = keras.layers.Activation("sigmoid", name=f"{name}_gate")(gate)
    groups = math.gcd(x.shape[-1], filters)
    y = _grouped_conv3x3(x, filters, groups, f"{name}_conv")
    y = _bn_act(y, name)
    return keras.layers.Multiply(name=f"{name}_gated")([y, gate])


def espnetv2_decoder(
    pyramid, num_classes, *, planes=DEFAULT_DECODER_PLANES, name="decoder"
):
    """ESPNetv2's segmentation decoder (EdgeNets model/segmentation/espnetv2.py).

    Four EfficientPyrPool stages from P4 up, each after a bilinear 2x
    up-sampling and a gated EfficientPWConv skip from P3, P2, P1; widths
    `[4, 3, 2] * planes` then the classes; pyramid projection
    `min(num_classes // 2, planes)`.

    Returns:
        (logits at half the input size, the first stage's features for an
        auxiliary classifier).
    """
    widths = (4 * planes, 3 * planes, 2 * planes)
    proj = max(1, min(num_classes // 2, planes))
    y = efficient_pyramid_pool(
        pyramid["P4"], proj, widths[0], name=f"{name}_l4"
    )
    first_stage = y
    stages = (("P3", widths[1]), ("P2", widths[2]), ("P1", num_classes))
    for index, (level, out_planes) in enumerate(stages):
        stage = f"{name}_{level.lower()}"
        up = keras.layers.UpSampling2D(
            2, interpolation="bilinear", name=f"{stage}_up"
        )(y)
        skip = efficient_pw_conv(
            pyramid[level], y.shape[-1], name=f"{stage}_skip"
        )
        y = keras.layers.Add(name=f"{stage}_add")([up, skip])
        y = _bn_act(y, f"{stage}_fuse")
        y = efficient_pyramid_pool(
            y, proj, out_planes, name=f"{stage}_epp", last=index == 2
        )
    return y, first_stage


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
            multiples of the deepest level's stride (8 for `"espnet"`, 16
            for `"espnetv2"`) so that the decoder's up-sampling lands on
            the input size.
        mean, std: in-model preprocessing, as `EfficientBackbone`.
        aux_output: bool. Also output auxiliary logits at the input size
            (a second output, for deep supervision in training): ESPNet's
            encoder classifier, or for `"espnetv2"` a 1x1 classifier on the
            first decoder stage (extra parameters, training only).
        decoder_planes: int. The `"espnetv2"` decoder's base width
            (EdgeNets' `base_dec_planes`: 16 for Cityscapes and PASCAL VOC,
            32 for COCO); ignored by `"espnet"`.
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
        decoder_planes=DEFAULT_DECODER_PLANES,
        name=None,
        **kwargs,
    ):
        _check_int(num_classes, "num_classes", 2)
        _check_int(decoder_planes, "decoder_planes", 1)
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
        # The decoder pads and normalises as the backbone does.
        with numerics_scope(backbone.arch.numerics):
            if decoder == "espnet":
                logits, aux = espnet_decoder(
                    backbone.pyramid_outputs, num_classes
                )
            else:
                half, features = espnetv2_decoder(
                    backbone.pyramid_outputs, num_classes, planes=decoder_planes
                )
                logits = keras.layers.UpSampling2D(
                    2, interpolation="bilinear", name="decoder_up"
                )(half)
                aux = None
                if aux_output:
                    aux = keras.layers.Conv2D(
                        num_classes, 1, name="decoder_aux_classifier"
                    )(features)
        outputs = logits
        if aux_output:
            aux = keras.layers.UpSampling2D(
                stride, interpolation="bilinear", name="decoder_aux_up"
            )(aux)
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
            "decoder_planes": decoder_planes,
        }
