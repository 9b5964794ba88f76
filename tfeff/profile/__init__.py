"""Cost of architectures: analytic (`estimate_cost`) and graph-derived."""

from tfeff.profile.budget import format_macs
from tfeff.profile.budget import parse_budget
from tfeff.profile.cost import CostReport
from tfeff.profile.cost import CostRow
from tfeff.profile.cost import estimate_cost
from tfeff.profile.count import count_macs
from tfeff.profile.count import layer_macs
from tfeff.profile.latency import measure_model_latency
from tfeff.profile.latency import measure_tflite_latency

__all__ = [
    "CostReport",
    "CostRow",
    "count_macs",
    "estimate_cost",
    "format_macs",
    "layer_macs",
    "measure_model_latency",
    "measure_tflite_latency",
    "parse_budget",
]
