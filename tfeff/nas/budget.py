"""Budgeted sampling: candidates over the MACs budget are never proposed.

The budget is a hard constraint checked analytically before anything is
built (OFA style; ../shared/reference/deployment.md §4.1): the sampler
redraws until a valid candidate fits, instead of handing keras-tuner a
trial to fail (failed trials abort a search after a few in a row, §4.2).
"""

import dataclasses

from tfeff.profile.budget import format_macs
from tfeff.profile.cost import estimate_cost
from tfeff.spec.notation import encode_arch
from tfeff.spec.scaling import CompoundScaling
from tfeff.spec.scaling import scale_arch
from tfeff.spec.validate import validate_arch


@dataclasses.dataclass(frozen=True)
class Budget:
    """What a search may spend: one value from parsing to the report.

    Attributes:
        macs: int or None. Multiply-adds at `resolution`; None: no MACs
            budget.
        latency_ms: float or None. Measured latency on this host; None: no
            latency budget.
        resolution: int. Deployment resolution the costs are taken at.
        num_classes: int or None. Classifier width in the cost; None while
            the data set is not loaded: checks then cost the backbone and
            head alone, a lower bound of every candidate's cost.
    """

    macs: int = None
    latency_ms: float = None
    resolution: int = 224
    num_classes: int = None

    def __post_init__(self):
        if self.macs is not None and (
            isinstance(self.macs, bool)
            or not isinstance(self.macs, int)
            or self.macs <= 0
        ):
            raise ValueError(
                f"`macs` must be a positive int or None. Received: macs={self.macs!r}"
            )
        if self.latency_ms is not None and not (
            isinstance(self.latency_ms, (int, float))
            and not isinstance(self.latency_ms, bool)
            and self.latency_ms > 0
        ):
            raise ValueError(
                "`latency_ms` must be a number > 0 or None. Received: "
                f"latency_ms={self.latency_ms!r}"
            )
        if self.macs is None and self.latency_ms is None:
            raise ValueError("A budget needs MACs, a latency or both.")

    def with_classes(self, num_classes):
        """The same budget, costed with a classifier of `num_classes`."""
        return dataclasses.replace(self, num_classes=num_classes)

    def describe(self):
        """`"400.0 M MACs (multiply-adds) at 224x224"`, or "no MACs budget"."""
        if self.macs is None:
            return "no MACs budget"
        side = self.resolution
        return f"{format_macs(self.macs)} at {side}x{side}"

    def to_json(self):
        return {
            "macs": self.macs,
            "text": self.describe(),
            "latency_ms": self.latency_ms,
            "resolution": self.resolution,
            "num_classes": self.num_classes,
        }


def smallest_candidate(space):
    """The cheapest corner of the space (fewest repeats, narrowest, ...)."""
    values = {}
    for name, options in space.choices().items():
        if name.endswith("_kind") or name == "head":
            continue
        values[name] = min(options)
    best = None
    for kind in space.kinds:
        for head in space.choices()["head"]:
            trial = dict(values, head=head)
            trial.update(
                {
                    name: kind
                    for name in space.choices()
                    if name.endswith("_kind")
                }
            )
            try:
                macs = space.cost(trial).macs
            except ValueError:
                continue
            if best is None or macs < best[1]:
                best = (trial, macs)
    return best


class BudgetExceededError(ValueError):
    """No candidate of the space fits the budget."""


def check_budget(space, budget_macs):
    """Raises `BudgetExceededError` before any work if nothing can fit."""
    if not isinstance(budget_macs, int) or budget_macs <= 0:
        raise ValueError(
            f"`budget_macs` must be a positive int. Received: {budget_macs!r}"
        )
    smallest = smallest_candidate(space)
    if smallest is None or smallest[1] > budget_macs:
        cheapest = (
            "none is valid" if smallest is None else format_macs(smallest[1])
        )
        raise BudgetExceededError(
            f"No candidate of the space fits a budget of {format_macs(budget_macs)} "
            f"at resolution {space.resolution}: the "
            f"cheapest costs {cheapest}. Raise --budget or lower --resolution."
        )


def sample_within_budget(
    space,
    rng,
    budget_macs,
    *,
    propose=None,
    accept=None,
    max_draws=2000,
    rejected=None,
):
    """Draws candidates until a valid one costs at most `budget_macs`.

    Args:
        space: `SearchSpace`.
        rng: `random.Random`; the same seed gives the same sequence.
        budget_macs: int or None. MACs (multiply-adds) at
            `space.resolution`; None for no MACs budget.
        propose: optional callable `rng -> values` (e.g. a mutation of a
            parent); defaults to `space.sample`.
        accept: optional callable `(candidate) -> dict, str or None`,
            asked after the MACs check: a dict accepts the draw and becomes
            `Candidate.extras`; a str (why: "tried already", "over the
            latency budget") or None refuses it.
        max_draws: int. Draws before giving up.
        rejected: optional dict, reason -> count, updated with every
            refused draw ("invalid", "over the MACs budget", `accept`'s
            reasons), for the progress line.

    Returns:
        `Candidate`.

    Raises:
        BudgetExceededError: nothing within `max_draws` fits.
    """
    propose = propose or space.sample
    rejected = {} if rejected is None else rejected

    def refuse(reason):
        rejected[reason] = rejected.get(reason, 0) + 1

    for _ in range(max_draws):
        values = propose(rng)
        try:
            candidate = space.candidate(values)
        except ValueError:
            # An invalid combination (e.g. an EESP that cannot widen).
            refuse("invalid")
            continue
        if budget_macs is not None and candidate.macs > budget_macs:
            refuse("over the MACs budget")
            continue
        extras = {} if accept is None else accept(candidate)
        if not isinstance(extras, dict):
            refuse(extras if isinstance(extras, str) else "refused")
            continue
        return dataclasses.replace(candidate, extras=extras)
    budget = "the budget" if budget_macs is None else format_macs(budget_macs)
    reasons = ", ".join(f"{n} {why}" for why, n in rejected.items())
    raise BudgetExceededError(
        f"No new valid candidate within {budget} in {max_draws} draws "
        f"({reasons})."
    )


def widen_to_budget(
    arch, budget_macs, resolution, num_classes, *, base_scaling=None
):
    """`arch` widened by the largest channel multiplier (1.00, 1.01, ...)
    whose cost at `resolution` fits `budget_macs`.

    A searched candidate rarely spends the whole budget; widened like the
    published baselines it is compared with (each scaled to the budget by a
    channel multiplier, EfficientNet's width scaling), it competes at the
    same cost. Multipliers that make an invalid network (an EESP width that
    stops dividing into its groups) are skipped.

    Args:
        arch: arch string or ArchSpec.
        budget_macs: int. MACs (multiply-adds) at `resolution`.
        resolution: int. Deployment resolution.
        num_classes: int. Classifier width included in the cost.
        base_scaling: `CompoundScaling` whose channel multiplier is
            replaced (a family's divisor and stem/head rules); defaults to
            `CompoundScaling()`.

    Returns:
        (multiplier, arch string, CostReport), or None when even `arch`
        itself does not fit.
    """
    base_scaling = base_scaling or CompoundScaling()
    best = None
    for step in range(100, 301):
        multiplier = step / 100
        scaling = dataclasses.replace(
            base_scaling, channel_multiplier=multiplier
        )
        try:
            spec = validate_arch(scale_arch(arch, scaling))
            cost = estimate_cost(spec, resolution, num_classes=num_classes)
        except ValueError:
            continue
        if cost.macs <= budget_macs:
            best = (multiplier, encode_arch(spec), cost)
        elif best is not None or multiplier > 1.0:
            break
    return best
