"""Op-by-op comparison of an int8 TFLite file with the QAT model it came from.

End-to-end differences on random weights say little about the kernels: a
deep random network amplifies a one-step rounding difference at its input
into tens of steps at its output, and whether the 5-class softmax then moves
depends on how saturated it is. What the export promises is local: each int8
op, given the int8 tensor its predecessor produced, computes what its
fake-quant simulation computes, to about one int8 step. This module measures
that, for every quantizer of a `QuantizedModel`.

A quantizer `X_quant` is matched to the TFLite tensor of layer `X` by name
and by its shape and scale: the tensor must be int8 per-tensor with exactly
the scale the quantizer's range gives, the last one in execution order when
the layer became several ops; quantizers without such a tensor (ranges the
converter merged) are left out and counted.
"""

import re

import keras
import numpy as np

from tfeff.quantize.layers import ActivationQuantizer


def _quantizer_scale(quantizer):
    source = quantizer if quantizer.tied is None else quantizer.tied
    if quantizer.fixed_range is not None:
        low, high = quantizer.fixed_range
    else:
        low = float(source.range_min.numpy())
        high = max(float(source.range_max.numpy()), low + 1e-6)
    return (high - low) / 255.0


def _constant_zero(quantizer):
    source = quantizer if quantizer.tied is None else quantizer.tied
    if quantizer.fixed_range is not None:
        return False
    width = float(source.range_max.numpy()) - float(source.range_min.numpy())
    return width <= 1e-6


def _int8_tensors(interpreter):
    """(name, scale, value) of every per-tensor int8 tensor an op produces,
    in the order the ops run."""
    produced = [
        index
        for op in interpreter._get_ops_details()
        for index in op["outputs"]
    ]
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    tensors = []
    for detail in (details[index] for index in produced):
        params = detail["quantization_parameters"]
        if detail["dtype"] != np.int8 or len(params["scales"]) != 1:
            continue
        try:
            value = interpreter.get_tensor(detail["index"])
        except ValueError:  # Freed by the interpreter: not an activation.
            continue
        scale = float(params["scales"][0])
        zero = int(params["zero_points"][0])
        tensors.append(
            (detail["name"], scale, (value.astype(np.float32) - zero) * scale)
        )
    return tensors


def _inbound(layer):
    """(layer, output index) of each tensor `layer` was first called on."""
    return [
        (t._keras_history[0], t._keras_history[2])
        for t in layer._inbound_nodes[0].input_tensors
    ]


def local_steps(tflite_path, qat_model, image):
    """Per quantizer: the local difference in int8 steps of its tensor.

    Args:
        tflite_path: the int8 file `to_tflite(qat_model, ..., mode="int8")`
            wrote.
        qat_model: the `QuantizedModel`.
        image: one input batch (its first sample is used).

    Returns:
        (steps, unmatched, rescaled): `steps` maps a layer name to the largest
        difference, in steps of its int8 scale per int8 rounding on the way
        (1 for most ops, 2 for a conv before a swish, whose pre-activation
        is rounded too), between the TFLite tensor
        and the Keras layers between it and its nearest quantized
        ancestors (through splits and merges) applied to those ancestors'
        TFLite tensors.
        `unmatched` counts the quantizers with no TFLite tensor at their
        scale; `rescaled` maps the layers whose own tensor is in the file at
        another scale to the ratio (file / simulation): the converter
        overrode the simulated range.
    """
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_litert.interpreter import OpResolverType

    interpreter = Interpreter(
        model_path=str(tflite_path),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        ),
    )
    sample = np.asarray(image[:1], dtype=np.float32)
    entry = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(entry["index"], sample.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], sample)
    interpreter.invoke()
    tensors = _int8_tensors(interpreter)

    def tflite_value(quantizer, names):
        scale = _quantizer_scale(quantizer)
        shape = tuple(quantizer.output.shape[1:])
        for base in names:
            pattern = re.compile(
                r"(^|[/;])" + re.escape(base) + r"(_\d+)?([/;]|$)"
            )
            named = [
                (tensor_scale, value)
                for name, tensor_scale, value in tensors
                if pattern.search(name) and value.shape[1:] == shape
            ]
            found = [
                value
                for tensor_scale, value in named
                if abs(tensor_scale - scale) <= 1e-6 * scale
                # A tensor that was 0 throughout calibration (a tile that
                # sees only padding, a dead ReLU) has a range of width 1e-6;
                # the converter widens such a range by half.
                or _constant_zero(quantizer)
            ]
            if found:
                # A layer lowered to several ops (a sum of tiles is a chain
                # of ADDs with one range) outputs what its last op produces.
                return found[-1], scale
            if named and base == quantizer.name.removesuffix("_quant"):
                # The layer's own tensor, at a scale the simulation lacks.
                rescaled[quantizer.name.removesuffix("_quant")] = (
                    named[-1][0] / scale
                )
        return None

    def source_chain(quantizer):
        """The layers between `quantizer` and the quantizer before it."""
        chain, previous = [], _inbound(quantizer)
        while len(previous) == 1 and not isinstance(
            previous[0][0], (ActivationQuantizer, keras.layers.InputLayer)
        ):
            chain.append(previous[0])
            previous = _inbound(previous[0][0])
        return chain, previous

    def names(quantizer, chain):
        # A folded batch norm's tensor carries its conv's name in TFLite.
        return [quantizer.name.removesuffix("_quant")] + [
            layer.name for layer, _ in chain
        ]

    values = {}
    rescaled = {}

    def quantized(quantizer):
        """The TFLite tensor of `quantizer`, or None."""
        if quantizer.name not in values:
            values[quantizer.name] = tflite_value(
                quantizer, names(quantizer, source_chain(quantizer)[0])
            )
        return values[quantizer.name]

    def evaluate(layer, index):
        """`layer`'s output `index` from its quantized ancestors' tensors,
        and how many int8 roundings lie between them and it.

        A quantized tensor missing from the file (a PAD the converter fused
        into the conv after it) is simulated from its own inputs, so the op
        compared is then the fused one, as in the file."""
        if isinstance(layer, keras.layers.InputLayer):
            return sample, 0
        if isinstance(layer, ActivationQuantizer):
            value = quantized(layer)
            if value is not None:
                return value[0], 0
        evaluated = [evaluate(*source) for source in _inbound(layer)]
        inputs = [value for value, _ in evaluated]
        roundings = max(count for _, count in evaluated)
        if isinstance(layer, ActivationQuantizer) or (
            getattr(layer, "pre_activation_quantizer", None) is not None
        ):
            roundings += 1  # A conv before a swish rounds its output too.
        y = layer(inputs if len(inputs) > 1 else inputs[0], training=False)
        return (y[index] if isinstance(y, (list, tuple)) else y), roundings

    steps = {}
    unmatched = 0
    for quantizer in qat_model.layers:
        if not isinstance(quantizer, ActivationQuantizer):
            continue
        mine = quantized(quantizer)
        if mine is None:
            unmatched += 1
            continue
        x, roundings = evaluate(*_inbound(quantizer)[0])
        x = np.asarray(quantizer(x, training=False))
        # In steps per int8 rounding: one step each (the same real value
        # rounded on either side of a half step) is what agreement means.
        steps[quantizer.name.removesuffix("_quant")] = float(
            np.abs(x - mine[0]).max() / mine[1] / (roundings + 1)
        )
    return steps, unmatched, rescaled
