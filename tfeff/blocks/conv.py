"""Convolution emission shared by the block builders: padding as the
network's numerics say, conv, depthwise (large kernels as fast pieces),
pools, batch norm, activations, drop path and the pooled input image.

Every weight lives in a built-in Keras layer (`Conv2D`, `DepthwiseConv2D`,
`BatchNormalization`, `PReLU`, `Dense`).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import contextlib
import contextvars

import keras

from tfeff.blocks.parts import as_parts
from tfeff.blocks.parts import group_parts
from tfeff.blocks.parts import join_parts
from tfeff.blocks.parts import part_name
from tfeff.spec.depthwise import MAX_FAST_DEPTHWISE_KERNEL
from tfeff.spec.depthwise import MAX_FAST_DEPTHWISE_TAPS  # noqa: F401
from tfeff.spec.depthwise import centred_strips
from tfeff.spec.depthwise import depthwise_tiles  # noqa: F401
from tfeff.spec.depthwise import live_pieces
from tfeff.spec.depthwise import padding_before
from tfeff.spec.depthwise import same_padding
from tfeff.spec.notation import TF_NUMERICS
from tfeff.spec.notation import NumericsSpec
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
# TF-reference batch norm momentum (tensorflow/tpu efficientnet_builder: 0.99,
# Keras's default). The epsilon is the network's (`NumericsSpec.bn_epsilon`).
BN_MOMENTUM = 0.99


# --- numerics -------------------------------------------------------------------
# Padding of strided layers, the batch-norm epsilon and whether average pools
# count padding are part of the architecture (`ArchSpec.numerics`). The
# builder emits a network inside `numerics_scope(spec.numerics)`; every
# helper below that pads, pools or normalises reads it, so a block builder
# never has to pass it along.

_NUMERICS = contextvars.ContextVar("tfeff_numerics", default=TF_NUMERICS)


@contextlib.contextmanager
def numerics_scope(numerics):
    """Emits layers with `numerics` (a `NumericsSpec`) inside the block."""
    if not isinstance(numerics, NumericsSpec):
        raise TypeError(
            "`numerics` must be a NumericsSpec. Received: "
            f"numerics={numerics!r}"
        )
    token = _NUMERICS.set(numerics)
    try:
        yield numerics
    finally:
        _NUMERICS.reset(token)


def current_numerics():
    """The `NumericsSpec` layers are being emitted with."""
    return _NUMERICS.get()


def symmetric_padding(kernel, dilation_rate=1):
    """PyTorch's `padding=(k - 1) // 2 * dilation`, on both sides."""
    half = (kernel - 1) // 2 * dilation_rate
    return half, half


def explicit_padding(x, kernel, strides, dilation_rate=1):
    """The ((top, bottom), (left, right)) padding a layer needs in place of
    "same", or None where "same" computes what the network's numerics ask.

    Stride 1 with an odd kernel pads alike in both conventions; so does
    every stride where the map's size makes "SAME" symmetric (odd sizes at
    stride 2). Unknown sizes under "symmetric" always pad explicitly.
    """
    numerics = current_numerics()
    kernels = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    sizes = tuple(x.shape[1:3])
    if strides == 1:
        return None
    if numerics.padding == "same":
        if dilation_rate == 1 or None in sizes:
            return None
        # A strided, dilated "same" conv runs through space-to-batch in
        # TensorFlow; explicit "SAME" padding and a "valid" conv compute
        # the same values without it.
        return tuple(
            same_padding(size, k, strides, dilation_rate)
            for size, k in zip(sizes, kernels)
        )
    pads = tuple(symmetric_padding(k, dilation_rate) for k in kernels)
    if None not in sizes and all(
        same_padding(size, k, strides, dilation_rate) == pad
        for size, k, pad in zip(sizes, kernels, pads)
    ):
        return None
    return pads


def activation_parts(parts, activation, name):
    """`activation_layer` on each channel part (`{name}_g<k>` when several)."""
    parts = as_parts(parts)
    if len(parts) == 1:
        return [activation_layer(parts[0], activation, name)]
    return [
        activation_layer(part, activation, f"{name}_g{k + 1}")
        for k, part in enumerate(parts)
    ]


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
        momentum=BN_MOMENTUM,
        epsilon=current_numerics().bn_epsilon,
        name=name,
    )(x)


