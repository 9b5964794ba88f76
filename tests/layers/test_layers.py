"""Public layers: config round-trip, serialization, `.keras` save/load, errors."""

import re

import keras
import numpy as np
import pytest

import tfeff
from tests.harness import random_images
from tests.harness import run_layer_roundtrip
from tests.harness import trainable_count
from tfeff.profile import count_macs

CASES = [
    (
        lambda: tfeff.layers.MBConv(
            16, kernel_size=[3, 5], se_ratio=0.25, drop_path_rate=0.1
        ),
        (2, 8, 8, 16),
        (2, 8, 8, 16),
    ),
    (
        lambda: tfeff.layers.MBConv(
            24,
            strides=2,
            expand_ratio=3,
            expand_groups=2,
            project_groups=2,
            activation="relu",
        ),
        (2, 8, 8, 16),
        (2, 4, 4, 24),
    ),
    (
        lambda: tfeff.layers.MixConv([3, 5, 7], strides=2),
        (2, 8, 8, 10),
        (2, 4, 4, 10),
    ),
    (
        lambda: tfeff.layers.SqueezeExcite(4, gate="hard_sigmoid"),
        (2, 8, 8, 16),
        (2, 8, 8, 16),
    ),
    (lambda: tfeff.layers.GhostModule(15), (2, 8, 8, 4), (2, 8, 8, 15)),
    (
        lambda: tfeff.layers.GhostBottleneck(
            24, mid_filters=72, strides=2, se_ratio=0.25
        ),
        (2, 16, 16, 16),
        (2, 8, 8, 24),
    ),
    (
        lambda: tfeff.layers.EESP(branches=4, receptive_field=9),
        (2, 8, 8, 32),
        (2, 8, 8, 32),
    ),
    (
        lambda: tfeff.layers.StridedEESP(64, receptive_field=13),
        (2, 16, 16, 32),
        (2, 8, 8, 64),
    ),
    (
        lambda: tfeff.layers.ShuffleUnit(48, strides=2),
        (2, 16, 16, 24),
        (2, 8, 8, 48),
    ),
    (lambda: tfeff.layers.ShuffleUnit(24), (2, 8, 8, 24), (2, 8, 8, 24)),
    (
        lambda: tfeff.layers.IGCV3Block(16, expand_ratio=4),
        (2, 8, 8, 16),
        (2, 8, 8, 16),
    ),
    (
        lambda: tfeff.layers.IGCV3Block(24, strides=2, groups=4),
        (2, 8, 8, 16),
        (2, 4, 4, 24),
    ),
    (lambda: tfeff.layers.ESPModule(20), (2, 16, 16, 20), (2, 16, 16, 20)),
    (
        lambda: tfeff.layers.ESPModule(40, strides=2),
        (2, 16, 16, 20),
        (2, 8, 8, 40),
    ),
    (lambda: tfeff.layers.DICE(), (2, 8, 6, 16), (2, 8, 6, 16)),
    (lambda: tfeff.layers.ChannelShuffle(3), (1, 4, 4, 6), (1, 4, 4, 6)),
    (lambda: tfeff.layers.ChannelSplit([2, 1]), (1, 4, 4, 3), None),
    (lambda: tfeff.layers.ChannelSlice(1, 3), (1, 4, 4, 4), (1, 4, 4, 2)),
    (lambda: tfeff.layers.ChannelSlice(1, 8, 3), (1, 4, 4, 8), (1, 4, 4, 3)),
    (lambda: tfeff.layers.BilinearResize(7, 5), (1, 4, 4, 3), (1, 7, 5, 3)),
]


def test_every_public_layer_is_covered():
    covered = {type(factory()).__name__ for factory, _, _ in CASES}
    assert covered == set(tfeff.layers.__all__)


@pytest.mark.parametrize("factory, shape, out_shape", CASES)
def test_layer_contract(factory, shape, out_shape, tmp_path):
    layer = factory()
    inputs = random_images(shape)
    if isinstance(layer, tfeff.layers.StridedEESP):
        inputs = [
            inputs,
            random_images((shape[0], shape[1] * 2, shape[2] * 2, 3)),
        ]
    if isinstance(layer, tfeff.layers.ChannelSplit):
        outputs = layer(inputs)
        assert [tuple(o.shape) for o in outputs] == [(1, 4, 4, 2), (1, 4, 4, 1)]
        return
    model = run_layer_roundtrip(layer, inputs, tmp_path)
    if out_shape:
        assert tuple(model.predict(inputs, verbose=0).shape) == out_shape


def test_mbconv_layer_matches_the_spec_cost():
    # Same builder as the models: the cost model's numbers hold for the layer.
    spec = tfeff.decode_arch("stem_k3_s1_c16 | mbconv_r1_k3.5_s2_e6_c24_se0.25")
    report = tfeff.estimate_cost(spec, 16)
    layer = tfeff.layers.MBConv(
        24, kernel_size=[3, 5], strides=2, se_ratio=0.25
    )
    inputs = keras.Input((16, 16, 16))
    model = keras.Model(inputs, layer(inputs))
    assert trainable_count(model) == report.rows[1].params
    assert count_macs(model) == report.rows[1].macs


