"""Segmentation models: reference parameter counts, shapes, round trip, errors."""

import keras
import numpy as np
import pytest

import tfeff
from tests.harness import random_images
from tests.harness import trainable_count
from tfeff.models.segmentation import SemanticSegmenter
from tfeff.train import SegmentationIoU

ESPNET_C_TINY = (
    "stem_k3_s2_c16_npr | imgcat | espstage_r1_c32_img | espstage_r1_c64"
)
ESPNETV2_TINY = (
    "stem_k3_s2_c16_npr | eespdown_c32_b4_rf13 | eespdown_c64_b4_rf11"
    " | eesp_r1_c64_b4_rf9 | eespdown_c128_b4_rf9 | eesp_r1_c128_b4_rf7"
)
TINY = {"espnet": ESPNET_C_TINY, "espnetv2": ESPNETV2_TINY}


@pytest.mark.parametrize(
    "p, q, params",
    # ../shared/reference/architectures.md §6, "ESPNet p=2,q=3 / 5 / 8":
    # 203,189 / 267,957 / 365,109 trainable parameters with 20 classes.
    [(2, 3, 203_189), (2, 5, 267_957), (2, 8, 365_109)],
)
def test_espnet_parameters_match_the_reference(p, q, params):
    model = tfeff.applications.ESPNetSeg(
        p, q, classes=20, input_shape=(64, 128, 3)
    )
    assert trainable_count(model) == params


# ../shared/reference/architectures.md §5.2 (b), EdgeNets model/segmentation/
# model_zoo/README.md: params (M, two decimals) and FLOPs (M multiply-adds)
# of ESPNetv2 segmentation, Cityscapes (20 classes) at 1024x512 and PASCAL
# VOC (21 classes) at 384x384.
ESPNETV2_SEG_PUBLISHED = {
    0.5: (0.08, 597.56, 168.46),
    1.0: (0.23, 1086.59, 306.00),
    1.5: (0.47, 1714.57, 482.63),
    2.0: (0.79, 2699.05, 759.52),
}


@pytest.mark.parametrize("scale", sorted(ESPNETV2_SEG_PUBLISHED))
def test_espnetv2_seg_params_and_macs_match_published(scale):
    params, city_macs, pascal_macs = ESPNETV2_SEG_PUBLISHED[scale]
    for classes, size, published in (
        (20, (512, 1024), city_macs),
        (21, (384, 384), pascal_macs),
    ):
        model = tfeff.applications.ESPNetV2Seg(
            scale, classes=classes, input_shape=size + (3,)
        )
        assert round(trainable_count(model) / 1e6, 2) == params
        # EdgeNets' counter (utilities/flops_compute.py) adds a conv's bias
        # as half a multiply-add per output value; only the classifier has
        # one, at half the input size.
        bias = classes * (size[0] // 2) * (size[1] // 2) / 2
        macs = (tfeff.profile.count_macs(model) + bias) / 1e6
        assert macs == pytest.approx(published, abs=0.006), (classes, size)


def test_espnetv2_decoder_on_other_backbones():
    for variant in ("efficientnet_lite0", "mixnet_s"):
        model = SemanticSegmenter(
            tfeff.models.get_variant(variant).resolved_arch(),
            num_classes=7,
            decoder="espnetv2",
            input_shape=(64, 96, 3),
            aux_output=True,
        )
        assert [tuple(o.shape) for o in model.outputs] == [
            (None, 64, 96, 7)
        ] * 2
        # Cut at P4: the stride-32 stages and the head are not built in.
        assert not [
            layer for layer in model.layers if layer.name.startswith("head")
        ]


def test_grouped_conv_as_depthwise_equals_a_grouped_conv():
    """The skip's 3x3 conv grouped by gcd(in, out) is emitted as strided
    slices + depthwise convs + sum; it must compute Conv2D(groups=...)."""
    from tfeff.models.segmentation import _grouped_conv3x3

    for cin, cout in ((64, 48), (12, 8), (16, 32), (8, 8)):
        groups = np.gcd(cin, cout)
        inputs = keras.Input((6, 5, cin))
        model = keras.Model(
            inputs, _grouped_conv3x3(inputs, cout, int(groups), "g")
        )
        reference = keras.layers.Conv2D(
            cout, 3, padding="same", groups=int(groups), use_bias=False
        )
        reference.build((None, 6, 5, cin))
        kernel = np.asarray(reference.kernel)  # (3, 3, cin/g, cout)
        per_in, per_out = cin // groups, cout // groups
        dws = [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.DepthwiseConv2D)
        ]
        for offset, dw in enumerate(dws):
            # dw channel j (input j * per_in + offset), multiplier k →
            # reference output j * per_out + k, in-group input `offset`.
            weights = kernel[:, :, offset, :].reshape(3, 3, groups, per_out)
            dw.set_weights([weights])
        assert len(dws) == per_in
        x = random_images((2, 6, 5, cin))
        # Run the reference on the CPU-friendly path: XLA compiles groups.
        expected = keras.ops.convert_to_numpy(reference(x))
        np.testing.assert_allclose(model(x), expected, atol=1e-3)


