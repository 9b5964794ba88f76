"""Weightless helper layers (channel split and slice).

They hold no weights, so QAT, TFLite and EdgeTPU conversion see only built-in
weighted layers. Each `__init__` argument is a public attribute and appears in
`get_config()`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


@keras.saving.register_keras_serializable(package="tfeff")
class ChannelSplit(keras.layers.Layer):
    """Splits the last axis into consecutive chunks of the given sizes.

    Args:
        sizes: list of int. Chunk widths; they must add up to the input width.

    Call arguments:
        inputs: tensor of shape `(..., sum(sizes))`.

    Returns:
        list of tensors, one per size.

    Example:

    >>> split = tfeff.layers.ChannelSplit([2, 1])
    >>> [tuple(t.shape) for t in split(np.zeros((1, 4, 4, 3)))]
    [(1, 4, 4, 2), (1, 4, 4, 1)]
    """

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        sizes = [int(size) for size in sizes]
        if not sizes or any(size < 1 for size in sizes):
            raise ValueError(
                f"`sizes` must be positive ints. Received: sizes={sizes}"
            )
        self.sizes = sizes

    def call(self, inputs):
        # Equal chunks become TFLite's SPLIT and unequal ones STRIDED_SLICEs
        # (strides 1). Both map to the EdgeTPU and XNNPACK; SPLIT_V, what a
        # split at arbitrary boundaries converts to, maps to neither.
        if len(set(self.sizes)) == 1:
            return keras.ops.split(inputs, len(self.sizes), axis=-1)
        outputs = []
        start = 0
        for size in self.sizes:
            outputs.append(inputs[..., start : start + size])
            start += size
        return outputs

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != sum(self.sizes):
            raise ValueError(
                f"ChannelSplit sizes {self.sizes} add up to {sum(self.sizes)}, "
                f"but the input has {input_shape[-1]} channels."
            )
        return [tuple(input_shape[:-1]) + (size,) for size in self.sizes]

    def get_config(self):
        config = super().get_config()
        config.update({"sizes": list(self.sizes)})
        return config


@keras.saving.register_keras_serializable(package="tfeff")
class ChannelSlice(keras.layers.Layer):
    """Keeps channels `[start, stop)` of the last axis, every `step`-th.

    Args:
        start: int. First channel kept.
        stop: int. One past the last channel kept.
        step: int >= 1. Keeps `start, start + step, ...` (a strided slice,
            one TFLite STRIDED_SLICE either way).

    Example:

    >>> tuple(tfeff.layers.ChannelSlice(0, 3)(np.zeros((1, 2, 2, 4))).shape)
    (1, 2, 2, 3)
    """

    def __init__(self, start, stop, step=1, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= int(start) < int(stop):
            raise ValueError(
                f"Need 0 <= start < stop. Received: start={start}, stop={stop}"
            )
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(
                f"`step` must be an int >= 1. Received: step={step!r}"
            )
        self.start = int(start)
        self.stop = int(stop)
        self.step = step

    def call(self, inputs):
        return inputs[..., self.start : self.stop : self.step]

    def compute_output_shape(self, input_shape):
        kept = len(range(self.start, self.stop, self.step))
        return tuple(input_shape[:-1]) + (kept,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"start": self.start, "stop": self.stop, "step": self.step}
        )
        return config


@keras.saving.register_keras_serializable(package="tfeff")
class ChannelShuffle(keras.layers.Layer):
    """Interleaves channels across `groups` (ShuffleNet's channel shuffle).

    Channel `g * (C / groups) + i` moves to position `i * groups + g`.

    Args:
        groups: int. Must divide the channels.

    Example:

    >>> x = np.arange(4, dtype="float32").reshape(1, 1, 1, 4)
    >>> np.asarray(tfeff.layers.ChannelShuffle(2)(x)).ravel().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(groups, bool)
            or not isinstance(groups, int)
            or groups < 1
        ):
            raise ValueError(
                f"`groups` must be a positive int. Received: groups={groups!r}"
            )
        self.groups = groups

    def call(self, inputs):
        shape = keras.ops.shape(inputs)
        channels = inputs.shape[-1]
        # Rank 4 throughout, (batch, H*W, groups, C/groups), so that the
        # EdgeTPU (4-D tensors at most) maps the reshape and transpose.
        x = keras.ops.reshape(
            inputs,
            (
                shape[0],
                shape[1] * shape[2],
                self.groups,
                channels // self.groups,
            ),
        )
        x = keras.ops.transpose(x, (0, 1, 3, 2))
        return keras.ops.reshape(x, (shape[0], shape[1], shape[2], channels))

    def compute_output_shape(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % self.groups:
            raise ValueError(
                f"ChannelShuffle(groups={self.groups}) needs channels divisible "
                f"by groups; the input has {input_shape[-1]}."
            )
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups})
        return config


@keras.saving.register_keras_serializable(package="tfeff")
class BilinearResize(keras.layers.Layer):
    """Resizes feature maps to `(height, width)` bilinearly (half-pixel
    centres; TFLite RESIZE_BILINEAR).

    `keras.layers.Resizing` is a preprocessing layer: inside a model called
    directly (`model(x)`) it leaves the batch norms after it in training
    mode (Keras 3.15), so models use this layer instead.

    Args:
        height, width: ints >= 1.

    Example:

    >>> tuple(tfeff.layers.BilinearResize(4, 6)(np.zeros((1, 2, 3, 5))).shape)
    (1, 4, 6, 5)
    """

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        for key, value in (("height", height), ("width", width)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or value < 1
            ):
                raise ValueError(
                    f"`{key}` must be an int >= 1. Received: {key}={value!r}"
                )
        self.height = height
        self.width = width

    def call(self, inputs):
        return keras.ops.image.resize(
            inputs, (self.height, self.width), interpolation="bilinear"
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config
