"""IGCV3 block: interleaved low-rank group convolutions.

Paper: Sun et al., "IGCV3: Interleaved Low-Rank Group Convolutions for
Efficient Deep Neural Networks", https://arxiv.org/abs/1806.00178.
Reference implementation: homles11/IGCV3 symbols/igcv3.py
`inverted_residual_unit` (@ 83aba2f3).

Deviations from reference: none in structure. The expansion group conv is
present even at expand ratio 1, as in the reference. Strided depthwise convs
pad as the network's numerics say (IGCV3-D's, from MXNet: symmetric,
epsilon 1e-5).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.ops import ChannelShuffle
from tfeff.blocks.registry import register_block
from tfeff.spec.structure import mbconv_expanded_filters


@register_block("igcv3")
def igcv3_block(x, spec, context):
    """Grouped 1x1 (linear) → shuffle → dw → act → grouped 1x1 (+ skip)."""
    name = context.name
    inputs = x
    in_channels = x.shape[-1]
    mid = mbconv_expanded_filters(in_channels, spec.expand_ratio)
    # Low-rank grouped expansion with no activation: the paper keeps the
    # first group conv linear so the permutation mixes linear features.
    x = conv(x, mid, 1, groups=spec.groups, name=f"{name}_expand_conv")
    x = batch_norm(x, f"{name}_expand_bn")
    x = ChannelShuffle(spec.groups, name=f"{name}_expand_shuffle")(x)
    x = depthwise_conv(
        x, spec.kernel_size, strides=spec.strides, name=f"{name}_dw_conv"
    )
    x = batch_norm(x, f"{name}_dw_bn")
    x = activation_layer(x, spec.activation, f"{name}_dw_act")
    x = conv(
        x, spec.filters, 1, groups=spec.groups, name=f"{name}_project_conv"
    )
    x = batch_norm(x, f"{name}_project_bn")
    if spec.strides == 1 and in_channels == spec.filters:
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x
