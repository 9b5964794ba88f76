"""MBConv (inverted residual) with optional squeeze-excite; MixConv blocks.

Papers: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", https://arxiv.org/abs/1801.04381; Tan & Le, "EfficientNet:
Rethinking Model Scaling for Convolutional Neural Networks",
https://arxiv.org/abs/1905.11946; Tan & Le, "MixConv: Mixed Depthwise
Convolutional Kernels", https://arxiv.org/abs/1907.09595.
Reference implementations: tensorflow/tpu models/official/efficientnet/
efficientnet_model.py `MBConvBlock` and models/official/mnasnet/mixnet/
mixnet_model.py (@ 7dc921f8); keras.applications efficientnet.py `block`.

Deviations from reference:
- Under TensorFlow numerics strided depthwise convs use `padding="same"`;
  keras.applications pads explicitly with `correct_pad`, which gives the
  same TF-style padding. Under PyTorch numerics they pad symmetrically.
- Grouped 1x1 convs (MixNet `a1.1`/`p1.1`) are split → convs → concat, as
  in the TF reference's `GroupedConv2D`. After grouped convs and MixConv
  kernel groups, the batch norm is applied per group before the concat
  (`_bn_g<k>` layers; same parameters as the reference's one batch norm
  after it), so TFLite folds each into its conv.
- Between the expansion, the MixConv kernel groups, squeeze-excite and the
  projection, the activation is kept as a list of channel parts wherever
  the groups line up (`common.group_parts`): no concat -> split pair
  copies it. Depthwise convs, batch norms and activations run per part;
  squeeze-excite joins the parts (its int8 form needs one scale). Same
  parameters, MACs and outputs as the concat-split form.
- Depthwise kernels above 5x5 (MixNet's 7, 9, 11) are emitted as sums of
  <= 25-tap pieces that partition the kernel, none of which crops its input
  (`common.centred_strips` at stride 1, `common.depthwise_tiles` with
  `_tile_window` at stride 2): same parameters, MACs and outputs, and
  TFLite runs them 4-8x faster than one large kernel. Each piece pads as
  the whole kernel would under the network's numerics, so MixNet equals
  `tf_mixnet_*` with TensorFlow's and timm's `mixnet_*` with PyTorch's.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_parts
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.conv import drop_path
from tfeff.blocks.registry import register_block
from tfeff.blocks.squeeze_excite import squeeze_excite
from tfeff.spec.structure import mbconv_expanded_filters
from tfeff.spec.structure import mbconv_se_filters


def has_identity_skip(spec, in_channels):
    """Whether an MBConv block adds its input (stride 1, same width)."""
    return spec.skip and spec.strides == 1 and in_channels == spec.filters


@register_block("mbconv")
def mbconv(x, spec, context):
    """Emits one MBConv block (`spec.repeats` must be 1)."""
    name = context.name
    inputs = x
    in_channels = x.shape[-1]
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    # Between the grouped expansion, the MixConv groups and the grouped
    # projection the activation stays in channel parts (common.repartition):
    # no concat -> split pairs where the groups line up.
    if spec.expand_ratio != 1:
        x = conv(
            x,
            mid,
            1,
            groups=spec.expand_groups,
            name=f"{name}_expand_conv",
            batch_norm_name=f"{name}_expand_bn",
            keep_parts=True,
            # An ungrouped expansion stays one conv followed by a split:
            # emitted as one conv per kernel group (`output_parts`) it saves
            # the split (MixNet-S 8.12 -> 7.91 ms in TFLite) but its int8
            # model then strays from the QAT simulation (mean |diff| 3x on
            # test_all_blocks, tests/export/test_tflite.py), cause not found.
        )
        x = activation_parts(x, spec.activation, f"{name}_expand_act")
    x = depthwise_conv(
        x,
        spec.kernel_size,
        strides=spec.strides,
        name=f"{name}_dw_conv",
        batch_norm_name=f"{name}_dw_bn",
        keep_parts=True,
    )
    x = activation_parts(x, spec.activation, f"{name}_dw_act")
    if spec.se_ratio > 0:
        x = squeeze_excite(
            x,
            mbconv_se_filters(in_channels, spec.se_ratio),
            activation=spec.activation,
            name=name,
        )
    x = conv(
        x,
        spec.filters,
        1,
        groups=spec.project_groups,
        name=f"{name}_project_conv",
        batch_norm_name=f"{name}_project_bn",
    )
    if has_identity_skip(spec, in_channels):
        x = drop_path(x, context.drop_path_rate, f"{name}_drop_path")
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x
