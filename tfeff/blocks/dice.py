"""DICE unit (dimension-wise convolutions), strided DICE and shuffle-DICE.

Paper: Mehta et al., "DiCENet: Dimension-wise Convolutions for Efficient
Networks", https://arxiv.org/abs/1906.03516.
Reference implementation: sacmehta/EdgeNets nn_layers/dice.py `DICE`,
`StridedDICE`; model/classification/dicenet.py `ShuffleDICEBlock`
(@ 5067df1f).

Deviations from reference:
- Local fusion (BN + PReLU on the 3C concat, shuffle(3), grouped 1x1 3C→C
  with C groups) is written in its equivalent per-branch form: BN + PReLU on
  each of the three C-channel responses, a 1x1 depthwise scale each, and
  their sum. Channel c of group c in the reference takes exactly the three
  responses of channel c, so parameters, MACs and outputs are the same
  (weight [c, j] of the grouped conv is branch j's scale of channel c), and
  no C-way split reaches TFLite.
- DICE's height- and width-wise convs are built for the input size the
  model is built at; the reference builds them for a configured size and
  resizes other inputs. DiCENet therefore needs a static input size.
- Strided convs and pools pad as the network's numerics say (DiCENet's are
  PyTorch's: symmetric, epsilon 1e-5, average pools counting padding).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import CONV_KERNEL_INITIALIZER
from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import average_pool
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.ops import ChannelShuffle
from tfeff.blocks.ops import ChannelSplit
from tfeff.blocks.registry import register_block
from tfeff.spec.structure import shuffle_dice_split

# (Permute order, restoring order) for convolving along height and width:
# channels-last (H, W, C) → (C, W, H) puts H in the channel axis, and
# (H, C, W) puts W there, as the reference's transposes do.
_DIMENSIONS = {"height": (3, 2, 1), "width": (1, 3, 2)}


def dice_unit(x, *, name, activation="prelu"):
    """Depth-, height- and width-wise 3x3 convs, fused locally and globally."""
    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    if height is None or width is None:
        raise ValueError(
            "A DICE unit convolves along height and width, so it is built for "
            f"one input size; build the model with a fixed input_shape. "
            f"Received a feature map of shape {x.shape}"
        )
    responses = {"channel": depthwise_conv(x, 3, name=f"{name}_channel_conv")}
    for dim, order in _DIMENSIONS.items():
        y = keras.layers.Permute(order, name=f"{name}_{dim}_permute")(x)
        y = depthwise_conv(y, 3, name=f"{name}_{dim}_conv")
        responses[dim] = keras.layers.Permute(
            order, name=f"{name}_{dim}_restore"
        )(y)
    fused = []
    for dim, y in responses.items():
        y = batch_norm(y, f"{name}_{dim}_bn")
        y = activation_layer(y, activation, f"{name}_{dim}_act")
        fused.append(depthwise_conv(y, 1, name=f"{name}_{dim}_fuse"))
    y = keras.layers.Add(name=f"{name}_fuse_add")(fused)
    y = batch_norm(y, f"{name}_fuse_bn")
    y = activation_layer(y, activation, f"{name}_fuse_act")
    # Global fusion: per-channel weights from pooled context.
    gate = keras.layers.GlobalAveragePooling2D(
        keepdims=True, name=f"{name}_gate_pool"
    )(y)
    gate = keras.layers.Conv2D(
        channels // 4,
        1,
        use_bias=False,
        activation="relu",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_gate_reduce",
    )(gate)
    gate = keras.layers.Conv2D(
        channels,
        1,
        use_bias=False,
        activation="sigmoid",
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_gate_expand",
    )(gate)
    # proj: CBR 3x3 with gcd(C, C) = C groups, i.e. depthwise.
    proj = depthwise_conv(y, 3, name=f"{name}_proj_conv")
    proj = batch_norm(proj, f"{name}_proj_bn")
    proj = activation_layer(proj, activation, f"{name}_proj_act")
    return keras.layers.Multiply(name=f"{name}_gate")([proj, gate])


def _cbr_1x1(x, filters, activation, name):
    x = conv(x, filters, 1, name=f"{name}_conv")
    x = batch_norm(x, f"{name}_bn")
    return activation_layer(x, activation, f"{name}_act")


@register_block("dicedown")
def strided_dice(x, spec, context):
    """dw 3x3/s2 CBR + 1x1 CBR ‖ avg-pool + DICE + 1x1 CBR; concat, shuffle."""
    name = context.name
    channels = x.shape[-1]
    left = depthwise_conv(x, 3, strides=2, name=f"{name}_left_dw_conv")
    left = batch_norm(left, f"{name}_left_dw_bn")
    left = activation_layer(left, spec.activation, f"{name}_left_dw_act")
    left = _cbr_1x1(left, channels, spec.activation, f"{name}_left")
    right = average_pool(x, 3, 2, f"{name}_avg_pool")
    right = dice_unit(right, activation=spec.activation, name=f"{name}_dice")
    right = _cbr_1x1(right, channels, spec.activation, f"{name}_right")
    y = keras.layers.Concatenate(name=f"{name}_concat")([left, right])
    return ChannelShuffle(2, name=f"{name}_shuffle")(y)


@register_block("dice")
def shuffle_dice(x, spec, context):
    """Half the channels pass; the rest go 1x1 CBR → DICE; concat, shuffle."""
    name = context.name
    left_width, right_in, right_out = shuffle_dice_split(
        x.shape[-1], spec.filters
    )
    left, right = ChannelSplit([left_width, right_in], name=f"{name}_split")(x)
    right = _cbr_1x1(right, right_out, spec.activation, f"{name}_reduce")
    right = dice_unit(right, activation=spec.activation, name=f"{name}_dice")
    y = keras.layers.Concatenate(name=f"{name}_concat")([left, right])
    return ChannelShuffle(2, name=f"{name}_shuffle")(y)
