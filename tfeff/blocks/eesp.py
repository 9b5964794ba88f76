"""EESP and strided EESP (ESPNetv2).

Paper: Mehta et al., "ESPNetv2: A Light-weight, Power Efficient, and General
Purpose Convolutional Neural Network", https://arxiv.org/abs/1811.11431.
Reference implementation: sacmehta/EdgeNets nn_layers/eesp.py `EESP`,
`DownSampler` (@ 2b232d3f).

Deviations from reference:
- Batch norm momentum is TF's 0.99. Padding, batch-norm epsilon and whether
  the average pools count padding are the network's numerics
  (`ArchSpec.numerics`; ESPNetv2's are PyTorch's, which counts it).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.blocks.conv import activation_layer
from tfeff.blocks.conv import average_pool
from tfeff.blocks.conv import batch_norm
from tfeff.blocks.conv import conv
from tfeff.blocks.conv import current_numerics
from tfeff.blocks.conv import pooled_image
from tfeff.blocks.conv import same_padding
from tfeff.blocks.conv import symmetric_padding
from tfeff.blocks.registry import register_block
from tfeff.spec.structure import eesp_branch_filters
from tfeff.spec.structure import eesp_dilations
from tfeff.spec.structure import eespdown_inner_filters


def _eesp_core(
    x, filters, *, strides, branches, receptive_field, activation, name
):
    """Reduce → K dilated dw branches with HFF → concat → BN-act → merge 1x1."""
    width = eesp_branch_filters(filters, branches)
    x = conv(x, width, 1, groups=branches, name=f"{name}_reduce_conv")
    x = batch_norm(x, f"{name}_reduce_bn")
    x = activation_layer(x, activation, f"{name}_reduce_act")
    outputs = []
    for index, dilation in enumerate(eesp_dilations(branches, receptive_field)):
        branch = f"{name}_branch{index + 1}"
        # The reference's CDilated pads `dilation` on every side, which at
        # stride 1 is "same" in both conventions; a strided branch pads as
        # the network's numerics say. Explicit padding and a "valid" conv:
        # TFLite runs a dilated "same" conv through space-to-batch.
        sizes = tuple(x.shape[1:3])
        if strides == 1 or current_numerics().padding == "symmetric":
            pads = (symmetric_padding(3, dilation),) * 2
        elif None not in sizes:
            pads = tuple(same_padding(n, 3, strides, dilation) for n in sizes)
        else:
            pads = None  # "SAME" of a size known only when run.
        y, padding = x, "same"
        if pads is not None:
            y = keras.layers.ZeroPadding2D(pads, name=f"{branch}_pad")(x)
            padding = "valid"
        y = keras.layers.DepthwiseConv2D(
            3,
            strides=strides,
            dilation_rate=dilation,
            padding=padding,
            use_bias=False,
            name=f"{branch}_dw_conv",
        )(y)
        if outputs:
            # Hierarchical feature fusion: each branch adds the previous sum,
            # which removes the gridding artefacts of dilated convs.
            y = keras.layers.Add(name=f"{branch}_add")([y, outputs[-1]])
        outputs.append(y)
    x = keras.layers.Concatenate(name=f"{name}_concat")(outputs)
    x = batch_norm(x, f"{name}_concat_bn")
    x = activation_layer(x, activation, f"{name}_concat_act")
    x = conv(x, filters, 1, groups=branches, name=f"{name}_merge_conv")
    return batch_norm(x, f"{name}_merge_bn")


@register_block("eesp")
def eesp(x, spec, context):
    """EESP block with its residual and output activation."""
    name = context.name
    y = _eesp_core(
        x,
        spec.filters,
        strides=1,
        branches=spec.branches,
        receptive_field=spec.receptive_field,
        activation=spec.activation,
        name=name,
    )
    y = keras.layers.Add(name=f"{name}_add")([y, x])
    return activation_layer(y, spec.activation, f"{name}_out_act")


@register_block("eespdown")
def strided_eesp(x, spec, context):
    """Strided EESP: avg-pool(x) ‖ EESP(x, stride 2), plus the image path.

    With `spec.reinforce` and `context.image`, the image is
    average-pooled log2(stride) times to this resolution and added through a
    3x3 and a 1x1 conv (input reinforcement).
    """
    name = context.name
    in_channels = x.shape[-1]
    pooled = average_pool(x, 3, 2, f"{name}_avg_pool")
    inner = _eesp_core(
        x,
        eespdown_inner_filters(in_channels, spec.filters),
        strides=2,
        branches=spec.branches,
        receptive_field=spec.receptive_field,
        activation=spec.activation,
        name=name,
    )
    y = keras.layers.Concatenate(name=f"{name}_pool_concat")([pooled, inner])
    if spec.reinforce and context.image is not None:
        reinf = pooled_image(context.image, context.image_stride(y), name)
        channels = context.image.shape[-1]
        reinf = conv(reinf, channels, 3, name=f"{name}_reinf_conv")
        reinf = batch_norm(reinf, f"{name}_reinf_bn")
        reinf = activation_layer(reinf, spec.activation, f"{name}_reinf_act")
        reinf = conv(reinf, spec.filters, 1, name=f"{name}_reinf_project_conv")
        reinf = batch_norm(reinf, f"{name}_reinf_project_bn")
        y = keras.layers.Add(name=f"{name}_reinf_add")([y, reinf])
    return activation_layer(y, spec.activation, f"{name}_out_act")
