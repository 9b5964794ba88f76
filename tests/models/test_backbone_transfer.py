"""A pretrained backbone into a detector or segmenter: every backbone
variable the task uses is copied, the heads stay fresh, and a backbone of
another architecture is refused rather than half loaded."""

import keras
import numpy as np
import pytest

import tfeff
from tfeff.models import load_backbone_weights
from tfeff.models.segmentation import SemanticSegmenter
from tfeff.models.ssd import SSDDetector
from tfeff.train.recipe import start_backbone

pytest.importorskip("tensorflow")


def _trained_looking_backbone(name, shape):
    """A backbone whose variables are all non-default, so a copy shows."""
    keras.utils.set_random_seed(5)
    backbone = tfeff.create_model(name, include_top=False, input_shape=shape)
    rng = np.random.default_rng(0)
    for variable in backbone.weights:
        value = rng.uniform(0.5, 1.5, tuple(variable.shape))
        variable.assign(value.astype(variable.dtype))
    return backbone


def _values(model):
    return {v.path: np.asarray(v) for v in model.weights}


@pytest.mark.parametrize("task", ["ssd", "segmenter"])
def test_the_task_model_gets_every_backbone_variable_it_uses(task):
    backbone = _trained_looking_backbone("test_efficientnet", (64, 64, 3))
    variant = tfeff.models.get_variant("test_efficientnet")
    if task == "ssd":
        model = SSDDetector(backbone.arch, num_classes=3, input_size=64)
    else:
        model = SemanticSegmenter(
            backbone.arch,
            num_classes=6,
            decoder="espnetv2",
            input_shape=(64, 64, 3),
            mean=variant.mean,
            std=variant.std,
        )
    before = _values(model)
    counts = load_backbone_weights(model, backbone)
    source, after = _values(backbone), _values(model)
    copied = [path for path in after if path in source]
    assert counts["loaded"] == len(copied) > 20
    assert counts["fresh"] == len(after) - len(copied) > 0
    assert counts["unused"] == len(source) - len(copied)
    for path in copied:
        np.testing.assert_array_equal(after[path], source[path])
    for path in set(after) - set(source):  # the heads: untouched
        np.testing.assert_array_equal(after[path], before[path])
    if task == "segmenter":
        assert counts["unused"] > 0  # the head conv past its deepest level


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "test_efficientnet_lite",
            "does not fit .* backbone.s variables differ",
        ),
        ("test_mobile_blocks", "other numerics than the model"),
    ],
)
def test_a_backbone_of_another_architecture_is_refused(source, message):
    backbone = _trained_looking_backbone(source, (64, 64, 3))
    other = tfeff.models.get_variant("test_efficientnet").resolved_arch()
    model = SSDDetector(other, num_classes=3, input_size=64)
    before = _values(model)
    with pytest.raises(ValueError, match=message):
        load_backbone_weights(model, backbone)
    after = _values(model)
    for path, value in before.items():  # nothing was half loaded
        np.testing.assert_array_equal(after[path], value)


def test_start_backbone_loads_a_weights_file(tmp_path):
    backbone = _trained_looking_backbone("test_efficientnet", (64, 64, 3))
    path = str(tmp_path / "backbone.weights.h5")
    backbone.save_weights(path)
    config = {"model": "test_efficientnet", "weights": path}
    arch, pretrained = start_backbone(config, (64, 64, 3))
    assert arch == pretrained.arch
    for got, want in zip(pretrained.weights, backbone.weights):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    arch, none = start_backbone(
        {"model": "test_efficientnet", "weights": ""}, (64, 64, 3)
    )
    assert none is None
    assert arch == tfeff.models.get_variant("test_efficientnet").resolved_arch()