def padded(x, pads, name):
    """`x` zero-padded by `pads` (`ZeroPadding2D` named `{name}_pad`), and
    the padding mode of the layer that reads it."""
    if pads is None:
        return x, "same"
    if any(pads[0] + pads[1]):
        x = keras.layers.ZeroPadding2D(pads, name=f"{name}_pad")(x)
    return x, "valid"


def max_pool(x, pool_size, strides, name):
    """Max pooling with the network's padding (padding never wins a max).

    PyTorch pads a max pool with -inf, which no zero padding can stand in
    for. At a stride of 1 an odd window pads symmetrically in both
    conventions, so the symmetric strided pool is the stride-1 pool
    subsampled (`{name}` then `{name}_subsample`, a 1x1 pool of that
    stride): exact, at the price of pooling every position.
    """
    if explicit_padding(x, pool_size, strides) is None:
        return keras.layers.MaxPooling2D(
            pool_size, strides=strides, padding="same", name=name
        )(x)
    return _subsampled_pool(
        keras.layers.MaxPooling2D, x, pool_size, strides, name
    )


def _subsampled_pool(pool_class, x, pool_size, strides, name):
    """The stride-1 "same" pool (symmetric for odd windows), then every
    `strides`-th position (a 1x1 max pool, `{name}_subsample`)."""
    x = pool_class(pool_size, strides=1, padding="same", name=name)(x)
    return keras.layers.MaxPooling2D(
        1, strides=strides, name=f"{name}_subsample"
    )(x)


def average_pool(x, pool_size, strides, name):
    """Average pooling with the network's padding and `count_include_pad`.

    Keras' "same" pools leave padding out of the mean (TensorFlow); with
    `count_include_pad` the input is zero-padded (`{name}_pad`) and pooled
    "valid", so the zeros count (PyTorch's default). Symmetric padding that
    leaves the padding out is the stride-1 pool subsampled, as in
    `max_pool`.
    """
    numerics = current_numerics()
    pads = explicit_padding(x, pool_size, strides)
    if numerics.count_include_pad:
        if pads is None:
            sizes = tuple(x.shape[1:3])
            if None in sizes:
                raise ValueError(
                    "Average pools that count TensorFlow 'SAME' padding need "
                    f"static spatial sizes; {name!r} has input shape "
                    f"{x.shape}. Build the model with a fixed input_shape."
                )
            pads = tuple(same_padding(n, pool_size, strides) for n in sizes)
        x, _ = padded(x, pads, name)
        return keras.layers.AveragePooling2D(
            pool_size, strides=strides, padding="valid", name=name
        )(x)
    if pads is None:
        return keras.layers.AveragePooling2D(
            pool_size, strides=strides, padding="same", name=name
        )(x)
    return _subsampled_pool(
        keras.layers.AveragePooling2D, x, pool_size, strides, name
    )


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
    keep_parts=False,
):
    """A convolution; `groups > 1` is emitted as split → convs → concat.

    Split-conv-concat instead of `Conv2D(groups=...)`: TF's CPU kernel and
    the EdgeTPU lack grouped convolution, and MixNet splits unevenly (the
    remainder goes to the first group), which `groups=` cannot express.

    With `batch_norm_name`, a batch norm follows the conv; for groups, one
    per group before the concat (`<name>_g<k>`), so that the TFLite
    converter folds each into its conv (after a concat it would stay a
    float MUL and ADD over the whole tensor). Same parameters either way.

    `x` may be a list of channel parts (see `repartition`): parts that
    already match the groups are used as they are. With `keep_parts`, a
    grouped conv returns its groups' outputs as a list instead of their
    concat, for the next grouped layer to take.
    """
    parts = as_parts(x)

    def conv2d(inputs, out, layer_name):
        inputs, padding = padded(
            inputs,
            explicit_padding(inputs, kernel_size, strides),
            layer_name,
        )
        return keras.layers.Conv2D(
            out,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=use_bias,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
            name=layer_name,
        )(inputs)

    if groups == 1:
        y = conv2d(join_parts(parts, f"{name}_join"), filters, name)
        y = _normalized(y, batch_norm_name)
        return [y] if keep_parts else y
    width = sum(int(p.shape[-1]) for p in parts)
    out_splits = split_channels(filters, groups)
    # Each group's input as one tensor (parts within a group are joined).
    inputs = [
        join_parts(group, f"{name}_join{index + 1}")
        for index, group in enumerate(
            group_parts(parts, split_channels(width, groups), name)
        )
    ]
    outputs = [
        _normalized(
            conv2d(part, out, f"{name}_g{index + 1}"),
            batch_norm_name,
            f"_g{index + 1}",
        )
        for index, (part, out) in enumerate(zip(inputs, out_splits))
    ]
    if keep_parts:
        return outputs
    return keras.layers.Concatenate(name=f"{name}_concat")(outputs)


