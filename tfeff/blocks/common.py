"""Pieces shared by the block builders: conv, BN, activation, drop path.

Every weight lives in a built-in Keras layer (`Conv2D`, `DepthwiseConv2D`,
`BatchNormalization`, `PReLU`, `Dense`).
"""

import re

import keras

from tfeff.layers.helpers import ChannelSplit
from tfeff.spec.structure import split_channels

# keras.applications' EfficientNet initialisers.
CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {
        "scale": 2.0,
        "mode": "fan_out",
        "distribution": "truncated_normal",
    },
}
DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {
        "scale": 1.0 / 3.0,
        "mode": "fan_out",
        "distribution": "uniform",
    },
}
# TF-reference batch norm (tensorflow/tpu efficientnet_builder: momentum 0.99,
# epsilon 1e-3), which are also Keras's defaults.
BN_MOMENTUM = 0.99
BN_EPSILON = 1e-3

# Every layer a block emits is named f"{prefix}_{part}". The parts are an API:
# weight porting, QAT selection and pyramid taps rely on them.
LAYER_PARTS = (
    "conv",
    "bn",
    "act",
    "pad",
    "rescaling",
    "normalization",
    "pool",
    "dropout",
    "expand_conv",
    "expand_bn",
    "expand_act",
    "dw_conv",
    "dw_bn",
    "dw_act",
    "dw_pad",
    "se_squeeze",
    "se_reduce",
    "se_expand",
    "se_gate",
    "project_conv",
    "project_bn",
    "primary_conv",
    "primary_bn",
    "primary_act",
    "cheap_conv",
    "cheap_bn",
    "cheap_act",
    "concat",
    "slice",
    "shortcut_dw_conv",
    "shortcut_dw_bn",
    "shortcut_conv",
    "shortcut_bn",
    "reduce_conv",
    "reduce_bn",
    "reduce_act",
    "concat_bn",
    "concat_act",
    "merge_conv",
    "merge_bn",
    "pool_concat",
    "avg_pool",
    "reinf_pool",
    "reinf_conv",
    "reinf_bn",
    "reinf_act",
    "reinf_project_conv",
    "reinf_project_bn",
    "reinf_add",
    "drop_path",
    "add",
    "out_act",
    # ShuffleNetV2 and IGCV3.
    "split",
    "shuffle",
    "expand_shuffle",
    "pw1_conv",
    "pw1_bn",
    "pw1_act",
    "pw2_conv",
    "pw2_bn",
    "pw2_act",
    "proj_dw_conv",
    "proj_dw_bn",
    "proj_conv",
    "proj_bn",
    "proj_act",
    # ESPNet.
    "reduce_pad",
    # DiCENet.
    "channel_conv",
    "channel_bn",
    "channel_act",
    "channel_fuse",
    "height_permute",
    "height_conv",
    "height_restore",
    "height_bn",
    "height_act",
    "height_fuse",
    "width_permute",
    "width_conv",
    "width_restore",
    "width_bn",
    "width_act",
    "width_fuse",
    "fuse_add",
    "fuse_bn",
    "fuse_act",
    "gate_pool",
    "gate_reduce",
    "gate_expand",
    "gate",
    "left_dw_conv",
    "left_dw_bn",
    "left_dw_act",
    "left_conv",
    "left_bn",
    "left_act",
    "right_conv",
    "right_bn",
    "right_act",
    # Dense layers after pooling (`fc` tokens).
    "dense",
)
# Prefixes: stem, head, head2.., stage<i>_block<j>, optionally followed by a
# sub-module (ghost1_, ghost2_, or an EESP branch<k>_); parts may end
# in _g<k> (group k of a split conv), _split or _concat.
LAYER_NAME_PATTERN = re.compile(
    r"^predictions$|"
    r"^(stem|head\d*|top\d*|stage\d+_block\d+)"
    r"(_ghost[12]|_down|_esp\d+|_dice)?(_branch\d+)?"
    r"_(" + "|".join(sorted(LAYER_PARTS, key=len, reverse=True)) + r")"
    r"(\d+)?(_g\d+|_split|_concat)?(_pad|_sum|_t\d+_\d+(_crop)?)?$"
)


def activation_layer(x, activation, name):
    """Applies `activation` ("swish", "relu6", "prelu", ...) as a layer."""
    if activation == "linear":
        return x
    if activation == "prelu":
        # Per-channel slopes, as PyTorch's nn.PReLU(num_channels).
        return keras.layers.PReLU(shared_axes=[1, 2], name=name)(x)
    return keras.layers.Activation(activation, name=name)(x)


def batch_norm(x, name):
    return keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
    )(x)


def _normalized(x, batch_norm_name, suffix=""):
    if batch_norm_name is None:
        return x
    return batch_norm(x, f"{batch_norm_name}{suffix}")


def conv(
    x,
    filters,
    kernel_size,
    *,
    name,
    strides=1,
    groups=1,
    use_bias=False,
    batch_norm_name=None,
):
    """A convolution; `groups > 1` is emitted as split → convs → concat.

    Split-conv-concat instead of `Conv2D(groups=...)`: TF's CPU kernel and
    the EdgeTPU lack grouped convolution, and MixNet splits unevenly (the
    remainder goes to the first group), which `groups=` cannot express.

    With `batch_norm_name`, a batch norm follows the conv; for groups, one
    per group before the concat (`<name>_g<k>`), so that the TFLite
    converter folds each into its conv (after a concat it would stay a
    float MUL and ADD over the whole tensor). Same parameters either way.
    """
    if groups == 1:
        y = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=name,
        )(x)
        return _normalized(y, batch_norm_name)
    in_splits = split_channels(x.shape[-1], groups)
    out_splits = split_channels(filters, groups)
    parts = ChannelSplit(in_splits, name=f"{name}_split")(x)
    outputs = [
        keras.layers.Conv2D(
            out,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=f"{name}_g{index + 1}",
        )(part)
        for index, (part, out) in enumerate(zip(parts, out_splits))
    ]
    outputs = [
        _normalized(y, batch_norm_name, f"_g{index + 1}")
        for index, y in enumerate(outputs)
    ]
    return keras.layers.Concatenate(name=f"{name}_concat")(outputs)


