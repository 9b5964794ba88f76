"""Fake-quant layers for quantization-aware training.

Every op here lowers, on the TensorFlow backend, to
`tf.quantization.fake_quant_with_min_max_vars[_per_channel]` through
`keras.quantizers.fake_quant_with_min_max_vars`; the TFLite converter reads
those ops as training-time quantization and emits int8 kernels with exactly
these ranges, without a representative data set
(../shared/reference/deployment.md §1.5-1.6).

- `ActivationQuantizer`: per-tensor, asymmetric 8-bit, range tracked as an
  exponential moving average of batch min/max during training (or set by
  calibration), like tfmot's MovingAverageQuantizer.
- `FoldedConv`: a Conv2D, DepthwiseConv2D or Dense with the batch norm that
  follows it folded in (kernel * gamma / sqrt(var + eps), bias = beta -
  mean * gamma / sqrt(var + eps)), the way the converter folds it, and the
  folded kernel fake-quantized per output channel, symmetric, narrow range
  ([-127, 127], zero point 0: TFLite's int8 weight scheme); Dense kernels
  per tensor, as TFLite's FULLY_CONNECTED holds them.

The folded layer keeps the float model's variables (kernel, gamma, beta
trainable; moving statistics frozen), so a QAT model has the same trainable
parameter count as its float model and its weights can be copied back.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras
from keras import ops

# tfmot's default EMA decay for activation ranges.
RANGE_EMA_DECAY = 0.999
# Before any data has been seen the range is tfmot's default [-6, 6].
DEFAULT_RANGE = 6.0


def _fake_quant(x, low, high, *, narrow_range=False, axis=None):
    return keras.quantizers.fake_quant_with_min_max_vars(
        x, low, high, num_bits=8, narrow_range=narrow_range, axis=axis
    )


def _never_splat(bias):
    """`bias` with its odd channels one or two float32 ulps larger.

    The TFLite converter quantizes a constant bias whose channels are all
    equal (a "splat": the hard sigmoid's +3 on a zero bias, a constant prior
    bias) with the first channel's scale, while per-channel weights give
    every channel its own: channel c then adds 3 * scale_0 / scale_c instead
    of 3, in the int8 file only. Making the channels differ keeps the
    constant dense. b * (1 + 2**-23) is b plus 1-2 ulps for every normal b
    (a relative change of 1.2e-7, far below an int8 step), and 0 stays 0,
    which every scale quantizes exactly.
    """
    channels = bias.shape[-1]
    odd = ops.cast(ops.arange(channels) % 2, bias.dtype)
    return bias * (1.0 + odd * 2.0**-23)


@keras.saving.register_keras_serializable(package="tfeff")
class ActivationQuantizer(keras.layers.Layer):
    """Per-tensor 8-bit fake quantization with a tracked range.

    Training updates the range: the first batch sets it, later batches move
    it by an exponential moving average (decay 0.999). Inference uses it as
    is. `calibrating = True` (set by `tfeff.quantize.calibrate`) makes
    inference calls widen the range to the running min/max instead.

    The range always contains 0 so that zero padding and ReLU's zeros are
    exact in int8.

    Args:
        ema_decay: float. Decay of the range's moving average.
        fixed_range: optional `(min, max)`. A range that never moves: TFLite
            gives LOGISTIC and SOFTMAX outputs the fixed scale 1/256
            (`FIXED_RANGES`), and a different learned range would cost a
            requantize op after each.
    """

    def __init__(self, ema_decay=RANGE_EMA_DECAY, fixed_range=None, **kwargs):
        super().__init__(**kwargs)
        self.ema_decay = float(ema_decay)
        self.fixed_range = (
            None
            if fixed_range is None
            else tuple(float(v) for v in fixed_range)
        )
        self.calibrating = False
        self.tied = None

    def tie_to(self, other):
        """Use `other`'s range instead of tracking one (set before build)."""
        self.tied = other

    def build(self, input_shape):
        if self.tied is not None:
            return
        low, high = self.fixed_range or (-DEFAULT_RANGE, DEFAULT_RANGE)
        self.range_min = self.add_weight(
            name="range_min",
            shape=(),
            initializer=keras.initializers.Constant(low),
            trainable=False,
        )
        self.range_max = self.add_weight(
            name="range_max",
            shape=(),
            initializer=keras.initializers.Constant(high),
            trainable=False,
        )
        # 0 until a batch (training or calibration) has set the range.
        self.observed = self.add_weight(
            name="observed",
            shape=(),
            initializer="zeros",
            trainable=False,
        )

    def _observe(self, x, *, ema):
        batch_min = ops.minimum(ops.min(x), 0.0)
        batch_max = ops.maximum(ops.max(x), 0.0)
        first = ops.equal(self.observed, 0.0)
        if ema:
            decay = self.ema_decay
            new_min = self.range_min * decay + batch_min * (1 - decay)
            new_max = self.range_max * decay + batch_max * (1 - decay)
        else:
            new_min = ops.minimum(self.range_min, batch_min)
            new_max = ops.maximum(self.range_max, batch_max)
        self.range_min.assign(ops.where(first, batch_min, new_min))
        self.range_max.assign(ops.where(first, batch_max, new_max))
        self.observed.assign(1.0)

    def call(self, inputs, training=False):
        x = ops.cast(inputs, "float32")
        if self.fixed_range is not None:
            return _fake_quant(x, *self.fixed_range)
        if self.tied is not None:
            high = ops.maximum(self.tied.range_max, self.tied.range_min + 1e-6)
            return _fake_quant(x, self.tied.range_min, high)
        if training:
            self._observe(x, ema=True)
        elif self.calibrating:
            self._observe(x, ema=False)
        # A degenerate (constant-zero) tensor still needs a valid range.
        high = ops.maximum(self.range_max, self.range_min + 1e-6)
        return _fake_quant(x, self.range_min, high)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {"ema_decay": self.ema_decay, "fixed_range": self.fixed_range}
        )
        return config