def test_layer_in_a_user_model_trains():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same")(inputs)
    x = tfeff.layers.GhostBottleneck(16, mid_filters=32, se_ratio=0.25)(x)
    x = tfeff.layers.MBConv(16, kernel_size=[3, 5, 7], se_ratio=0.25)(x)
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(x)
    )
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(
        np.random.rand(8, 16, 16, 3), np.arange(8) % 2, epochs=2, verbose=0
    )
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "factory, argument",
    [
        (lambda: tfeff.layers.MBConv(0), "filters=0"),
        (lambda: tfeff.layers.MBConv(16, kernel_size=4), "kernel_size=4"),
        (lambda: tfeff.layers.MBConv(16, strides=3), "strides=3"),
        (lambda: tfeff.layers.MBConv(16, se_ratio=2), "se_ratio=2"),
        (
            lambda: tfeff.layers.MBConv(16, activation="gelu"),
            "activation='gelu'",
        ),
        (lambda: tfeff.layers.MixConv([3, 6]), "kernel_size=[3, 6]"),
        (lambda: tfeff.layers.SqueezeExcite(4, gate="tanh"), "gate='tanh'"),
        (
            lambda: tfeff.layers.GhostBottleneck(16, mid_filters=-1),
            "mid_filters=-1",
        ),
        (lambda: tfeff.layers.EESP(branches=0), "branches=0"),
        (lambda: tfeff.layers.ChannelSlice(3, 1), "start=3"),
        (lambda: tfeff.layers.ChannelSlice(0, 4, 0), "step=0"),
        (lambda: tfeff.layers.BilinearResize(0, 4), "height=0"),
        (lambda: tfeff.layers.ChannelShuffle(0), "groups=0"),
        (lambda: tfeff.layers.ShuffleUnit(15), "filters=15"),
        (lambda: tfeff.layers.IGCV3Block(16, groups=-2), "groups=-2"),
    ],
)
def test_bad_arguments_name_the_argument(factory, argument):
    with pytest.raises((ValueError, TypeError)) as info:
        factory()
    assert argument in str(info.value)


def test_eesp_width_must_divide_by_branches():
    with pytest.raises(ValueError, match="branches=4 must divide the input"):
        tfeff.layers.EESP(branches=4)(np.zeros((1, 8, 8, 30), "float32"))


# The block-kind layers and their kinds (issue 21, item 3).
KIND_LAYERS = {
    "MBConv": "mbconv",
    "GhostBottleneck": "ghost",
    "EESP": "eesp",
    "StridedEESP": "eespdown",
    "ShuffleUnit": "shuffle",
    "IGCV3Block": "igcv3",
}


@pytest.mark.parametrize("layer_name", sorted(KIND_LAYERS))
def test_kind_layers_take_and_give_their_specs_fields(layer_name):
    import dataclasses

    kind = tfeff.spec.kinds.kind_named(KIND_LAYERS[layer_name])
    layer_cls = getattr(tfeff.layers, layer_name)
    factory = next(f for f, _, _ in CASES if type(f()).__name__ == layer_name)
    config = factory().get_config()
    spec_fields = {f.name for f in dataclasses.fields(kind.spec)}
    own = set(config) - set(keras.layers.Layer().get_config())
    taken = spec_fields - {"repeats"} - set(layer_cls._from_input)
    assert own == taken | set(layer_cls._context)
    assert layer_cls.from_config(config).get_config() == config


@pytest.mark.parametrize(
    "layer, token, channels",
    [
        (
            lambda: tfeff.layers.MBConv(16, kernel_size=[3, 5], expand_ratio=1),
            "mbconv_r1_k3.5_s1_e1_c16",
            1,
        ),
        (lambda: tfeff.layers.ShuffleUnit(24), "shuffle_r1_k3_s1_c24", 16),
        (
            lambda: tfeff.layers.IGCV3Block(24, groups=4),
            "igcv3_r1_k3_s1_e6_g4_c24",
            6,
        ),
        (lambda: tfeff.layers.StridedEESP(40), "eespdown_c40", 32),
    ],
)
def test_kind_layers_refuse_what_validate_arch_refuses(layer, token, channels):
    # One rule, one message: the layer's words are validate_arch's.
    with pytest.raises(ValueError) as from_arch:
        tfeff.spec.validate_arch(f"stem_k1_s1_c{channels} | {token}")
    rule = str(from_arch.value).split("): ", 1)[1].split(". Arch string")[0]
    with pytest.raises(ValueError, match=re.escape(rule)):
        layer()(np.zeros((1, 8, 8, channels), "float32"))


def test_bilinear_resize_keeps_later_batch_norms_in_inference():
    """keras.layers.Resizing in a functional model called directly leaves
    the batch norms after it in training mode (Keras 3.15); ours does not."""
    inputs = keras.Input((4, 4, 3))
    bn = keras.layers.BatchNormalization()
    model = keras.Model(inputs, bn(tfeff.layers.BilinearResize(8, 8)(inputs)))
    model(random_images((2, 4, 4, 3)))
    np.testing.assert_array_equal(np.asarray(bn.moving_variance), 1.0)


def test_channel_shuffle_interleaves_groups():
    x = np.arange(6, dtype="float32").reshape(1, 1, 1, 6)
    out = np.asarray(tfeff.layers.ChannelShuffle(3)(x)).ravel()
    # Groups [0 1] [2 3] [4 5] interleave as ShuffleNet's reshape-transpose.
    assert out.tolist() == [0, 2, 4, 1, 3, 5]