# TFLite's fast depthwise kernels (XNNPACK) take up to 25 taps (5x5, 3x7,
# 2x9, ...); larger kernels fall to a generic path about 13x slower per MAC
# (benchmarks/RESULTS.md).
MAX_FAST_DEPTHWISE_TAPS = 25
MAX_FAST_DEPTHWISE_KERNEL = 5


def _cuts(size, step):
    return [(start, min(size, start + step)) for start in range(0, size, step)]


def depthwise_tiles(kernel):
    """Rectangles (rows, cols) partitioning a k x k kernel into fast tiles.

    Either full-width row strips of <= 25 taps or a grid of <= 5x5 tiles,
    whichever needs fewer (k=7: 3 strips; k=9: 4 tiles; k=11: 6 strips).
    """
    strips = [
        (rows, (0, kernel))
        for rows in _cuts(kernel, MAX_FAST_DEPTHWISE_TAPS // kernel)
    ]
    grid = [
        (rows, cols)
        for rows in _cuts(kernel, MAX_FAST_DEPTHWISE_KERNEL)
        for cols in _cuts(kernel, MAX_FAST_DEPTHWISE_KERNEL)
    ]
    return strips if len(strips) <= len(grid) else grid


def _depthwise(x, kernel, *, name, strides=1, dilation_rate=1):
    if kernel <= MAX_FAST_DEPTHWISE_KERNEL or dilation_rate != 1:
        return keras.layers.DepthwiseConv2D(
            kernel,
            strides=strides,
            dilation_rate=dilation_rate,
            padding="same",
            use_bias=False,
            depthwise_initializer=CONV_KERNEL_INITIALIZER,
            name=name,
        )(x)
    # A k x k depthwise conv as a sum of <= 5x5 tiles that partition its
    # kernel: same parameters, same MACs, and TFLite runs every tile on its
    # fast path. Each tile convolves a crop of the once-padded input. The
    # padding is symmetric ((k - 1) / 2 per side) so the structure does not
    # depend on the input's parity; at stride 1 that equals "same".
    pad = (kernel - 1) // 2
    padded = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    outputs = []
    for (r0, r1), (c0, c1) in depthwise_tiles(kernel):
        tile = f"{name}_t{r0}_{c0}"  # Named by the tile's kernel offset.
        crop = keras.layers.Cropping2D(
            ((r0, kernel - r1), (c0, kernel - c1)), name=f"{tile}_crop"
        )(padded)
        outputs.append(
            keras.layers.DepthwiseConv2D(
                (r1 - r0, c1 - c0),
                strides=strides,
                padding="valid",
                use_bias=False,
                depthwise_initializer=CONV_KERNEL_INITIALIZER,
                name=tile,
            )(crop)
        )
    return keras.layers.Add(name=f"{name}_sum")(outputs)


def depthwise_conv(
    x,
    kernel_size,
    *,
    name,
    strides=1,
    dilation_rate=1,
    batch_norm_name=None,
):
    """Depthwise conv; a kernel list makes a MixConv (split → dw convs → concat).

    Kernels above 5x5 are emitted as a sum of <= 5x5 tiles (see
    `_depthwise`), which TFLite runs several times faster.

    Args:
        kernel_size: int or tuple of int.
        batch_norm_name: str or None. A batch norm after the conv; for a
            MixConv one per kernel group before the concat (see `conv`).
    """
    kernels = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,)
    if len(kernels) == 1:
        y = _depthwise(
            x,
            kernels[0],
            strides=strides,
            dilation_rate=dilation_rate,
            name=name,
        )
        return _normalized(y, batch_norm_name)
    splits = split_channels(x.shape[-1], len(kernels))
    parts = ChannelSplit(splits, name=f"{name}_split")(x)
    outputs = [
        _depthwise(
            part,
            kernel,
            strides=strides,
            dilation_rate=dilation_rate,
            name=f"{name}_g{index + 1}",
        )
        for index, (part, kernel) in enumerate(zip(parts, kernels))
    ]
    outputs = [
        _normalized(y, batch_norm_name, f"_g{index + 1}")
        for index, y in enumerate(outputs)
    ]
    return keras.layers.Concatenate(name=f"{name}_concat")(outputs)


def pooled_image(image, output_stride, name):
    """The input image average-pooled (3x3, stride 2) log2(stride) times.

    ESPNet and ESPNetv2 feed the image to later stages this way; the
    reference pools "until the width matches", which with "same" padding is
    log2(stride) halvings.
    """
    halvings = 0
    while 2**halvings < output_stride:
        halvings += 1
    for level in range(1, halvings + 1):
        image = keras.layers.AveragePooling2D(
            3, strides=2, padding="same", name=f"{name}_reinf_pool{level}"
        )(image)
    return image


def drop_path(x, rate, name):
    """Stochastic depth: drops the whole residual branch per sample."""
    if rate <= 0:
        return x
    return keras.layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=name)(x)
