"""Conv → batch norm → activation: stems, heads and plain stages.

Paper: none (the standard unit). Reference implementation: keras.applications
efficientnet.py stem/top (keras-team/keras @ 3422977a).

Deviations from reference:
- Under TensorFlow numerics, `padding="same"` instead of
  `ZeroPadding2D(correct_pad) + "valid"`; both pad
  TF-style (less before than after on even inputs), so outputs are equal.
"""

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.registry import register_block


@register_block("convbnact")
def conv_bn_act(x, spec, context):
    """Emits `{name}_conv`, `{name}_bn`, `{name}_act`."""
    name = context.name
    if spec.depthwise:
        x = depthwise_conv(
            x, spec.kernel_size, strides=spec.strides, name=f"{name}_conv"
        )
    else:
        x = conv(
            x,
            spec.filters,
            spec.kernel_size,
            strides=spec.strides,
            groups=spec.groups,
            name=f"{name}_conv",
        )
    x = batch_norm(x, f"{name}_bn")
    return activation_layer(x, spec.activation, f"{name}_act")
