"""Large depthwise kernels as sums of fast tiles: same math, same cost."""

import keras
import numpy as np
import pytest

from tfeff.blocks.common import _depthwise
from tfeff.blocks.common import depthwise_tiles
from tfeff.profile import count_macs


@pytest.mark.parametrize("kernel", [7, 9, 11])
def test_tiles_partition_the_kernel_within_25_taps(kernel):
    covered = np.zeros((kernel, kernel), int)
    for (r0, r1), (c0, c1) in depthwise_tiles(kernel):
        assert (r1 - r0) * (c1 - c0) <= 25  # TFLite's fast depthwise path.
        covered[r0:r1, c0:c1] += 1
    assert (covered == 1).all()


@pytest.mark.parametrize(
    "kernel, strides, size",
    # Stride 1 at any size, stride 2 at odd sizes: tiles use symmetric
    # padding, which equals "same" there.
    [(7, 1, 16), (9, 1, 15), (11, 1, 12), (7, 2, 17), (11, 2, 15)],
)
def test_tiled_equals_single_depthwise(kernel, strides, size):
    inputs = keras.Input((size, size, 6))
    tiled = keras.Model(
        inputs, _depthwise(inputs, kernel, strides=strides, name="x")
    )
    weights = (
        np.random.default_rng(0)
        .normal(size=(kernel, kernel, 6, 1))
        .astype("float32")
    )
    for (r0, r1), (c0, c1) in depthwise_tiles(kernel):
        tiled.get_layer(f"x_t{r0}_{c0}").set_weights([weights[r0:r1, c0:c1]])
    single = keras.layers.DepthwiseConv2D(
        kernel, strides=strides, padding="same", use_bias=False
    )
    single.build((None, size, size, 6))
    single.set_weights([weights])
    x = (
        np.random.default_rng(1)
        .normal(size=(2, size, size, 6))
        .astype("float32")
    )
    np.testing.assert_allclose(
        tiled.predict(x, verbose=0), np.asarray(single(x)), atol=1e-4
    )
    params = sum(int(np.prod(w.shape)) for w in tiled.trainable_weights)
    assert params == kernel * kernel * 6
    out = -(-size // strides)
    assert count_macs(tiled) == kernel * kernel * 6 * out * out
