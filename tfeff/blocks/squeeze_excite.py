"""Squeeze-and-excitation.

Paper: Hu et al., "Squeeze-and-Excitation Networks", https://arxiv.org/abs/1709.01507.
Reference implementation: tensorflow/tpu models/official/efficientnet/
efficientnet_model.py `MBConvBlock._call_se` (@ 7dc921f8).

Deviations from reference: none. The reduce activation is fused into
`se_reduce` and the gate into `se_expand` (Conv2D `activation=`), which TFLite
fuses the same way; `se_gate` is the multiply.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import CONV_KERNEL_INITIALIZER
from tfeff.blocks.parts import as_parts
from tfeff.blocks.parts import join_parts


def squeeze_excite(
    x, reduced_filters, *, name, activation="swish", gate="sigmoid"
):
    """Emits `{name}_se_squeeze`, `_se_reduce`, `_se_expand`, `_se_gate`.

    `x` may be a list of channel parts (see `common.group_parts`); they are
    joined first (`_se_squeeze_join`). Pooling each part and concatenating
    the pooled vectors would save that copy, but TFLite's int8 converter
    requires the concatenated MEAN outputs to share one scale, which the
    QAT graph does not give them ("same scale constraint" on
    CONCATENATION).

    Args:
        x: KerasTensor, or a list of channel parts.
        reduced_filters: int. Bottleneck width (computed by the caller, whose
            rule differs by family).
        activation: str. Activation of the reduce conv.
        gate: str. `"sigmoid"` or `"hard_sigmoid"` (GhostNet).
    """
    x = join_parts(as_parts(x), f"{name}_se_squeeze_join")
    channels = x.shape[-1]
    # "prelu" has weights; SE uses the block's activation only when weightless.
    reduce_activation = "relu" if activation == "prelu" else activation
    s = keras.layers.GlobalAveragePooling2D(
        keepdims=True, name=f"{name}_se_squeeze"
    )(x)
    s = keras.layers.Conv2D(
        reduced_filters,
        1,
        activation=reduce_activation,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_se_reduce",
    )(s)
    s = keras.layers.Conv2D(
        channels,
        1,
        activation=gate,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
        name=f"{name}_se_expand",
    )(s)
    return keras.layers.Multiply(name=f"{name}_se_gate")([x, s])
