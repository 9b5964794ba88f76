"""Architecture search: the space, the budget and the sampler.

Candidates are arch strings costed with `estimate_cost` at the deployment
resolution before anything is built; over-budget candidates are redrawn,
never trained.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)
from tfeff._lazy import register_serializables
from tfeff.nas.budget import BudgetExceededError
from tfeff.nas.budget import Candidate
from tfeff.nas.budget import check_budget
from tfeff.nas.budget import sample_within_budget
from tfeff.nas.space import KINDS
from tfeff.nas.space import SearchSpace
from tfeff.nas.space import baseline_values

__all__ = [
    "KINDS",
    "BudgetExceededError",
    "Candidate",
    "SearchSpace",
    "baseline_values",
    "check_budget",
    "sample_within_budget",
]

register_serializables(ignore=(__name__,))
