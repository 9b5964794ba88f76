"""Architecture search: the space, the budget and the sampler.

Candidates are arch strings costed with `estimate_cost` at the deployment
resolution before anything is built; over-budget candidates are redrawn,
never trained.

Names import on first use (`tfeff/_lazy.py`), so `tfeff-search --help`
starts no TensorFlow.
"""

from tfeff._lazy import lazy_exports

_SUBMODULES = (
    "budget",
    "cli",
    "latency",
    "oracle",
    "pipeline",
    "progress",
    "proxy",
    "report",
    "space",
    "tuner",
)
_EXPORTS = {
    "Budget": "tfeff.nas.budget",
    "BudgetExceededError": "tfeff.nas.budget",
    "check_budget": "tfeff.nas.budget",
    "sample_within_budget": "tfeff.nas.budget",
    "KINDS": "tfeff.nas.space",
    "Candidate": "tfeff.nas.space",
    "SearchSpace": "tfeff.nas.space",
    "baseline_values": "tfeff.nas.space",
    "budget": "tfeff.nas.budget",
    "cli": "tfeff.nas.cli",
    "latency": "tfeff.nas.latency",
    "oracle": "tfeff.nas.oracle",
    "pipeline": "tfeff.nas.pipeline",
    "progress": "tfeff.nas.progress",
    "proxy": "tfeff.nas.proxy",
    "report": "tfeff.nas.report",
    "space": "tfeff.nas.space",
    "tuner": "tfeff.nas.tuner",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
__all__ = sorted(set(_EXPORTS) - set(_SUBMODULES))
