"""Channel parts: grouped layers hand each other channel groups without
concat -> split copies, and compute exactly what the joined tensor would."""

import collections

import keras
import numpy as np
import pytest

import tfeff
from tfeff.blocks.ops import ChannelSplit
from tfeff.blocks.parts import repartition

RNG = np.random.default_rng(0)


def _model(inputs, outputs):
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    "have, want, concats, splits",
    [
        ([6, 6], [6, 6], 0, 0),  # Same cuts: nothing emitted.
        ([6, 6], [3, 3, 3, 3], 0, 2),  # Finer: split each part.
        ([12], [4, 4, 4], 0, 1),
        ([3, 3, 3, 3], [6, 6], 2, 0),  # Coarser: join neighbours.
        ([3, 3, 3, 3], [12], 1, 0),
        ([6, 6], [4, 4, 4], 1, 1),  # Neither: join, then split.
    ],
)
def test_repartition_keeps_values_and_copies_only_where_needed(
    have, want, concats, splits
):
    inputs = keras.Input((5, 5, sum(have)))
    parts = (
        ChannelSplit(have, name="x_split")(inputs)
        if len(have) > 1
        else [inputs]
    )
    out = repartition(parts, want, "y")
    assert [int(p.shape[-1]) for p in out] == want
    model = _model(inputs, out if len(out) > 1 else out[0])
    kinds = collections.Counter(type(layer).__name__ for layer in model.layers)
    assert kinds["Concatenate"] == concats
    assert kinds["ChannelSplit"] == splits + (len(have) > 1)
    x = RNG.normal(size=(2, 5, 5, sum(have))).astype("float32")
    got = np.concatenate(
        [np.asarray(t) for t in (model(x) if len(out) > 1 else [model(x)])], -1
    )
    np.testing.assert_array_equal(got, x)
    with pytest.raises(ValueError, match="Cannot cut 12 channels"):
        repartition(parts, [5, 5], "z")


def test_mixnet_copies_less_of_its_activations_than_it_used_to():
    # MixNet-S: grouped expansions, MixConv groups and grouped projections
    # hand over parts (squeeze-excite joins them). Full-size concat/split layers
    # were 34 + 34 copying 7.9 M values (benchmarks/RESULTS.md).
    model = tfeff.create_model("mixnet_s")
    copied = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Concatenate, ChannelSplit)):
            shape = (
                layer.input[0].shape
                if isinstance(layer.input, list)
                else layer.input.shape
            )
            if shape[1] > 1:
                copied += int(np.prod(shape[1:3])) * sum(
                    int(t.shape[-1])
                    for t in (
                        layer.input
                        if isinstance(layer.input, list)
                        else [layer.input]
                    )
                )
    assert copied < 0.6 * 7.9e6  # 4.6 M
