"""Ghost module and Ghost bottleneck.

Paper: Han et al., "GhostNet: More Features from Cheap Operations",
https://arxiv.org/abs/1911.11907.
Reference implementation: huawei-noah/ghostnet ghostnet_pytorch/ghostnet.py
(@ bce85204); timm timm/models/ghostnet.py (@ aa4b5850) has the same cfgs.

Deviations from reference:
- Batch norm momentum is TF's 0.99 (PyTorch's 0.1 is Keras' 0.9); padding
  and epsilon are the network's numerics (GhostNet's are PyTorch's).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.ops import ChannelSlice
from tfeff.blocks.registry import register_block
from tfeff.blocks.squeeze_excite import squeeze_excite
from tfeff.spec.structure import ghost_primary_filters
from tfeff.spec.structure import ghost_se_filters

GHOST_RATIO = 2  # Channels per primary channel (paper s = 2).
GHOST_CHEAP_KERNEL = 3  # Kernel of the cheap depthwise op (paper d = 3).


def ghost_module(x, filters, *, name, activation="relu"):
    """Primary 1x1 conv, then a cheap depthwise conv makes the "ghosts".

    Emits `{name}_primary_{conv,bn,act}`, `{name}_cheap_{conv,bn,act}`,
    `{name}_concat` and, when `filters` is odd, `{name}_slice`.

    Args:
        activation: str. `"linear"` for the second module of a bottleneck.
    """
    primary = ghost_primary_filters(filters, GHOST_RATIO)
    x1 = conv(x, primary, 1, name=f"{name}_primary_conv")
    x1 = batch_norm(x1, f"{name}_primary_bn")
    x1 = activation_layer(x1, activation, f"{name}_primary_act")
    x2 = depthwise_conv(x1, GHOST_CHEAP_KERNEL, name=f"{name}_cheap_conv")
    x2 = batch_norm(x2, f"{name}_cheap_bn")
    x2 = activation_layer(x2, activation, f"{name}_cheap_act")
    out = keras.layers.Concatenate(name=f"{name}_concat")([x1, x2])
    if primary * GHOST_RATIO != filters:
        out = ChannelSlice(0, filters, name=f"{name}_slice")(out)
    return out


@register_block("ghost")
def ghost_bottleneck(x, spec, context):
    """Ghost → (strided dw) → (SE) → ghost (linear), plus a shortcut."""
    name = context.name
    inputs = x
    in_channels = x.shape[-1]
    x = ghost_module(
        x, spec.mid_filters, activation=spec.activation, name=f"{name}_ghost1"
    )
    if spec.strides > 1:
        x = depthwise_conv(
            x, spec.kernel_size, strides=spec.strides, name=f"{name}_dw_conv"
        )
        x = batch_norm(x, f"{name}_dw_bn")
    if spec.se_ratio > 0:
        x = squeeze_excite(
            x,
            ghost_se_filters(spec.mid_filters, spec.se_ratio),
            activation=spec.activation,
            gate="hard_sigmoid",
            name=name,
        )
    x = ghost_module(
        x, spec.filters, activation="linear", name=f"{name}_ghost2"
    )
    if spec.strides == 1 and in_channels == spec.filters:
        shortcut = inputs
    else:
        shortcut = depthwise_conv(
            inputs,
            spec.kernel_size,
            strides=spec.strides,
            name=f"{name}_shortcut_dw_conv",
        )
        shortcut = batch_norm(shortcut, f"{name}_shortcut_dw_bn")
        shortcut = conv(shortcut, spec.filters, 1, name=f"{name}_shortcut_conv")
        shortcut = batch_norm(shortcut, f"{name}_shortcut_bn")
    return keras.layers.Add(name=f"{name}_add")([x, shortcut])
