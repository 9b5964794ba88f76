"""EfficientNet against keras.applications: exact trainable parameter counts.

keras.applications is installed, so B0–B7 are compared directly (B4–B7
behind --run-large). Lite counts are pinned in tests/profile/test_cost.py
against architectures.md §2.
"""

import keras
import pytest

import tfeff
from tests.harness import trainable_count

SIZES = [0, 1, 2, 3] + [
    pytest.param(s, marks=pytest.mark.large) for s in (4, 5, 6, 7)
]


@pytest.mark.parametrize("size", SIZES)
def test_trainable_params_equal_keras_applications(size):
    ours = getattr(tfeff.applications, f"EfficientNetB{size}")(weights=None)
    theirs = getattr(keras.applications, f"EfficientNetB{size}")(weights=None)
    assert trainable_count(ours) == trainable_count(theirs)
    assert (
        trainable_count(ours)
        == tfeff.estimate_cost(f"efficientnet_b{size}").params
    )


def test_b0_count_macs_matches_estimate():
    model = tfeff.applications.EfficientNetB0(weights=None)
    report = tfeff.estimate_cost("efficientnet_b0")
    assert tfeff.profile.count_macs(model) == report.macs


def test_drop_path_rates_rise_linearly():
    model = tfeff.create_model("efficientnet_b0", drop_path_rate=0.2)
    rates = [
        layer.rate
        for layer in model.layers
        if layer.name.endswith("_drop_path")
    ]
    # keras.applications: rate * block_index / num_blocks, on residual blocks.
    assert rates == sorted(rates) and 0 < rates[0] < rates[-1] < 0.2


def test_layer_names_follow_the_vocabulary():
    model = tfeff.create_model("efficientnet_b0")
    names = {layer.name for layer in model.layers}
    assert {
        "stem_conv",
        "stage2_block1_expand_conv",
        "stage2_block1_se_reduce",
        "stage7_block1_project_bn",
        "head_conv",
        "predictions",
    } <= names
