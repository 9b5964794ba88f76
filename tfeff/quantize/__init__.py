"""Quantization-aware training and post-training calibration (int8).

`quantize_aware(model)` returns a fake-quant twin of any tfeff model (batch
norm folded, per-channel int8 weights, tracked activation ranges) that trains
with `fit` and converts to a fully int8 TFLite model with
`tfeff.export.to_tflite(qat_model, path, mode="int8")`. `calibrate(model,
data)` sets the ranges from data instead (post-training quantization).
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

from tfeff._lazy import register_serializables
from tfeff.quantize.layers import ActivationQuantizer
from tfeff.quantize.layers import ChannelAffine
from tfeff.quantize.layers import FoldedConv
from tfeff.quantize.layers import QuantizedBatchNormalization
from tfeff.quantize.qat import QuantizedModel
from tfeff.quantize.qat import calibrate
from tfeff.quantize.qat import quantize_aware
from tfeff.quantize.qat import quantizers

__all__ = [
    "ActivationQuantizer",
    "ChannelAffine",
    "FoldedConv",
    "QuantizedModel",
    "QuantizedBatchNormalization",
    "calibrate",
    "quantize_aware",
    "quantizers",
]

register_serializables(ignore=(__name__,))
