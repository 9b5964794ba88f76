"""Large depthwise kernels as sums of fast tiles: same math, same cost."""

import keras
import numpy as np
import pytest

from tfeff.blocks.conv import _depthwise
from tfeff.blocks.conv import centred_strips
from tfeff.blocks.conv import depthwise_tiles
from tfeff.blocks.conv import numerics_scope
from tfeff.blocks.conv import same_padding
from tfeff.profile import count_macs
from tfeff.spec.depthwise import depthwise_taps
from tfeff.spec.depthwise import live_pieces
from tfeff.spec.notation import NumericsSpec


@pytest.mark.parametrize("kernel", [7, 9, 11])
def test_tiles_partition_the_kernel_within_25_taps(kernel):
    covered = np.zeros((kernel, kernel), int)
    for (r0, r1), (c0, c1) in depthwise_tiles(kernel):
        assert (r1 - r0) * (c1 - c0) <= 25  # TFLite's fast depthwise path.
        covered[r0:r1, c0:c1] += 1
    assert (covered == 1).all()


def test_centred_strips_partition_the_kernel_within_25_taps():
    # Each strip is symmetric about the centre row, so at stride 1 it is a
    # "same" conv of the unpadded input (no pad, no crop).
    for kernel in (7, 9, 11):
        covered = np.zeros(kernel, int)
        for first, rows, dilation in centred_strips(kernel):
            assert rows * kernel <= 25
            indices = [first + i * dilation for i in range(rows)]
            assert indices[0] + indices[-1] == kernel - 1  # Centred.
            covered[indices] += 1
        assert (covered == 1).all()
    assert len(centred_strips(7)) == 3
    assert centred_strips(13) is None  # A row pair would be 26 taps.


def _tile_rows_and_cols(layer):
    """The kernel rows and columns a tile layer `<name>_t<row>_<col>` holds."""
    first_row, first_col = layer.name.rsplit("_t", 1)[1].split("_")
    rows, cols = layer.kernel_size
    step = layer.dilation_rate[0]
    return (
        [int(first_row) + i * step for i in range(rows)],
        slice(int(first_col), int(first_col) + cols),
    )


@pytest.mark.parametrize("padding", ["same", "symmetric"])
@pytest.mark.parametrize(
    "kernel, strides, height, width",
    # Stride 1: centred strips; stride 2: tiles padded and cropped each on
    # its own, at even and odd sizes; None: size unknown when built.
    [
        (7, 1, 16, 16), (9, 1, 15, 12), (11, 1, 12, 12), (7, 2, 17, 17),
        (7, 2, 56, 56), (9, 2, 14, 13), (11, 2, 14, 14), (11, 2, 15, 15),
        (7, 2, None, None), (9, 1, None, None),
        # Maps smaller than the kernel: pieces that read only padding are
        # left out (tfeff.spec.depthwise.live_pieces), the output is equal.
        (7, 1, 1, 1), (9, 1, 2, 2), (11, 1, 3, 2), (7, 2, 2, 2),
        (9, 2, 3, 3), (11, 2, 1, 1), (11, 2, 2, 4),
    ],
)  # fmt: skip
def test_tiled_equals_single_depthwise(kernel, strides, height, width, padding):
    """The tiled conv equals one k x k depthwise conv padded as the
    network's numerics say: TF "SAME" (less before than after on even maps
    at stride 2) or PyTorch's (k - 1) // 2 per side; the two are equal at
    stride 1 and at odd sizes. Under "SAME" an unknown size at stride 2
    is one layer (its padding depends on the size)."""
    size = (height or 14, width or 15)
    inputs = keras.Input((height, width, 6))
    numerics = NumericsSpec(padding=padding)
    with numerics_scope(numerics):
        tiled = keras.Model(
            inputs, _depthwise(inputs, kernel, strides=strides, name="x")
        )
    weights = (
        np.random.default_rng(0)
        .normal(size=(kernel, kernel, 6, 1))
        .astype("float32")
    )
    for layer in tiled.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            if layer.name == "x":  # One k x k layer.
                layer.set_weights([weights])
                continue
            rows, cols = _tile_rows_and_cols(layer)
            layer.set_weights([weights[rows][:, cols]])
    pads = [
        same_padding(n, kernel, strides)
        if padding == "same"
        else ((kernel - 1) // 2,) * 2
        for n in size
    ]
    single = keras.layers.DepthwiseConv2D(
        kernel, strides=strides, padding="valid", use_bias=False
    )
    single.build((None, size[0] + sum(pads[0]), size[1] + sum(pads[1]), 6))
    single.set_weights([weights])
    x = np.random.default_rng(1).normal(size=(2, *size, 6)).astype("float32")
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    np.testing.assert_allclose(
        tiled.predict(x, verbose=0), np.asarray(single(padded)), atol=1e-4
    )
    params = sum(int(np.prod(w.shape)) for w in tiled.trainable_weights)
    taps = depthwise_taps(kernel, (height, width), strides, padding)
    assert params == taps * 6
    if height is not None:
        out = [-(-n // strides) for n in size]
        assert count_macs(tiled) == taps * 6 * out[0] * out[1]
    if height is None or min(height, width) > kernel:
        assert taps == kernel * kernel


def test_same_and_symmetric_differ_at_stride_2_on_even_maps():
    # The reason the convention is part of the arch: one pixel of shift.
    assert same_padding(56, 7, 2) == (2, 3)
    assert same_padding(57, 7, 2) == (3, 3)
    assert same_padding(56, 3, 2) == (0, 1)
    assert same_padding(56, 3, 1) == (1, 1)


def test_pieces_that_read_only_padding_are_left_out():
    # A 9x9 kernel at stride 1 on a 2x2 map: only rows and columns within
    # one of the centre reach it; of the centre row and the four row pairs
    # (dilated 2, 4, 6, 8) only the centre row and the pair (3, 5) do.
    pieces = live_pieces(9, (2, 2), 1, "same")
    assert [p.row_offsets() for p in pieces] == [[4], [3, 5]]
    assert depthwise_taps(9, (2, 2), 1, "same") == 27
    assert depthwise_taps(9, (32, 32), 1, "same") == 81
    # At stride 2, "SAME" pads 3 before on a 2x2 map (symmetric 4): one
    # 5x5 tile of the four is left under "SAME", all but one under
    # symmetric padding, exactly as each pads.
    assert depthwise_taps(9, (2, 2), 2, "same") == 25
    assert depthwise_taps(9, (2, 2), 2, "symmetric") == 81
