"""Squeeze-and-excitation.

Paper: Hu et al., "Squeeze-and-Excitation Networks", https://arxiv.org/abs/1709.01507.
Reference implementation: tensorflow/tpu models/official/efficientnet/
efficientnet_model.py `MBConvBlock._call_se` (@ 7dc921f8).

Deviations from reference: none. The reduce activation is fused into
`se_reduce` and the gate into `se_expand` (Conv2D `activation=`), which TFLite
fuses the same way; `se_gate` is the multiply.
"""

import keras

from tfeff.blocks.common import CONV_KERNEL_INITIALIZER


def squeeze_excite(
    x, reduced_filters, *, name, activation="swish", gate="sigmoid"
):
    """Emits `{name}_se_squeeze`, `_se_reduce`, `_se_expand`, `_se_gate`.

    Args:
        x: KerasTensor.
        reduced_filters: int. Bottleneck width (computed by the caller, whose
            rule differs by family).
        activation: str. Activation of the reduce conv.
        gate: str. `"sigmoid"` or `"hard_sigmoid"` (GhostNet).
    """
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