# TFLite's fixed output quantization of LOGISTIC and SOFTMAX (scale 1/256,
# zero point -128) and TANH (1/128, 0), as (min, max).
FIXED_RANGES = {
    "sigmoid": (0.0, 255.0 / 256.0),
    "softmax": (0.0, 255.0 / 256.0),
    "tanh": (-1.0, 127.0 / 128.0),
}

_FOLDABLE = ("Conv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense")
# Activations the TFLite converter fuses into CONV_2D / DEPTHWISE_CONV_2D /
# FULLY_CONNECTED / ADD: no int8 tensor between the op and the activation.
FUSABLE_ACTIVATIONS = ("linear", "relu", "relu6")


@keras.saving.register_keras_serializable(package="tfeff")
class FoldedConv(keras.layers.Layer):
    """Conv2D / DepthwiseConv2D / Conv2DTranspose / Dense + folded batch
    norm, weights int8.

    Args:
        layer_class: `"Conv2D"`, `"DepthwiseConv2D"`, `"Conv2DTranspose"`
            or `"Dense"`.
        layer_config: dict. The original layer's `get_config()`.
        batch_norm_config: dict or None. The folded BatchNormalization's
            config (its `epsilon`, `center`, `scale` are used).
    """

    def __init__(
        self,
        layer_class,
        layer_config,
        batch_norm_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if layer_class not in _FOLDABLE:
            raise ValueError(
                f"`layer_class` must be one of {_FOLDABLE}. "
                f"Received: layer_class={layer_class!r}"
            )
        self.layer_class = layer_class
        self.layer_config = dict(layer_config)
        self.batch_norm_config = (
            dict(batch_norm_config) if batch_norm_config else None
        )
        self.activation_name = keras.activations.serialize(
            keras.activations.get(self.layer_config.get("activation"))
        )
        if isinstance(self.activation_name, dict):
            self.activation_name = self.activation_name.get("config")
        self.activation = keras.activations.get(
            self.layer_config.get("activation")
        )
        # An activation the converter cannot fuse is its own int8 op, so the
        # conv output in front of it is quantized too.
        self.pre_activation_quantizer = (
            None
            if self.activation_name in FUSABLE_ACTIVATIONS
            else ActivationQuantizer(name="pre_activation_quant")
        )
        if self.activation_name == "hard_sigmoid":
            # relu6(z + 3) / 6 with the +3 in the bias and relu6 fused; the
            # / 6 is an int8 1x1 depthwise conv (a float constant MUL would
            # leave the op in float).
            self.activation = None

    def build(self, input_shape):
        config = self.layer_config
        in_channels = input_shape[-1]
        if self.layer_class == "Conv2D":
            kernel_shape = tuple(config["kernel_size"]) + (
                in_channels // config.get("groups", 1),
                config["filters"],
            )
            out_channels = config["filters"]
            initializer = config["kernel_initializer"]
        elif self.layer_class == "Conv2DTranspose":
            # Keras stores transposed kernels as (kh, kw, out, in).
            kernel_shape = tuple(config["kernel_size"]) + (
                config["filters"],
                in_channels,
            )
            out_channels = config["filters"]
            initializer = config["kernel_initializer"]
        elif self.layer_class == "DepthwiseConv2D":
            multiplier = config["depth_multiplier"]
            kernel_shape = tuple(config["kernel_size"]) + (
                in_channels,
                multiplier,
            )
            out_channels = in_channels * multiplier
            initializer = config["depthwise_initializer"]
        else:
            kernel_shape = (in_channels, config["units"])
            out_channels = config["units"]
            initializer = config["kernel_initializer"]
        self.out_channels = out_channels
        self.kernel = self.add_weight(
            name="kernel",
            shape=kernel_shape,
            initializer=keras.initializers.get(initializer),
        )
        self.bias = (
            self.add_weight(
                name="bias", shape=(out_channels,), initializer="zeros"
            )
            if config.get("use_bias", True)
            else None
        )
        bn = self.batch_norm_config
        if bn is not None:
            self.gamma = (
                self.add_weight(
                    name="gamma", shape=(out_channels,), initializer="ones"
                )
                if bn.get("scale", True)
                else None
            )
            self.beta = (
                self.add_weight(
                    name="beta", shape=(out_channels,), initializer="zeros"
                )
                if bn.get("center", True)
                else None
            )
            self.moving_mean = self.add_weight(
                name="moving_mean",
                shape=(out_channels,),
                initializer="zeros",
                trainable=False,
            )
            self.moving_variance = self.add_weight(
                name="moving_variance",
                shape=(out_channels,),
                initializer="ones",
                trainable=False,
            )
        if self.pre_activation_quantizer is not None:
            self.pre_activation_quantizer.build(None)

    def folded_kernel_and_bias(self):
        """The kernel and bias the int8 model will hold (before rounding)."""
        kernel = self.kernel
        bias = (
            self.bias
            if self.bias is not None
            else ops.zeros((self.out_channels,))
        )
        bn = self.batch_norm_config
        if bn is not None:
            scale = ops.rsqrt(self.moving_variance + bn["epsilon"])
            if self.gamma is not None:
                scale = scale * self.gamma
            if self.layer_class == "DepthwiseConv2D":
                shape = kernel.shape
                kernel = kernel * ops.reshape(scale, (shape[-2], shape[-1]))
            elif self.layer_class == "Conv2DTranspose":
                kernel = kernel * ops.reshape(scale, (-1, 1))
            else:
                kernel = kernel * scale
            bias = (bias - self.moving_mean) * scale
            if self.beta is not None:
                bias = bias + self.beta
        return kernel, bias

    def quantized_kernel(self, kernel):
        """Symmetric fake quantization of `kernel`: per output channel, per
        tensor for Conv2DTranspose and Dense."""
        if self.layer_class == "DepthwiseConv2D":
            # Output channels are (in_channels * multiplier); TFLite stores
            # them on the last axis of a [1, kh, kw, C] kernel.
            shape = kernel.shape
            flat = ops.reshape(kernel, shape[:2] + (1, shape[2] * shape[3]))
            return ops.reshape(self.quantized_kernel_flat(flat), shape)
        if self.layer_class in ("Conv2DTranspose", "Dense"):
            # Dense: the converter transposes FULLY_CONNECTED weights and
            # then rejects a per-channel axis; TFLite's FC is per tensor.
            # Conv2DTranspose: its output channels are the kernel's axis -2,
            # which per-channel fake quantization (last axis only) cannot
            # name, and a transpose around it breaks the converter's
            # quantized-axis tracking.
            bound = ops.stop_gradient(
                ops.maximum(ops.max(ops.abs(kernel)), 1e-8)
            )
            return _fake_quant(kernel, -bound, bound, narrow_range=True)
        return self.quantized_kernel_flat(kernel)

    def quantized_kernel_flat(self, kernel):
        axes = tuple(range(len(kernel.shape) - 1))
        bound = ops.maximum(ops.max(ops.abs(kernel), axis=axes), 1e-8)
        # Gradients reach the kernel (straight-through), not the bound.
        bound = ops.stop_gradient(bound)
        return _fake_quant(kernel, -bound, bound, narrow_range=True, axis=-1)

    def _hard_sigmoid(self, x, training):
        x = self.pre_activation_quantizer(ops.relu6(x), training=training)
        channels = x.shape[-1]
        sixth = ops.full((1, 1, 1, channels), 1.0 / 6.0)
        sixth = _fake_quant(
            sixth,
            -ops.full((channels,), 1.0 / 6.0),
            ops.full((channels,), 1.0 / 6.0),
            narrow_range=True,
            axis=-1,
        )
        return ops.depthwise_conv(
            x,
            ops.reshape(sixth, (1, 1, channels, 1)),
            strides=1,
            padding="same",
        )

    def call(self, inputs, training=False):
        kernel, bias = self.folded_kernel_and_bias()
        if self.activation_name == "hard_sigmoid":
            bias = bias + 3.0
        kernel = self.quantized_kernel(kernel)
        config = self.layer_config
        if self.layer_class == "Dense":
            x = ops.matmul(inputs, kernel)
        elif self.layer_class == "Conv2D":
            x = ops.conv(
                inputs,
                kernel,
                strides=config["strides"],
                padding=config["padding"],
                dilation_rate=config["dilation_rate"],
            )
        elif self.layer_class == "Conv2DTranspose":
            x = ops.conv_transpose(
                inputs,
                kernel,
                strides=config["strides"],
                padding=config["padding"],
                output_padding=config.get("output_padding"),
                dilation_rate=config["dilation_rate"],
            )
        else:
            x = ops.depthwise_conv(
                inputs,
                kernel,
                strides=config["strides"],
                padding=config["padding"],
                dilation_rate=config["dilation_rate"],
            )
        if self.layer_class in ("Conv2D", "DepthwiseConv2D"):
            bias = _never_splat(bias)
        x = x + bias
        if self.activation_name == "hard_sigmoid":
            return self._hard_sigmoid(x, training)
        if self.pre_activation_quantizer is not None:
            x = self.pre_activation_quantizer(x, training=training)
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        config = self.layer_config
        if self.layer_class == "Dense":
            return tuple(input_shape[:-1]) + (config["units"],)
        kernel_size = config["kernel_size"]
        strides = config["strides"]
        dilation = config["dilation_rate"]
        if self.layer_class == "Conv2DTranspose":
            return keras.layers.Conv2DTranspose.from_config(
                config
            ).compute_output_shape(input_shape)
        spatial = []
        for size, k, s, d in zip(
            input_shape[1:3], kernel_size, strides, dilation
        ):
            if size is None:
                spatial.append(None)
            elif config["padding"] == "same":
                spatial.append(-(-size // s))
            else:
                spatial.append((size - d * (k - 1) - 1) // s + 1)
        if self.layer_class == "Conv2D":
            out = config["filters"]
        else:
            out = input_shape[-1] * config["depth_multiplier"]
        return (input_shape[0],) + tuple(spatial) + (out,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer_class": self.layer_class,
                "layer_config": self.layer_config,
                "batch_norm_config": self.batch_norm_config,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="tfeff")
class ChannelAffine(keras.layers.Layer):
    """`x * scale + offset` per channel, as an int8 1x1 depthwise conv.

    Replaces the input `Rescaling` and `Normalization` in a QAT model: as
    float constant MUL/SUB ops they would stay float in the int8 model.

    Args:
        scale: list of float, one per channel.
        offset: list of float, one per channel.
    """

    def __init__(self, scale, offset, **kwargs):
        super().__init__(**kwargs)
        self.scale = [float(v) for v in scale]
        self.offset = [float(v) for v in offset]

    def call(self, inputs):
        scale = ops.convert_to_tensor(self.scale, dtype="float32")
        bound = ops.maximum(ops.abs(scale), 1e-8)
        kernel = _fake_quant(
            ops.reshape(scale, (1, 1, 1, -1)),
            -bound,
            bound,
            narrow_range=True,
            axis=-1,
        )
        kernel = ops.reshape(kernel, (1, 1, -1, 1))
        offset = ops.convert_to_tensor(self.offset, dtype="float32")
        return ops.depthwise_conv(
            inputs, kernel, strides=1, padding="same"
        ) + _never_splat(offset)  # The bias of a per-channel conv too.

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


@keras.saving.register_keras_serializable(package="tfeff")
class QuantizedSum(keras.layers.Layer):
    """`Add` of n > 2 tensors as a chain of int8 ADDs with ranges between.

    TFLite has only two-input ADD; each partial sum is an int8 tensor.
    """

    def build(self, input_shape):
        self.partial_quantizers = [
            ActivationQuantizer(name=f"partial{i + 1}_quant")
            for i in range(len(input_shape) - 2)
        ]
        for quantizer in self.partial_quantizers:
            quantizer.build(None)

    def call(self, inputs, training=False):
        total = inputs[0] + inputs[1]
        for quantizer, x in zip(self.partial_quantizers, inputs[2:]):
            total = quantizer(total, training=training) + x
        return total

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@keras.saving.register_keras_serializable(package="tfeff")
class QuantizedBatchNormalization(keras.layers.BatchNormalization):
    """A batch norm that follows no conv, as an int8 1x1 depthwise conv.

    Statistics are frozen (as in `FoldedConv`). The per-channel scale
    becomes a 1x1 depthwise kernel, fake-quantized per channel, and the
    offset its bias: TFLite runs it as one int8 DEPTHWISE_CONV_2D, where a
    MUL and ADD with constant vectors would stay float.
    """

    def call(self, inputs, training=False, mask=None):
        scale = ops.rsqrt(self.moving_variance + self.epsilon)
        if self.gamma is not None:
            scale = scale * self.gamma
        offset = -self.moving_mean * scale
        if self.beta is not None:
            offset = offset + self.beta
        # Quantized on the last axis of [1, 1, 1, C], TFLite's depthwise
        # layout, as in `FoldedConv`.
        bound = ops.stop_gradient(ops.maximum(ops.abs(scale), 1e-8))
        scale = ops.reshape(scale, (1, 1, 1, -1))
        scale = _fake_quant(scale, -bound, bound, narrow_range=True, axis=-1)
        kernel = ops.reshape(scale, (1, 1, -1, 1))
        return ops.depthwise_conv(
            inputs, kernel, strides=1, padding="same"
        ) + _never_splat(offset)  # The bias of a per-channel conv too.
