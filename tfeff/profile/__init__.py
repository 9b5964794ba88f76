"""Cost of architectures: analytic (`estimate_cost`, pure Python) and
graph-derived (`count_macs`, measured latency; Keras and TensorFlow).

Names import on first use (`tfeff/_lazy.py`).
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = ("budget", "cli", "cost", "count", "latency")
_EXPORTS = {
    "format_macs": "tfeff.profile.budget",
    "parse_budget": "tfeff.profile.budget",
    "CostReport": "tfeff.profile.cost",
    "CostRow": "tfeff.profile.cost",
    "estimate_cost": "tfeff.profile.cost",
    "count_macs": "tfeff.profile.count",
    "layer_macs": "tfeff.profile.count",
    "measure_model_latency": "tfeff.profile.latency",
    "measure_tflite_latency": "tfeff.profile.latency",
    "budget": "tfeff.profile.budget",
    "cli": "tfeff.profile.cli",
    "cost": "tfeff.profile.cost",
    "count": "tfeff.profile.count",
    "latency": "tfeff.profile.latency",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = sorted(set(_EXPORTS) - set(_SUBMODULES))