def test_logits_at_input_resolution_and_aux_output():
    model = tfeff.applications.ESPNetSeg(
        2, 3, classes=5, input_shape=(48, 80, 3), aux_output=True
    )
    logits, aux = model.predict(random_images((2, 48, 80, 3)), verbose=0)
    assert logits.shape == (2, 48, 80, 5) and aux.shape == (2, 48, 80, 5)


@pytest.mark.parametrize("decoder", sorted(TINY))
def test_keras_round_trip(tmp_path, decoder):
    keras.utils.set_random_seed(0)
    model = SemanticSegmenter(
        TINY[decoder], num_classes=5, decoder=decoder, input_shape=(32, 32, 3)
    )
    images = random_images((2, 32, 32, 3))
    path = tmp_path / "seg.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, SemanticSegmenter)
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(
        restored.predict(images, verbose=0),
        model.predict(images, verbose=0),
        atol=1e-5,
    )


def test_any_backbone_with_p1_to_p3():
    model = SemanticSegmenter(
        tfeff.models.get_variant("test_efficientnet").resolved_arch(),
        num_classes=6,
        input_shape=(64, 64, 3),
    )
    assert tuple(model.output.shape) == (None, 64, 64, 6)
    # Cut at P3: the backbone's stride-16 and -32 blocks are not built in.
    assert not [
        layer for layer in model.layers if layer.name.startswith("stage5")
    ]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_classes": 1}, ValueError, "num_classes"),
        ({"num_classes": 4}, ValueError, "num_classes >= 5"),
        ({"num_classes": 5, "decoder": "unet"}, ValueError, "decoder"),
        (
            {"num_classes": 5, "input_shape": (36, 32, 3)},
            ValueError,
            "multiples of 8",
        ),
        (
            {"num_classes": 5, "input_shape": (None, None, 3)},
            ValueError,
            "multiples of 8",
        ),
    ],
)
def test_bad_arguments(kwargs, error, message):
    kwargs.setdefault("input_shape", (32, 32, 3))
    with pytest.raises(error, match=message):
        SemanticSegmenter(ESPNET_C_TINY, **kwargs)


def test_decoder_needs_the_pyramid_levels_it_reads():
    with pytest.raises(ValueError, match="pyramid levels"):
        SemanticSegmenter(
            "stem_k3_s2_c8 | mbconv_r1_k3_s2_e3_c16",
            num_classes=5,
            input_shape=(32, 32, 3),
        )


def _shapes_data(count, size=32, seed=0):
    """Images of a bright disc and a dark square on grey; labels 0/1/2."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images = np.full((count, size, size, 3), 128, "float32")
    labels = np.zeros((count, size, size), "int32")
    for i in range(count):
        cy, cx, r = rng.integers(8, size - 8, 2).tolist() + [
            int(rng.integers(4, 8))
        ]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        top, left = rng.integers(0, size - 10, 2)
        square = np.zeros_like(disc)
        square[top : top + 10, left : left + 10] = True
        square &= ~disc
        images[i][disc] = (230, 200, 60)
        images[i][square] = (30, 60, 160)
        labels[i][disc] = 1
        labels[i][square] = 2
    images += rng.normal(0, 8, images.shape).astype("float32")
    return np.clip(images, 0, 255), labels


@pytest.mark.slow
@pytest.mark.parametrize("decoder", sorted(TINY))
def test_short_training_raises_miou(decoder):
    x, y = _shapes_data(256)
    x_val, y_val = _shapes_data(32, seed=1)
    keras.utils.set_random_seed(0)
    model = SemanticSegmenter(
        TINY[decoder], num_classes=5, decoder=decoder, input_shape=(32, 32, 3)
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[SegmentationIoU(5)],
    )
    before = model.evaluate(x_val, y_val, verbose=0, return_dict=True)[
        "mean_iou"
    ]
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    after = model.evaluate(x_val, y_val, verbose=0, return_dict=True)[
        "mean_iou"
    ]
    print(
        f"\n{decoder}, shapes 32x32, 32 held-out images: "
        f"mIoU {before:.3f} -> {after:.3f}"
    )
    assert after > max(0.6, before + 0.3)
