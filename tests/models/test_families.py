"""The other families: exact counts where Keras has the model, arguments,
errors, compound scaling."""

import keras
import numpy as np
import pytest

import tfeff
from tests.harness import random_images
from tests.harness import trainable_count


@pytest.mark.parametrize("alpha", [0.35, 0.5, 0.75, 1.0, 1.3, 1.4])
def test_mobilenetv2_params_equal_keras_applications(alpha):
    ours = tfeff.applications.MobileNetV2(alpha=alpha)
    theirs = keras.applications.MobileNetV2(alpha=alpha, weights=None)
    assert trainable_count(ours) == trainable_count(theirs)


@pytest.mark.parametrize(
    "constructor, kwargs, argument",
    [
        (tfeff.applications.ESPNetV2, dict(scale=0.75), "scale=0.75"),
        (tfeff.applications.GhostNet, dict(width=0.75), "width=0.75"),
        (tfeff.applications.ShuffleNetV2, dict(width=3.0), "width=3.0"),
        (tfeff.applications.MobileNetV2, dict(alpha=0.6), "alpha=0.6"),
        (
            tfeff.applications.MixNetS,
            dict(channel_multiplier=0),
            "channel_multiplier=0",
        ),
        (
            tfeff.applications.GhostNet,
            dict(channel_multiplier=-0.5),
            "channel_multiplier=-0.5",
        ),
        (
            tfeff.applications.ESPNetV2,
            dict(input_shape=(16, 16, 3)),
            "total stride 32",
        ),
        (
            tfeff.applications.ShuffleNetV2,
            dict(input_shape=(24, 64, 3)),
            "total stride 32",
        ),
    ],
)
def test_unsupported_sizes_are_clear_errors(constructor, kwargs, argument):
    with pytest.raises((ValueError, TypeError)) as info:
        constructor(**kwargs)
    assert argument in str(info.value)


def test_channel_multiplier_uses_the_family_divisor():
    # GhostNet rounds to multiples of 4: 16 * 0.75 = 12 stays 12.
    model = tfeff.applications.GhostNet(
        channel_multiplier=0.75, input_shape=(64, 64, 3)
    )
    assert model.arch.stem.filters == 12
    assert (
        trainable_count(model)
        == tfeff.estimate_cost(model.arch, 64, num_classes=1000).params
    )
    # EfficientNet rounds to 8: 32 * 0.75 = 24.
    assert (
        tfeff.applications.MixNetS(
            channel_multiplier=0.75, input_shape=(64, 64, 3)
        ).arch.stem.filters
        == 16
    )


