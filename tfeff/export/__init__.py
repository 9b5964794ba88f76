"""Export to TFLite (float32, float16, dynamic, int8), the EdgeTPU, a
SavedModel folder and ONNX.

TensorFlow-only code; the models themselves stay backend-agnostic.

Names import on first use (`tfeff/_lazy.py`), so `tfeff-export --help`
starts no TensorFlow.
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = ("cli", "detection", "edgetpu", "formats", "metadata", "tflite")
_EXPORTS = {
    "EdgeTPUReport": "tfeff.export.edgetpu",
    "to_edgetpu": "tfeff.export.edgetpu",
    "edgetpu_analyze": ("tfeff.export.edgetpu", "analyze"),
    "to_onnx": "tfeff.export.formats",
    "to_saved_model": "tfeff.export.formats",
    "TFLiteRunner": "tfeff.export.tflite",
    "read_metadata": "tfeff.export.tflite",
    "to_tflite": "tfeff.export.tflite",
    "verify": "tfeff.export.tflite",
    "cli": "tfeff.export.cli",
    "detection": "tfeff.export.detection",
    "edgetpu": "tfeff.export.edgetpu",
    "formats": "tfeff.export.formats",
    "metadata": "tfeff.export.metadata",
    "tflite": "tfeff.export.tflite",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = sorted(set(_EXPORTS) - set(_SUBMODULES))
