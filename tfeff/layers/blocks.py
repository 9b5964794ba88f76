"""Public Keras layers for tfeff's blocks, usable in any Keras model.

Each layer builds, in `build()`, a small functional graph with the very
builder function the tfeff models use (`tfeff.blocks`), so the math exists
once. The weights live in the built-in Keras layers of that graph, named
`{layer name}_{part}` like the layers of a tfeff model.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import dataclasses

import keras

from tfeff.blocks import get_block_builder
from tfeff.blocks import ghost_module
from tfeff.blocks import squeeze_excite
from tfeff.blocks.context import BlockContext
from tfeff.blocks.conv import depthwise_conv
from tfeff.blocks.dice import dice_unit
from tfeff.blocks.esp import esp_module
from tfeff.spec.kinds import kind_named
from tfeff.spec.kinds.base import field_type_problems
from tfeff.spec.notation import ACTIVATION_NAMES
from tfeff.spec.validate import block_problems


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive int. Received: {name}={value!r}"
        )
    return value


def _kernel_list(name, value, *, allow_list=True):
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values or (len(values) > 1 and not allow_list):
        raise ValueError(
            f"`{name}` must be one odd int. Received: {name}={value!r}"
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or v % 2 == 0:
            raise ValueError(
                f"`{name}` must hold odd positive ints. Received: {name}={value!r}"
            )
    return tuple(values)


def _ratio(name, value, low=0.0, high=1.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"`{name}` must be a number. Received: {name}={value!r}"
        )
    if not low <= value <= high:
        raise ValueError(
            f"`{name}` must be in [{low}, {high}]. Received: {name}={value!r}"
        )
    return float(value)


def _activation(name, value):
    if value not in ACTIVATION_NAMES:
        raise ValueError(
            f"`{name}` must be one of {sorted(ACTIVATION_NAMES)}. "
            f"Received: {name}={value!r}"
        )
    return value


def _strides(value):
    if value not in (1, 2):
        raise ValueError(
            f"`strides` must be 1 or 2. Received: strides={value!r}"
        )
    return value


class _BuilderLayer(keras.layers.Layer):
    """Runs a tfeff block builder inside a layer (see the module docstring)."""

    def _emit(self, inputs):
        raise NotImplementedError

    def build(self, input_shape):
        if (
            isinstance(input_shape, (list, tuple))
            and input_shape
            and isinstance(input_shape[0], (list, tuple))
        ):
            inputs = [keras.Input(shape=tuple(s[1:])) for s in input_shape]
        else:
            inputs = keras.Input(shape=tuple(input_shape[1:]))
        outputs = self._emit(inputs)
        self.graph = keras.Model(inputs, outputs, name=f"{self.name}_graph")

    def call(self, inputs, training=None):
        return self.graph(inputs, training=training)

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return self.graph.compute_output_shape(input_shape)

    # Each subclass lists its constructor arguments; they are the config.
    _config_fields = ()

    def get_config(self):
        config = super().get_config()
        for field in self._config_fields:
            value = getattr(self, field)
            config[field] = list(value) if isinstance(value, tuple) else value
        return config


def _as_kernel_list(value):
    # MixConv's kernel list: an int or a list of ints, held as a tuple.
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (
        (value,)
        if isinstance(value, int) and not isinstance(value, bool)
        else value
    )


class _KindLayer(_BuilderLayer):
    """A block kind as a layer: the spec is the layer.

    The constructor takes the kind's spec fields (`tfeff.spec.kinds`) as
    keyword arguments, the first ones (`_positional`) also by position, and
    the config is exactly those fields. Every rule is the kind's
    (`tfeff.spec.block_problems`): those that do not read the input's
    width when the layer is made, the rest when it first sees its input,
    each as a ValueError naming the layer, the rule and the arguments.

    Subclasses set:
        _kind: str. The kind's name (`"mbconv"`).
        _positional: tuple of field names accepted by position.
        _layer_defaults: dict. Defaults that differ from the spec's
            (a lone MBConv layer expands by 6, as the papers' blocks do).
        _from_input: tuple of fields the layer reads from its input (an
            EESP's width) instead of taking them as arguments.
        _context: dict. Builder arguments that are not spec fields
            (`drop_path_rate`) → their defaults.
    """

    _kind = None
    _positional = ("filters",)
    _layer_defaults = {}
    _from_input = ()
    _context = {}

    def __init__(self, *args, **kwargs):
        kind = kind_named(self._kind)
        fields = [
            f.name
            for f in dataclasses.fields(kind.spec)
            if f.name != "repeats" and f.name not in self._from_input
        ]
        name = type(self).__name__
        if len(args) > len(self._positional):
            raise TypeError(
                f"{name} takes at most {len(self._positional)} positional "
                f"argument(s) ({', '.join(self._positional)}). Received: "
                f"{args!r}"
            )
        given = dict(zip(self._positional, args))
        for field in fields:
            if field in kwargs:
                if field in given:
                    raise TypeError(f"{name} got two values for `{field}`.")
                given[field] = kwargs.pop(field)
        context = {
            key: kwargs.pop(key, default)
            for key, default in self._context.items()
        }
        super().__init__(**kwargs)  # Keras refuses unknown keywords.
        required = [
            f.name
            for f in dataclasses.fields(kind.spec)
            if f.default is dataclasses.MISSING
            and f.name in fields
            and f.name not in given
        ]
        if required:
            raise TypeError(f"{name} is missing `{'`, `'.join(required)}`.")
        defaults = {
            f.name: f.default
            for f in dataclasses.fields(kind.spec)
            if f.name in fields and f.default is not dataclasses.MISSING
        }
        values = {**defaults, **self._layer_defaults, **given}
        if "kernel_size" in values and any(
            key.field == "kernel_size" and key.codec == "int_list"
            for key in kind.keys
        ):
            values["kernel_size"] = _as_kernel_list(values["kernel_size"])
        received = ", ".join(f"{k}={v!r}" for k, v in given.items())
        for _, problem in field_type_problems(kind, values):
            raise TypeError(f"{name}: {problem}. Received: {received}")
        self._received = received
        self._values = values
        for field, value in values.items():
            setattr(self, field, value)
        for key, value in context.items():
            setattr(self, key, _ratio(key, value, 0.0, 0.99))
        # The rules that do not read the input, now (a stand-in None for
        # what the input will say).
        spec = self._spec({field: None for field in self._from_input})
        self._refuse(block_problems(spec, None))

    @property
    def _config_fields(self):
        return tuple(self._values) + tuple(self._context)

    def _spec(self, from_input):
        kind = kind_named(self._kind)
        return kind.spec(**self._values, **from_input)

    def _refuse(self, problems, channels=None):
        problem = next(iter(problems), None)
        if problem is not None:
            seen = "" if channels is None else f", input channels={channels}"
            raise ValueError(
                f"{type(self).__name__}: {problem}. Received: "
                f"{self._received}{seen}"
            )

    def _input_fields(self, inputs):
        """Values of `_from_input` read from the layer's input."""
        return {}

    def _emit(self, inputs):

        features = inputs[0] if isinstance(inputs, list) else inputs
        spec = self._spec(self._input_fields(inputs))
        channels = features.shape[-1]
        self._refuse(block_problems(spec, channels), channels)
        context = BlockContext(
            name=self.name,
            image=inputs[1] if isinstance(inputs, list) else None,
            **{key: getattr(self, key) for key in self._context},
        )
        return get_block_builder(self._kind)(features, spec, context)


@keras.saving.register_keras_serializable(package="tfeff")
class MBConv(_KindLayer):
    """MBConv (inverted residual) block with optional squeeze-excite.

    With a list of kernel sizes its depthwise stage is a MixConv, which makes
    it a MixNet block.

    Args:
        filters: int. Output channels.
        kernel_size: int or list of int. Depthwise kernel(s). Defaults to `3`.
        strides: int. 1 or 2. Defaults to `1`.
        expand_ratio: float >= 1. Defaults to `6.0`.
        se_ratio: float in [0, 1]. SE width as a fraction of the input
            channels; `0` disables SE. Defaults to `0.0`.
        activation: str. Defaults to `"swish"`.
        skip: bool. Identity shortcut when shapes allow. Defaults to `True`.
        expand_groups: int. Groups of the expansion conv. Defaults to `1`.
        project_groups: int. Groups of the projection conv. Defaults to `1`.
        drop_path_rate: float. Stochastic depth rate. Defaults to `0.0`.

    Example:

    >>> block = tfeff.layers.MBConv(16, kernel_size=[3, 5], se_ratio=0.25)
    >>> tuple(block(np.zeros((2, 8, 8, 16))).shape)
    (2, 8, 8, 16)
    """

    _kind = "mbconv"
    _layer_defaults = {"expand_ratio": 6.0}
    _context = {"drop_path_rate": 0.0}


@keras.saving.register_keras_serializable(package="tfeff")
class MixConv(_BuilderLayer):
    """Mixed depthwise convolution (MixConv): one kernel size per channel group.

    Channels are split as MixNet splits them (the remainder goes to the first,
    smallest-kernel group). A drop-in replacement for `DepthwiseConv2D`.

    Args:
        kernel_size: list of int. Odd kernel sizes. Defaults to `[3, 5, 7]`.
        strides: int. 1 or 2. Defaults to `1`.

    Example:

    >>> mix = tfeff.layers.MixConv([3, 5, 7])
    >>> tuple(mix(np.zeros((1, 8, 8, 10))).shape)
    (1, 8, 8, 10)
    """

    def __init__(self, kernel_size=(3, 5, 7), strides=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = _kernel_list("kernel_size", kernel_size)
        self.strides = _strides(strides)

    def _emit(self, inputs):

        if inputs.shape[-1] < len(self.kernel_size):
            raise ValueError(
                f"MixConv needs at least one channel per kernel size: "
                f"{len(self.kernel_size)} kernels, {inputs.shape[-1]} channels."
            )
        return depthwise_conv(
            inputs,
            self.kernel_size,
            strides=self.strides,
            name=f"{self.name}_dw_conv",
        )

    _config_fields = ("kernel_size", "strides")


@keras.saving.register_keras_serializable(package="tfeff")
class SqueezeExcite(_BuilderLayer):
    """Squeeze-and-excitation: channel gates from global context.

    Args:
        reduced_filters: int. Bottleneck width.
        activation: str. Activation of the reduce conv. Defaults to `"swish"`.
        gate: str. `"sigmoid"` or `"hard_sigmoid"`. Defaults to `"sigmoid"`.

    Example:

    >>> se = tfeff.layers.SqueezeExcite(4)
    >>> tuple(se(np.ones((1, 8, 8, 16))).shape)
    (1, 8, 8, 16)
    """

    def __init__(
        self, reduced_filters, activation="swish", gate="sigmoid", **kwargs
    ):
        super().__init__(**kwargs)
        self.reduced_filters = _positive_int("reduced_filters", reduced_filters)
        self.activation = _activation("activation", activation)
        if gate not in ("sigmoid", "hard_sigmoid"):
            raise ValueError(
                f"`gate` must be 'sigmoid' or 'hard_sigmoid'. Received: gate={gate!r}"
            )
        self.gate = gate

    def _emit(self, inputs):

        return squeeze_excite(
            inputs,
            self.reduced_filters,
            activation=self.activation,
            gate=self.gate,
            name=self.name,
        )

    _config_fields = ("reduced_filters", "activation", "gate")


@keras.saving.register_keras_serializable(package="tfeff")
class GhostModule(_BuilderLayer):
    """Ghost module: a 1x1 conv makes half the channels, a cheap 3x3 dw the rest.

    Args:
        filters: int. Output channels.
        activation: str. `"linear"` for none. Defaults to `"relu"`.

    Example:

    >>> tuple(tfeff.layers.GhostModule(15)(np.zeros((1, 8, 8, 4))).shape)
    (1, 8, 8, 15)
    """

    def __init__(self, filters, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters = _positive_int("filters", filters)
        self.activation = _activation("activation", activation)

    def _emit(self, inputs):

        return ghost_module(
            inputs, self.filters, activation=self.activation, name=self.name
        )

    _config_fields = ("filters", "activation")


@keras.saving.register_keras_serializable(package="tfeff")
class GhostBottleneck(_KindLayer):
    """GhostNet bottleneck: ghost → (strided dw) → (SE) → ghost + shortcut.

    Args:
        filters: int. Output channels.
        mid_filters: int. Expanded width.
        kernel_size: int. Depthwise kernel. Defaults to `3`.
        strides: int. 1 or 2. Defaults to `1`.
        se_ratio: float. SE width as a fraction of `mid_filters` (rounded to a
            multiple of 4); `0` disables SE. Defaults to `0.0`.
        activation: str. Defaults to `"relu"`.

    Example:

    >>> block = tfeff.layers.GhostBottleneck(24, mid_filters=72, strides=2)
    >>> tuple(block(np.zeros((1, 16, 16, 16))).shape)
    (1, 8, 8, 24)
    """

    _kind = "ghost"
    _positional = ("filters", "mid_filters")


@keras.saving.register_keras_serializable(package="tfeff")
class EESP(_KindLayer):
    """ESPNetv2's EESP unit (stride 1): grouped reduce, K dilated depthwise
    branches with hierarchical fusion, grouped merge, residual.

    The output has the input's width, which must be divisible by `branches`.

    Args:
        branches: int. K. Defaults to `4`.
        receptive_field: int. Largest effective branch kernel. Defaults to `7`.
        activation: str. Defaults to `"prelu"`.

    Example:

    >>> tuple(tfeff.layers.EESP(branches=4)(np.zeros((1, 8, 8, 32))).shape)
    (1, 8, 8, 32)
    """

    _kind = "eesp"
    _positional = ()
    _from_input = ("filters",)

    def _input_fields(self, inputs):
        # Its residual adds the input: the width is the input's.
        return {"filters": inputs.shape[-1]}


@keras.saving.register_keras_serializable(package="tfeff")
class StridedEESP(_KindLayer):
    """ESPNetv2's strided EESP (down-sampler) with input-image reinforcement.

    Call it on `features` alone, or on `[features, image]` to add the
    reinforcement path (the image is average-pooled to the output size).

    Args:
        filters: int. Output channels, more than the input channels.
        branches: int. Defaults to `4`.
        receptive_field: int. Defaults to `7`.
        activation: str. Defaults to `"prelu"`.

    Example:

    >>> down = tfeff.layers.StridedEESP(64)
    >>> out = down([np.zeros((1, 16, 16, 32)), np.zeros((1, 32, 32, 3))])
    >>> tuple(out.shape)
    (1, 8, 8, 64)
    """

    _kind = "eespdown"
    _from_input = ("reinforce",)

    def _input_fields(self, inputs):
        # Called on [features, image], it adds the image reinforcement.
        return {"reinforce": isinstance(inputs, list)}


@keras.saving.register_keras_serializable(package="tfeff")
class ShuffleUnit(_KindLayer):
    """ShuffleNetV2 unit: split, 1x1-dw-1x1 branch, concat, channel shuffle.

    Stride 1 keeps the width (`filters` must equal the input channels);
    stride 2 adds a depthwise + 1x1 branch on the whole input.

    Args:
        filters: int. Output channels (even).
        kernel_size: int. Depthwise kernel. Defaults to `3`.
        strides: int. 1 or 2. Defaults to `1`.
        activation: str. Defaults to `"relu"`.

    Example:

    >>> unit = tfeff.layers.ShuffleUnit(48, strides=2)
    >>> tuple(unit(np.zeros((1, 16, 16, 24))).shape)
    (1, 8, 8, 48)
    """

    _kind = "shuffle"


@keras.saving.register_keras_serializable(package="tfeff")
class IGCV3Block(_KindLayer):
    """IGCV3 block: grouped 1x1 expansion (linear), channel shuffle,
    depthwise, grouped 1x1 projection, residual when shapes allow.

    Args:
        filters: int. Output channels.
        kernel_size: int. Defaults to `3`.
        strides: int. 1 or 2. Defaults to `1`.
        expand_ratio: float. Defaults to `6.0`.
        groups: int. Groups of both 1x1 convs. Defaults to `2`.
        activation: str. Defaults to `"relu6"`.

    Example:

    >>> block = tfeff.layers.IGCV3Block(16)
    >>> tuple(block(np.zeros((1, 8, 8, 16))).shape)
    (1, 8, 8, 16)
    """

    _kind = "igcv3"


@keras.saving.register_keras_serializable(package="tfeff")
class ESPModule(_BuilderLayer):
    """ESPNet's ESP module: reduce, five dilated 3x3 branches (d = 1, 2, 4, 8,
    16) with hierarchical feature fusion, concat, (residual), BN + PReLU.

    With `strides=2` it is ESPNet's down-sampler (3x3/s2 reduce, no
    residual).

    Args:
        filters: int. Output channels (>= 5). With `strides=1` and the
            residual, equal to the input channels.
        strides: int. 1 or 2. Defaults to `1`.
        activation: str. Defaults to `"prelu"`.

    Example:

    >>> tuple(tfeff.layers.ESPModule(64)(np.zeros((1, 16, 16, 64))).shape)
    (1, 16, 16, 64)
    """

    def __init__(self, filters, strides=1, activation="prelu", **kwargs):
        super().__init__(**kwargs)
        self.filters = _positive_int("filters", filters)
        if self.filters < 5:
            raise ValueError(
                f"`filters` must be >= 5. Received: filters={filters!r}"
            )
        self.strides = _strides(strides)
        self.activation = _activation("activation", activation)

    def _emit(self, inputs):

        residual = self.strides == 1
        if residual and inputs.shape[-1] != self.filters:
            raise ValueError(
                "A stride-1 ESPModule adds its input, so filters must equal the "
                f"input channels. Received: filters={self.filters}, input "
                f"channels={inputs.shape[-1]}"
            )
        return esp_module(
            inputs,
            self.filters,
            strides=self.strides,
            residual=residual,
            activation=self.activation,
            name=self.name,
        )

    _config_fields = ("filters", "strides", "activation")


@keras.saving.register_keras_serializable(package="tfeff")
class DICE(_BuilderLayer):
    """DiCENet's DICE unit: depth-, height- and width-wise 3x3 convolutions,
    fused per channel and gated globally. Keeps the input's shape.

    The height- and width-wise convolutions have as many kernels as the
    input has rows and columns, so the layer needs a static input size.

    Args:
        activation: str. Defaults to `"prelu"`.

    Example:

    >>> tuple(tfeff.layers.DICE()(np.zeros((1, 8, 6, 16))).shape)
    (1, 8, 6, 16)
    """

    def __init__(self, activation="prelu", **kwargs):
        super().__init__(**kwargs)
        self.activation = _activation("activation", activation)

    def _emit(self, inputs):

        if inputs.shape[-1] < 4:
            raise ValueError(
                f"DICE needs at least 4 channels. Received: {inputs.shape[-1]}"
            )
        return dice_unit(inputs, activation=self.activation, name=self.name)

    _config_fields = ("activation",)
