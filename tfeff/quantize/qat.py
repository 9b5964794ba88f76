"""`quantize_aware` and `calibrate`: a float model → its fake-quant twin.

The twin is a clone of the float model's functional graph in which
- every Conv2D / DepthwiseConv2D / Dense becomes a `FoldedConv`, with the
  batch norm that follows it folded in and its weights fake-quantized per
  output channel;
- an `ActivationQuantizer` sits wherever the int8 model will hold an int8
  tensor: the model input, and the output of every op that computes new
  values (activations, adds, concatenations, squeeze-excite multiplies,
  pooling, normalization, convolutions whose activation is not fused).
  Ops that only move values (channel split/slice/shuffle, permute, padding,
  cropping, max-pooling, dropout) keep their input's range, as TFLite
  requires, and get none.

Only flat functional models are rewritten (every tfeff model is one). Nested
models and unknown layers that hold weights are rejected up front with the
layer's name.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras

from tfeff.quantize.layers import FIXED_RANGES
from tfeff.quantize.layers import FUSABLE_ACTIVATIONS
from tfeff.quantize.layers import ActivationQuantizer
from tfeff.quantize.layers import ChannelAffine
from tfeff.quantize.layers import FoldedConv
from tfeff.quantize.layers import QuantizedBatchNormalization
from tfeff.quantize.layers import QuantizedSum

_FOLDABLE = ("Conv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense")
# Ops whose int8 output shares its input's scale in TFLite.
_SAME_SCALE = {
    "InputLayer",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalMaxPooling2D",
    "ZeroPadding2D",
    "Cropping2D",
    "ChannelSplit",
    "ChannelSlice",
    "ChannelShuffle",
    "Permute",
    "Reshape",
    "Flatten",
    "Dropout",
    "SpatialDropout2D",
    "Identity",
}
# Weightless ops whose outputs are new values (quantized after).
_WEIGHTLESS_OK = {
    "Activation",
    "ReLU",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Concatenate",
    "GlobalAveragePooling2D",
    "Rescaling",
    "Normalization",
    "UpSampling2D",
    "Resizing",
    "BilinearResize",
    "Softmax",
}
_FUSES_ACTIVATION = set(_FOLDABLE) | {"Add", "BatchNormalization"}


def _kind(layer):
    return type(layer).__name__


def _activation_name(layer):
    config = layer.get_config()
    activation = config.get("activation", "linear")
    if isinstance(activation, dict):
        activation = activation.get("config", activation)
    if _kind(layer) == "ReLU":
        if config.get("negative_slope") or config.get("threshold"):
            return "leaky"
        max_value = config.get("max_value")
        return (
            "relu6" if max_value == 6 else "relu" if max_value is None else "x"
        )
    return activation if isinstance(activation, str) else "x"


class _Graph:
    """Producers and consumers of every layer of a flat functional model."""

    def __init__(self, model):
        self.layers = {layer.name: layer for layer in model.layers}
        self.consumers = {name: [] for name in self.layers}
        self.producers = {name: [] for name in self.layers}
        for layer in model.layers:
            for node in layer._inbound_nodes:
                for tensor in keras.tree.flatten(node.arguments.keras_tensors):
                    producer = tensor._keras_history.operation
                    if producer.name not in self.layers:
                        continue
                    self.producers[layer.name].append(producer.name)
                    self.consumers[producer.name].append(layer.name)
        self.output_layers = {
            tensor._keras_history.operation.name
            for tensor in keras.tree.flatten(model.outputs)
        }

    def sole_consumer(self, name):
        consumers = self.consumers[name]
        if name in self.output_layers or len(consumers) != 1:
            return None
        return self.layers[consumers[0]]


def _check_supported(model):
    if not isinstance(model, keras.Model) or not hasattr(
        model, "_run_through_graph"
    ):
        raise TypeError(
            "`model` must be a functional keras.Model (every tfeff model is). "
            f"Received: model={model!r}"
        )
    for layer in model.layers:
        kind = _kind(layer)
        if isinstance(layer, keras.Model):
            raise TypeError(
                f"quantize_aware needs a flat model; layer {layer.name!r} is a "
                f"nested model ({kind}). Build the model from its layers, or "
                "quantize the nested model on its own."
            )
        if kind in _FOLDABLE:
            config = layer.get_config()
            if kind == "Conv2D" and config.get("groups", 1) != 1:
                raise TypeError(
                    f"Layer {layer.name!r}: grouped Conv2D is not quantized; "
                    "emit groups as split-conv-concat (tfeff.blocks.conv.conv)."
                )
            if config.get("data_format", "channels_last") != "channels_last":
                raise TypeError(
                    f"Layer {layer.name!r}: only channels_last is supported."
                )
            continue
        if kind in ("BatchNormalization", "PReLU"):
            continue
        if kind in _SAME_SCALE or kind in _WEIGHTLESS_OK:
            continue
        if layer.weights and kind not in ("Rescaling", "Normalization"):
            raise TypeError(
                f"quantize_aware does not know layer {layer.name!r} of type "
                f"{kind}, which holds weights. Supported weighted layers: "
                "Conv2D, DepthwiseConv2D, Conv2DTranspose, Dense, "
                "BatchNormalization, PReLU."
            )


def _plan_folding(graph):
    """{conv name: (bn, first, last channel)} and the folded BN names."""
    folds = {}
    folded_bn = set()
    for bn in graph.layers.values():
        if (
            _kind(bn) != "BatchNormalization"
            or len(graph.producers[bn.name]) != 1
        ):
            continue
        if bn.get_config().get("axis") not in (-1, [-1], 3, [3]):
            continue
        producer = graph.layers[graph.producers[bn.name][0]]
        if graph.sole_consumer(producer.name) is not bn:
            continue
        if _kind(producer) in _FOLDABLE:
            convs = [producer]
        elif _kind(producer) == "Concatenate" and producer.axis in (-1, 3):
            # A grouped conv emitted as split-conv-concat: the batch norm is
            # per channel, so each group's slice of it folds exactly.
            convs = [graph.layers[n] for n in graph.producers[producer.name]]
            if not all(
                _kind(c) in _FOLDABLE
                and graph.sole_consumer(c.name) is producer
                for c in convs
            ):
                continue
        else:
            # After an Add (tiled depthwise kernel) or anything else the
            # batch norm stays: a per-channel MUL and ADD in int8.
            continue
        if any(_activation_name(c) != "linear" for c in convs):
            continue
        start = 0
        for conv in convs:
            stop = start + conv.output.shape[-1]
            folds[conv.name] = (bn, start, stop)
            start = stop
        folded_bn.add(bn.name)
    return folds, folded_bn


def _needs_output_quantizer(graph, layer, folded_bn):
    kind = _kind(layer)
    if kind in _SAME_SCALE:
        return False
    consumer = graph.sole_consumer(layer.name)
    if consumer is not None and consumer.name in folded_bn:
        return False  # The batch norm's output is quantized instead.
    if consumer is not None and _kind(consumer) == "Concatenate":
        # TFLite's concatenation has one scale for its inputs and output:
        # the converter writes an input that feeds nothing else at the
        # concat's scale, overriding a range of its own (a MixConv group,
        # a ShuffleNet branch, an ESP branch ran up to 2.5x coarser in the
        # int8 file than simulated). The concat's quantizer rounds it.
        return False
    fuses = kind in _FUSES_ACTIVATION and (
        kind != "BatchNormalization" or layer.name in folded_bn
    )
    if (
        fuses
        and consumer is not None
        and _kind(consumer) in ("Activation", "ReLU")
        and _activation_name(consumer) in FUSABLE_ACTIVATIONS
        and (kind not in _FOLDABLE or _activation_name(layer) == "linear")
    ):
        return False  # The converter fuses the activation into this op.
    return True


def _affine_of(layer):
    """Per-channel (scale, offset) of a Rescaling or Normalization layer."""
    import numpy as np

    channels = layer.output.shape[-1]
    if _kind(layer) == "Rescaling":
        scale = np.broadcast_to(np.asarray(layer.scale, "float64"), (channels,))
        offset = np.broadcast_to(
            np.asarray(layer.offset, "float64"), (channels,)
        )
    else:
        if layer.invert or tuple(layer.axis) not in ((-1,), (3,)):
            raise TypeError(
                f"Layer {layer.name!r}: only a per-channel (axis=-1), "
                "non-inverted Normalization is supported."
            )
        mean = np.reshape(np.asarray(layer.mean), (-1,))
        variance = np.reshape(np.asarray(layer.variance), (-1,))
        scale = 1.0 / np.maximum(np.sqrt(variance), keras.backend.epsilon())
        scale = np.broadcast_to(scale, (channels,))
        offset = np.broadcast_to(-mean * scale, (channels,))
    return scale.tolist(), offset.tolist()


def _clone_layer(layer, folds, folded_bn):
    kind = _kind(layer)
    if kind == "Add" and len(layer._inbound_nodes[0].input_tensors) > 2:
        return QuantizedSum(name=layer.name)
    if kind in _FOLDABLE:
        bn = folds.get(layer.name, (None,))[0]
        return FoldedConv(
            kind,
            layer.get_config(),
            batch_norm_config=bn.get_config() if bn is not None else None,
            name=layer.name,
        )
    if layer.name in folded_bn:
        return keras.layers.Identity(name=layer.name)
    if kind == "BatchNormalization":
        return QuantizedBatchNormalization.from_config(layer.get_config())
    if kind in ("Rescaling", "Normalization"):
        scale, offset = _affine_of(layer)
        return ChannelAffine(scale, offset, name=layer.name)
    return layer.__class__.from_config(layer.get_config())


def _copy_weights(source, clone, folds):
    for layer in source.layers:
        target = clone.get_layer(layer.name)
        if isinstance(target, FoldedConv):
            target.kernel.assign(layer.weights[0])
            if target.bias is not None:
                target.bias.assign(layer.weights[1])
            if layer.name in folds:
                bn, start, stop = folds[layer.name]
                bn_weights = {w.path.split("/")[-1]: w for w in bn.weights}
                for name in ("gamma", "beta", "moving_mean", "moving_variance"):
                    variable = getattr(target, name, None)
                    if variable is not None:
                        variable.assign(bn_weights[name][start:stop])
        elif isinstance(target, (keras.layers.Identity, ChannelAffine)):
            continue
        else:
            # The clone's own variables come first (a quantized batch norm
            # adds its product range after them).
            for variable, value in zip(target.weights, layer.weights):
                variable.assign(value)
            if layer.weights and hasattr(target, "finalize_state"):
                # Normalization reads its statistics from tensors that
                # finalize_state() derives from the variables.
                target.finalize_state()


@keras.saving.register_keras_serializable(package="tfeff")
class QuantizedModel(keras.Model):
    """The fake-quant twin of a float model, as made by `quantize_aware`.

    Saving keeps the float model's config (so `.keras` files rebuild the twin
    by running `quantize_aware` on it again) and every variable, ranges
    included.

    Attributes:
        float_config: the serialized float model it was made from.
        arch: the float model's ArchSpec (tfeff models), else None.
    """

    def __init__(self, inputs, outputs, float_config=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.float_config = float_config
        self.arch = None
        if float_config and isinstance(float_config.get("config"), dict):
            arch = float_config["config"].get("arch")
            if arch is not None:
                from tfeff.spec import decode_arch

                self.arch = decode_arch(arch)

    @property
    def settings(self):
        """The float model's tfeff settings (arch, mean, std, input_shape)."""
        if not self.float_config:
            return {}
        return dict(self.float_config.get("config") or {})

    def get_config(self):
        return {"name": self.name, "float_config": self.float_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        float_model = keras.saving.deserialize_keras_object(
            config["float_config"], custom_objects=custom_objects
        )
        return quantize_aware(float_model, name=config.get("name"))


def quantizers(model):
    """The range-tracking `ActivationQuantizer`s of a QAT model."""
    found = []
    for layer in model.layers:
        if isinstance(layer, ActivationQuantizer):
            found.append(layer)
        elif isinstance(layer, FoldedConv) and layer.pre_activation_quantizer:
            found.append(layer.pre_activation_quantizer)
        elif isinstance(layer, QuantizedSum):
            found.extend(layer.partial_quantizers)
    return [q for q in found if q.tied is None and q.fixed_range is None]


def quantize_aware(model, representative_data=None, *, steps=None, name=None):
    """Returns the trainable fake-quant (QAT) twin of a float model.

    Args:
        model: a flat functional keras.Model (any tfeff model).
        representative_data: optional input batches (see `calibrate`); when
            given, activation ranges are set from them so the twin is ready
            for export (post-training quantization) or fine-tuning.
            Otherwise the first training batch sets them.
        steps: int. Batches of `representative_data` to use (all if None).
        name: str. Defaults to the float model's name.

    Returns:
        `QuantizedModel`, with the float model's weights and trainable
        parameter count. Compile and `fit` it like the float model.

    Example:

    >>> model = tfeff.build_image_classifier(
    ...     "stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16_se0.25 | head_k1_c32",
    ...     num_classes=4, input_shape=(32, 32, 3))
    >>> qat = tfeff.quantize.quantize_aware(model)
    >>> qat.count_params() > model.count_params()  # + ranges
    True
    """
    if isinstance(model, QuantizedModel):
        raise TypeError(
            f"`model` is already quantization-aware. Received: model={model.name!r}"
        )
    _check_supported(model)
    graph = _Graph(model)
    folds, folded_bn = _plan_folding(graph)
    clone_to_source = {}

    def clone_function(layer):
        clone = _clone_layer(layer, folds, folded_bn)
        clone_to_source[id(clone)] = layer
        return clone

    quantized_inputs = {}
    # id(tensor) → the quantizer whose range the tensor carries.
    range_of = {}

    def quantize_input(tensor):
        if id(tensor) not in input_ids:
            return tensor
        if id(tensor) not in quantized_inputs:
            layer_name = tensor._keras_history.operation.name
            quantizer = ActivationQuantizer(name=f"{layer_name}_quant")
            quantized = quantizer(tensor)
            range_of[id(quantized)] = quantizer
            quantized_inputs[id(tensor)] = quantized
        return quantized_inputs[id(tensor)]

    def call_function(layer, *args, **kwargs):
        args = keras.tree.map_structure(
            lambda t: (
                quantize_input(t) if isinstance(t, keras.KerasTensor) else t
            ),
            args,
        )
        if kwargs.get("mask") is None:
            kwargs.pop("mask", None)  # Image models carry no masks.
        outputs = layer(*args, **kwargs)
        source = clone_to_source[id(layer)]
        if _kind(source) in _SAME_SCALE:
            inherited = [
                range_of.get(id(t))
                for t in keras.tree.flatten(args)
                if isinstance(t, keras.KerasTensor)
            ]
            for out in keras.tree.flatten(outputs):
                range_of[id(out)] = inherited[0] if inherited else None
            # Zero padding too: PyTorch numerics pad an image twice alike
            # (the stem conv's and the reinforcement pool's); the converter
            # merges the two PADs and, without a marked output, left the
            # conv reading a dequantized copy in float.
            pools = ("AveragePooling2D", "MaxPooling2D", "ZeroPadding2D")
            if _kind(source) in pools and inherited[0] is not None:
                # TFLite's int8 pools keep their input's scale, and the
                # converter cannot requantize after them on its own: a
                # quantizer sharing the input's range marks the output so
                # later ops (e.g. a concat) requantize from there. Without
                # it, a max-pool read by an average pool and a conv (DiCE's
                # strided unit after the stem) left that conv in float.
                tied = ActivationQuantizer(name=f"{layer.name}_quant")
                tied.tie_to(inherited[0])
                outputs = tied(outputs)
                range_of[id(outputs)] = inherited[0]
            return outputs
        if not _needs_output_quantizer(graph, source, folded_bn):
            return outputs
        fixed_range = FIXED_RANGES.get(
            "softmax"
            if _kind(source) == "Softmax"
            else _activation_name(source)
        )

        def quantize(out, suffix):
            quantizer = ActivationQuantizer(
                fixed_range=fixed_range, name=f"{layer.name}_quant{suffix}"
            )
            quantized = quantizer(out)
            range_of[id(quantized)] = quantizer
            return quantized

        if isinstance(outputs, (list, tuple)):
            return type(outputs)(
                quantize(out, i) for i, out in enumerate(outputs)
            )
        return quantize(outputs, "")

    inputs = keras.tree.map_structure(
        lambda x: keras.Input(batch_shape=x.shape, dtype=x.dtype, name=x.name),
        model.input,
    )
    input_ids = {id(t) for t in keras.tree.flatten(inputs)}
    outputs = model._run_through_graph(
        inputs, operation_fn=clone_function, call_fn=call_function
    )
    qat = QuantizedModel(
        inputs,
        outputs,
        float_config=keras.saving.serialize_keras_object(model),
        name=name or model.name,
    )
    _copy_weights(model, qat, folds)
    if representative_data is not None:
        calibrate(qat, representative_data, steps=steps)
    return qat


def _batches(data, steps):
    """Yields numpy input batches from arrays, iterables, datasets, callables."""
    import numpy as np

    if callable(data) and not hasattr(data, "__len__"):
        data = data()
    if isinstance(data, np.ndarray):
        data = [data]
    if hasattr(data, "as_numpy_iterator"):
        data = data.as_numpy_iterator()
    count = 0
    for batch in data:
        if isinstance(batch, (tuple, list)) and not isinstance(
            batch, np.ndarray
        ):
            batch = batch[0]  # (x, y) pairs: keep x.
        if isinstance(batch, dict):
            raise TypeError(
                "`representative_data` yields dicts; yield input arrays or "
                "(x, y) pairs."
            )
        yield np.asarray(batch, dtype="float32")
        count += 1
        if steps is not None and count >= steps:
            return
    if count == 0:
        raise ValueError("`representative_data` yielded no batches.")


def calibrate(model, representative_data, *, steps=None):
    """Sets activation ranges from data (post-training quantization).

    Args:
        model: a float model (it is made quantization-aware first) or a
            `QuantizedModel` (its ranges are reset and recalibrated).
        representative_data: array of inputs, iterable of input batches or
            (x, y) pairs, a `tf.data.Dataset`, or a callable returning one.
        steps: int. Number of batches to use; all if None.

    Returns:
        The calibrated `QuantizedModel`: exporting it without `fit` gives the
        post-training-quantized int8 model, so PTQ and QAT compare directly.
    """
    if not isinstance(model, QuantizedModel):
        return quantize_aware(model, representative_data, steps=steps)
    if steps is not None and (not isinstance(steps, int) or steps < 1):
        raise ValueError(
            f"`steps` must be a positive int. Received: steps={steps}"
        )
    layers = quantizers(model)
    for quantizer in layers:
        quantizer.observed.assign(0.0)
        quantizer.calibrating = True
    try:
        for batch in _batches(representative_data, steps):
            model(batch, training=False)
    finally:
        for quantizer in layers:
            quantizer.calibrating = False
    return model