def _tile_window(size, kernel, strides, first, length, top):
    """(pad before, pad after), (crop before, crop after) along one axis for
    the kernel rows `first .. first + length - 1`, so that a "valid" conv
    of the padded input, cropped, equals those rows' share of the whole
    kernel on the input padded by `top` before (the network's padding:
    (kernel - 1) // 2 symmetric, or TensorFlow "SAME"'s)."""
    out = -(-size // strides)
    if first <= top:
        pad_before, shift = top - first, 0
    else:  # Pad to the stride's phase, crop whole output rows.
        pad_before = (top - first) % strides
        shift = (first - top + pad_before) // strides
    pad_after = strides * (shift + out - 1) + length - size - pad_before
    crop_after = 0
    if pad_after < 0:
        produced = (size + pad_before - length) // strides + 1
        pad_after, crop_after = 0, produced - shift - out
    return (pad_before, pad_after), (shift, crop_after)


def _depthwise_layer(
    kernel_size, name, strides=1, dilation_rate=1, padding="same"
):
    return keras.layers.DepthwiseConv2D(
        kernel_size,
        strides=strides,
        dilation_rate=dilation_rate,
        padding=padding,
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
        name=name,
    )


def _tile_conv(
    x, kernel_size, strides, name, *, pad, crop_in=None, crop_out=None
):
    """pad -> (crop the input) -> "valid" conv -> (crop the output)."""
    if any(pad[0] + pad[1]):
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    if crop_in is not None:
        x = keras.layers.Cropping2D(crop_in, name=f"{name}_crop")(x)
    x = _depthwise_layer(kernel_size, name, strides, padding="valid")(x)
    if crop_out is not None and any(crop_out[0] + crop_out[1]):
        x = keras.layers.Cropping2D(crop_out, name=f"{name}_crop")(x)
    return x


def _depthwise(x, kernel, *, name, strides=1, dilation_rate=1):
    size = x.shape[1:3]
    same_unknown = None in size and current_numerics().padding == "same"
    if (
        kernel <= MAX_FAST_DEPTHWISE_KERNEL
        or dilation_rate != 1
        or (strides > 1 and same_unknown)
    ):
        # One layer. Strided tiles need the map's size under "SAME", whose
        # padding depends on it, so an unknown size takes the slow kernel.
        pads = explicit_padding(x, kernel, strides, dilation_rate)
        x, padding = padded(x, pads, name)
        return _depthwise_layer(
            kernel, name, strides, dilation_rate, padding=padding
        )(x)
    # A k x k depthwise conv as a sum of <= 25-tap pieces that partition its
    # kernel (tfeff.spec.depthwise): same parameters, same MACs, and TFLite
    # runs every piece on its fast path. On a map smaller than the kernel,
    # pieces that read only padding are left out (`live_pieces`): they add
    # zero, and their all-zero int8 output makes XNNPACK refuse the graph.
    padding = current_numerics().padding
    pieces = live_pieces(kernel, size, strides, padding)
    if strides == 1 and centred_strips(kernel):
        # Centred strips: each a "same" conv of the unpadded input. TF
        # cannot combine a stride with a dilation, so stride 2 takes tiles.
        outputs = [
            _depthwise_layer(
                (piece.rows, kernel),
                f"{name}_t{piece.first_row}_0",  # named like tiles
                dilation_rate=(piece.row_dilation, 1),
            )(x)
            for piece in pieces
        ]
        return _summed(outputs, name)
    # Tiles. Each pads as the whole kernel would under the network's
    # numerics: (k - 1) / 2 per side when symmetric, TensorFlow "SAME"'s
    # padding (one row and column less at the top and left on even maps)
    # otherwise; at stride 1 the two are equal.
    half = (kernel - 1) // 2
    tops = (half, half)
    if None not in size:
        tops = tuple(padding_before(n, kernel, strides, padding) for n in size)
    outputs = []
    for piece in pieces:
        r0, c0 = piece.first_row, piece.first_col
        tile = f"{name}_t{r0}_{c0}"  # Named by the tile's kernel offset.
        tile_size = (piece.rows, piece.cols)
        if None in size:
            # Unknown size (symmetric padding only, see above): crop the
            # tile's window out of a padded copy.
            window = (
                (r0, kernel - r0 - piece.rows),
                (c0, kernel - c0 - piece.cols),
            )
            y = _tile_conv(
                x, tile_size, strides, tile, pad=((half, half),) * 2,
                crop_in=window,
            )  # fmt: skip
        else:
            # Known size: each tile pads the input just enough for its own
            # window and crops its (strided, so smaller) output where the
            # window starts below the padding. Input crops are strided
            # slices as slow as the conv; XNNPACK fuses a lone pad.
            (row_pad, row_crop), (col_pad, col_crop) = (
                _tile_window(size[0], kernel, strides, r0, piece.rows, tops[0]),
                _tile_window(size[1], kernel, strides, c0, piece.cols, tops[1]),
            )
            y = _tile_conv(
                x, tile_size, strides, tile, pad=(row_pad, col_pad),
                crop_out=(row_crop, col_crop),
            )  # fmt: skip
        outputs.append(y)
    return _summed(outputs, name)


def _summed(outputs, name):
    """The pieces' sum (one piece, on a small map, is its own output)."""
    if len(outputs) == 1:
        return outputs[0]
    return keras.layers.Add(name=f"{name}_sum")(outputs)


def depthwise_conv(
    x,
    kernel_size,
    *,
    name,
    strides=1,
    dilation_rate=1,
    batch_norm_name=None,
    keep_parts=False,
):
    """Depthwise conv; a kernel list makes a MixConv (split → dw convs → concat).

    Kernels above 5x5 are emitted as a sum of <= 25-tap pieces (centred
    strips at stride 1, self-padded tiles at stride 2; see `_depthwise`),
    which TFLite runs several times faster.

    Args:
        kernel_size: int or tuple of int.
        batch_norm_name: str or None. A batch norm after the conv; for a
            MixConv one per kernel group before the concat (see `conv`).
        keep_parts: bool. Return the groups' outputs as a list of channel
            parts instead of their concat (see `conv`). `x` may be a list of
            parts; a single kernel then runs on each part (`_g<k>` layers).
    """
    kernels = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,)
    parts = as_parts(x)
    if len(kernels) == 1 and len(parts) > 1:
        # Depthwise is per channel: one conv per part, no copies.
        kernels = kernels * len(parts)
        splits = [int(p.shape[-1]) for p in parts]
    elif len(kernels) > 1:
        splits = split_channels(sum(p.shape[-1] for p in parts), len(kernels))
    if len(kernels) == 1:
        x = parts[0]
        y = _depthwise(
            x,
            kernels[0],
            strides=strides,
            dilation_rate=dilation_rate,
            name=name,
        )
        y = _normalized(y, batch_norm_name)
        return [y] if keep_parts else y
    # Depthwise is per channel: a kernel group made of several parts runs
    # one conv per part (`_g<k>p<j>`) rather than joining them.
    outputs = []
    for g, (group, kernel) in enumerate(
        zip(group_parts(parts, splits, name), kernels)
    ):
        for j, part in enumerate(group):
            layer_name = part_name(name, g, j, len(group))
            y = _depthwise(
                part,
                kernel,
                strides=strides,
                dilation_rate=dilation_rate,
                name=layer_name,
            )
            outputs.append(
                _normalized(y, batch_norm_name, layer_name[len(name) :])
            )
    if keep_parts:
        return outputs
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
        image = average_pool(image, 3, 2, f"{name}_reinf_pool{level}")
    return image


def drop_path(x, rate, name):
    """Stochastic depth: drops the whole residual branch per sample."""
    if rate <= 0:
        return x
    return keras.layers.Dropout(rate, noise_shape=(None, 1, 1, 1), name=name)(x)