def test_espnetv2_builds_for_dynamic_sizes():
    # The input reinforcement pools the image log2(stride) times, which
    # must not need static shapes.
    model = tfeff.applications.ESPNetV2(scale=0.5, include_top=False)
    for size in [(64, 64), (96, 128)]:
        out = model.predict(random_images((1, *size, 3)), verbose=0)
        assert out.shape[1:3] == (size[0] // 32, size[1] // 32)


@pytest.mark.parametrize(
    "constructor, kwargs",
    [
        (tfeff.applications.MixNetM, {}),
        (tfeff.applications.GhostNet, dict(width=1.3)),
        (tfeff.applications.ESPNetV2, dict(scale=2.0)),
        (tfeff.applications.ShuffleNetV2, dict(width=0.5)),
        (tfeff.applications.MobileNetV2, dict(alpha=0.75)),
        (tfeff.applications.IGCV3, {}),
        (tfeff.applications.DiCENet, dict(scale=0.75)),
    ],
)
def test_non_square_classifier_and_pyramid(constructor, kwargs):
    model = constructor(input_shape=(96, 64, 3), classes=7, **kwargs)
    out = model.predict(random_images((1, 96, 64, 3)), verbose=0)
    assert out.shape == (1, 7) and np.isfinite(out).all()
    assert sorted(model.pyramid_outputs) == ["P1", "P2", "P3", "P4", "P5"]
    assert [model.pyramid_outputs[f"P{i}"].shape[1] for i in range(1, 6)] == [
        48,
        24,
        12,
        6,
        3,
    ]


def test_compound_scale_any_family():
    base = tfeff.models.get_variant("ghostnet_100")
    same = tfeff.models.compound_scale("ghostnet_100", 0)
    assert same.variant.resolved_arch() == base.resolved_arch()
    assert same.cost.params == tfeff.estimate_cost("ghostnet_100").params
    scaled = tfeff.models.compound_scale("ghostnet_100", 1)
    assert scaled.variant.resolution == 256  # 224 * 1.15 = 257.6 -> 256
    assert scaled.variant.scaling.channel_multiplier == pytest.approx(1.1)
    assert scaled.variant.scaling.repeat_multiplier == pytest.approx(1.2)
    assert scaled.variant.scaling.channel_divisor == 4  # GhostNet's rounding.
    assert scaled.cost.macs > 1.3 * same.cost.macs
    model = tfeff.create_model(scaled.variant)
    assert tuple(model.input.shape) == (None, 256, 256, 3)
    assert trainable_count(model) == scaled.cost.params


def test_compound_scale_errors():
    with pytest.raises(ValueError, match="alpha=0"):
        tfeff.models.compound_scale("mixnet_s", 1, alpha=0)
    with pytest.raises(ValueError, match="Unknown variant"):
        tfeff.models.compound_scale("mixnet_xxl", 1)


def test_list_models_lists_every_published_variant():
    models = tfeff.applications.list_models()
    for family in (
        "efficientnet_b",
        "efficientnet_lite",
        "mixnet",
        "ghostnet",
        "espnetv2",
        "shufflenetv2",
        "mobilenetv2",
        "igcv3",
        "espnet_c",
        "dicenet",
    ):
        assert any(m.startswith(family) for m in models), family
    assert not any(m.startswith("test_") for m in models)


@pytest.mark.parametrize(
    "p, q, reference", [(2, 3, 187_529), (2, 5, 252_297), (2, 8, 349_449)]
)
def test_espnet_c_params_match_reference(p, q, reference):
    # architectures.md §6 [calc]: ESPNet-C with a 1x1 conv classifier to 20
    # classes (256 * 20 weights, no bias) has these parameter counts.
    model = tfeff.applications.ESPNetC(
        p=p, q=q, include_top=False, input_shape=(64, 128, 3)
    )
    assert trainable_count(model) + 256 * 20 == reference
    assert sorted(model.pyramid_outputs) == ["P1", "P2", "P3"]  # Stride 8.
    assert tuple(model.output.shape) == (None, 8, 16, 256)


def test_espnet_c_classifier_and_errors():
    model = tfeff.applications.ESPNetC(
        p=1, q=2, input_shape=(64, 64, 3), classes=5
    )
    out = model.predict(random_images((1, 64, 64, 3)), verbose=0)
    assert out.shape == (1, 5)
    with pytest.raises(ValueError, match="q=0"):
        tfeff.applications.ESPNetC(q=0)


def test_dicenet_is_resolution_specific():
    # DICE convolves along height and width, so DiCENet has a fixed size.
    model = tfeff.applications.DiCENet(scale=0.2, include_top=False)
    assert tuple(model.input.shape) == (None, 224, 224, 3)
    with pytest.raises(ValueError, match="fixed input_shape"):
        tfeff.applications.DiCENet(
            scale=0.2, include_top=False, input_shape=(None, None, 3)
        )
    small = tfeff.applications.DiCENet(
        scale=0.5, input_shape=(64, 96, 3), classes=3
    )
    assert small.predict(random_images((1, 64, 96, 3)), verbose=0).shape == (
        1,
        3,
    )
    assert (
        trainable_count(small)
        == tfeff.estimate_cost(small.arch, (64, 96), num_classes=3).params
    )


def test_channel_multiplier_means_one_thing_everywhere():
    # Issue 21: it multiplied in applications but replaced in create_model.
    # Both now multiply the variant's own (B3: width 1.2, depth 1.4).
    variant = tfeff.models.get_variant("efficientnet_b3")
    expected = variant.resolved_arch(1.2 * 0.5, 1.4 * 0.5)
    by_name = tfeff.create_model(
        "efficientnet_b3",
        channel_multiplier=0.5,
        repeat_multiplier=0.5,
        input_shape=(64, 64, 3),
    )
    by_application = tfeff.applications.EfficientNetB3(
        channel_multiplier=0.5, repeat_multiplier=0.5, input_shape=(64, 64, 3)
    )
    assert by_name.arch == by_application.arch == expected
