"""ESP module, strided ESP down-sampler, and ESPNet's levels.

Paper: Mehta et al., "ESPNet: Efficient Spatial Pyramid of Dilated
Convolutions for Semantic Segmentation", https://arxiv.org/abs/1803.06815.
Reference implementation: sacmehta/ESPNet train/Model.py
`DilatedParllelResidualBlockB`, `DownSamplerB`, `InputProjectionA`,
`ESPNet_Encoder` (@ afe71c38).

Deviations from reference:
- Batch norm momentum is TF's 0.99. Padding, epsilon and the image pools'
  counting of padding are the network's numerics (ESPNet's: symmetric,
  1e-3, padding counted, as the reference).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import pooled_image
from tfeff.blocks.registry import register_block
from tfeff.spec.structure import ESP_DILATIONS
from tfeff.spec.structure import esp_branch_filters


def esp_module(
    x, filters, *, name, strides=1, residual=True, activation="prelu"
):
    """Reduce → 5 dilated 3x3 branches → hierarchical sums → concat (+x) → BN-act.

    With `strides=2` it is the down-sampler: the reduce conv is 3x3/s2 and
    there is no residual.
    """
    wide, narrow = esp_branch_filters(filters)
    if strides == 1:
        reduced = conv(x, narrow, 1, name=f"{name}_reduce_conv")
    else:
        # The reference's C(nIn, n, 3, 2) pads 1 on every side: ESPNet's
        # numerics are symmetric (tfeff.models.families.espnet).
        reduced = conv(x, narrow, 3, strides=2, name=f"{name}_reduce_conv")
    branches = []
    for index, dilation in enumerate(ESP_DILATIONS, start=1):
        branches.append(
            keras.layers.Conv2D(
                wide if index == 1 else narrow,
                3,
                dilation_rate=dilation,
                padding="same",
                use_bias=False,
                name=f"{name}_branch{index}_conv",
            )(reduced)
        )
    # Hierarchical feature fusion over the dilated branches (not d1).
    fused = [branches[1]]
    for index in range(2, len(branches)):
        fused.append(
            keras.layers.Add(name=f"{name}_branch{index + 1}_add")(
                [fused[-1], branches[index]]
            )
        )
    y = keras.layers.Concatenate(name=f"{name}_concat")([branches[0]] + fused)
    if residual:
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    y = batch_norm(y, f"{name}_bn")
    return activation_layer(y, activation, f"{name}_act")


@register_block("imgcat")
def image_concat(x, spec, context):
    """Concat the image pooled to this resolution, then BN + activation."""
    name = context.name
    if context.image is None or context.output_stride is None:
        raise ValueError("imgcat needs the input image and the output stride.")
    pooled = pooled_image(context.image, context.output_stride, name)
    y = keras.layers.Concatenate(name=f"{name}_concat")([x, pooled])
    y = batch_norm(y, f"{name}_bn")
    return activation_layer(y, spec.activation, f"{name}_act")


@register_block("espstage")
def esp_stage(x, spec, context):
    """Down-sampler, `repeats` ESP modules, concat, BN + activation.

    Concat order follows the reference: with the image, [ESP output,
    down-sampler output, image] (ESPNet level 2); without, [down-sampler
    output, ESP output] (level 3).
    """
    name = context.name
    down = esp_module(
        x,
        spec.filters,
        strides=2,
        residual=False,
        activation=spec.activation,
        name=f"{name}_down",
    )
    y = down
    for index in range(1, spec.repeats + 1):
        y = esp_module(
            y,
            spec.filters,
            activation=spec.activation,
            name=f"{name}_esp{index}",
        )
    if spec.image:
        if context.image is None or context.output_stride is None:
            raise ValueError(
                "espstage_img needs the input image and the output stride."
            )
        parts = [
            y,
            down,
            pooled_image(context.image, context.output_stride, name),
        ]
    else:
        parts = [down, y]
    y = keras.layers.Concatenate(name=f"{name}_concat")(parts)
    y = batch_norm(y, f"{name}_bn")
    return activation_layer(y, spec.activation, f"{name}_act")
