"""ShuffleNetV2 unit and the max-pool stage.

Paper: Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", https://arxiv.org/abs/1807.11164.
Reference implementation: megvii-model/ShuffleNet-Series ShuffleNetV2/
blocks.py `ShuffleV2Block` and network.py (@ aa91feb7).

The units are torchvision's (torchvision/models/shufflenetv2.py
`InvertedResidual`, v0.29), whose published checkpoints load: each branch
of the strided first unit of a stage makes `filters // 2` channels (the
projection branch dw 3x3/s2 -> 1x1 to `filters // 2`; the main branch 1x1
to `filters // 2` -> dw 3x3/s2 -> 1x1), and a stride-1 unit passes its
first half and convolves its second, then concatenates and shuffles.

Deviations from reference: none. megvii's ShuffleNet-Series network.py is
a different network at 1.0x and wider: its strided unit keeps all input
channels in the projection branch and makes `filters - in` in the main
one, and each stride-1 unit passes its even channels, so no permutation of
weights maps one onto the other (at 0.5x the widths happen to agree;
../shared/reference/checkpoints.md §3).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.conv import max_pool as common_max_pool
from tfeff.blocks.ops import ChannelShuffle
from tfeff.blocks.ops import ChannelSplit
from tfeff.blocks.registry import register_block


@register_block("maxpool")
def max_pool(x, spec, context):
    """Emits `{name}_pool`."""
    name = context.name
    return common_max_pool(x, spec.kernel_size, spec.strides, f"{name}_pool")


def _branch(x, mid, out, spec, name):
    """1x1 (act) → depthwise (strided, linear) → 1x1 (act)."""
    x = conv(x, mid, 1, name=f"{name}_pw1_conv")
    x = batch_norm(x, f"{name}_pw1_bn")
    x = activation_layer(x, spec.activation, f"{name}_pw1_act")
    x = depthwise_conv(
        x, spec.kernel_size, strides=spec.strides, name=f"{name}_dw_conv"
    )
    x = batch_norm(x, f"{name}_dw_bn")
    x = conv(x, out, 1, name=f"{name}_pw2_conv")
    x = batch_norm(x, f"{name}_pw2_bn")
    return activation_layer(x, spec.activation, f"{name}_pw2_act")


@register_block("shuffle")
def shuffle_unit(x, spec, context):
    """One ShuffleNetV2 unit; `mid = filters // 2` as in the reference."""
    name = context.name
    in_channels = x.shape[-1]
    mid = spec.filters // 2
    if spec.strides == 1:
        half = in_channels // 2
        left, right = ChannelSplit(
            [in_channels - half, half], name=f"{name}_split"
        )(x)
        right = _branch(
            right, mid, spec.filters - (in_channels - half), spec, name
        )
    else:
        left = depthwise_conv(
            x,
            spec.kernel_size,
            strides=spec.strides,
            name=f"{name}_proj_dw_conv",
        )
        left = batch_norm(left, f"{name}_proj_dw_bn")
        left = conv(left, mid, 1, name=f"{name}_proj_conv")
        left = batch_norm(left, f"{name}_proj_bn")
        left = activation_layer(left, spec.activation, f"{name}_proj_act")
        right = _branch(x, mid, spec.filters - mid, spec, name)
    out = keras.layers.Concatenate(name=f"{name}_concat")([left, right])
    return ChannelShuffle(2, name=f"{name}_shuffle")(out)
