"""The search space decodes to valid archs; the budget is never exceeded."""

import random

import pytest

import tfeff
from tfeff.nas import BudgetExceededError
from tfeff.nas import SearchSpace
from tfeff.nas import baseline_values
from tfeff.nas import check_budget
from tfeff.nas import sample_within_budget
from tfeff.profile.budget import parse_budget


def test_every_proposed_candidate_respects_the_budget():
    space = SearchSpace(resolution=224, num_classes=10)
    budget = parse_budget("0.2GFLOPs")
    rng = random.Random(0)
    kinds = set()
    for _ in range(60):
        candidate = sample_within_budget(space, rng, budget)
        assert candidate.macs <= budget
        # The recorded cost is the arch string's cost at the resolution.
        report = tfeff.estimate_cost(candidate.arch, 224, num_classes=10)
        assert (
            report.macs == candidate.macs and report.params == candidate.params
        )
        kinds.update(row["kind"] for row in space.describe(candidate.values))
    assert kinds == {"mbconv", "mixconv", "ghost", "eesp"}
    heads = {
        sample_within_budget(space, rng, budget).values["head"]
        for _ in range(20)
    }
    assert heads == {"conv", "fc"}


def test_same_seed_same_candidates():
    space = SearchSpace(resolution=128)
    first = [
        sample_within_budget(space, random.Random(7), 10**9).arch
        for _ in range(3)
    ]
    rng_a, rng_b = random.Random(3), random.Random(3)
    a = [sample_within_budget(space, rng_a, 10**9).arch for _ in range(5)]
    b = [sample_within_budget(space, rng_b, 10**9).arch for _ in range(5)]
    assert a == b and len(set(first)) == 1


def test_b0_style_baseline_costs_like_b0():
    space = SearchSpace(kinds=("mbconv",), resolution=224, num_classes=1000)
    values = baseline_values(space, "mbconv")
    # The skeleton with B0's choices is EfficientNet-B0: 385.8M MACs for
    # 1000 classes (tests/profile pins it against the reference count).
    assert (
        space.cost(values).macs == tfeff.estimate_cost("efficientnet_b0").macs
    )


@pytest.mark.parametrize(
    "kind, head",
    [("mbconv", "conv"), ("mixconv", "fc"), ("ghost", "fc"), ("eesp", "conv")],
)
def test_each_kind_builds_and_matches_its_cost(kind, head):
    space = SearchSpace(kinds=(kind,), resolution=64, num_classes=10)
    values = sample_within_budget(space, random.Random(1), 10**9).values
    values["head"] = head
    # GhostNet's last stage (conv 960, pool, dense 1280) or B0's (conv 1280).
    assert space.arch(values).endswith(
        "head_k1_c960 | fc_c1280_nre" if head == "fc" else "head_k1_c1280"
    )
    model = tfeff.build_image_classifier(
        space.arch(values), num_classes=10, input_shape=(64, 64, 3)
    )
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    assert trainable == space.cost(values).params


def test_impossible_budget_is_a_clear_error_before_any_work():
    space = SearchSpace(resolution=224)
    with pytest.raises(BudgetExceededError, match="cheapest costs"):
        check_budget(space, parse_budget("1M"))
    check_budget(space, parse_budget("0.4GFLOPs"))


def test_bad_space_arguments():
    with pytest.raises(ValueError, match="kinds"):
        SearchSpace(kinds=("resnet",))
    with pytest.raises(ValueError, match="resolution"):
        SearchSpace(resolution=8)
    with pytest.raises(ValueError, match="skeleton"):
        SearchSpace(skeleton="vgg")


def test_widen_to_budget_spends_the_budget_like_the_baselines():
    """The retrain widens a searched candidate by the largest channel
    multiplier within the budget, as the published baselines are scaled."""
    from tfeff.nas.budget import widen_to_budget

    space = SearchSpace(resolution=224, num_classes=10)
    values = baseline_values(space, "ghost")
    arch = space.arch(values)
    base = space.cost(values).macs
    budget = int(base * 1.3)
    multiplier, widened, cost = widen_to_budget(arch, budget, 224, 10)
    assert multiplier > 1.0 and base < cost.macs <= budget
    assert tfeff.estimate_cost(widened, 224, num_classes=10).macs == cost.macs
    # One step wider no longer fits.
    wider = tfeff.scale_arch(
        arch, tfeff.CompoundScaling(channel_multiplier=multiplier + 0.01)
    )
    assert tfeff.estimate_cost(wider, 224, num_classes=10).macs > budget
    # Already over the budget: nothing to widen.
    assert widen_to_budget(arch, base - 1, 224, 10) is None
