"""Export to TFLite (float32, float16, dynamic, int8), the EdgeTPU, a
SavedModel folder and ONNX.

TensorFlow-only code; the models themselves stay backend-agnostic.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)
from tfeff._lazy import register_serializables
from tfeff.export.edgetpu import EdgeTPUReport
from tfeff.export.edgetpu import analyze as edgetpu_analyze
from tfeff.export.edgetpu import to_edgetpu
from tfeff.export.formats import to_onnx
from tfeff.export.formats import to_saved_model
from tfeff.export.tflite import TFLiteRunner
from tfeff.export.tflite import read_metadata
from tfeff.export.tflite import to_tflite
from tfeff.export.tflite import verify

__all__ = [
    "EdgeTPUReport",
    "TFLiteRunner",
    "edgetpu_analyze",
    "read_metadata",
    "to_edgetpu",
    "to_onnx",
    "to_saved_model",
    "to_tflite",
    "verify",
]

register_serializables(ignore=(__name__,))
