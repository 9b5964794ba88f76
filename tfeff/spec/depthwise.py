"""How a large depthwise kernel is emitted, as pure functions of the kernel,
the map and the stride: the builder emits these pieces and the cost model
counts them, so the two agree at every input size.

TFLite's fast depthwise kernels (XNNPACK) take up to 25 taps (5x5, 3x7,
2x9, ...); larger kernels fall to a generic path about 13x slower per MAC
(benchmarks/RESULTS.md). So a k x k kernel above 5x5 is a sum of pieces of
at most 25 taps that partition it: centred row strips at stride 1, tiles
otherwise.

On a map smaller than the kernel, some pieces read only padding at every
output position: they add exactly zero. They are left out (`live_pieces`):
such a piece costs time, and its all-zero output has no int8 range, which
makes XNNPACK refuse (or, in LiteRT 2.3, abort on) the whole graph. The
output is unchanged; the parameters and MACs counted are those of the taps
that can touch the image at that size.
"""

import dataclasses

MAX_FAST_DEPTHWISE_TAPS = 25
MAX_FAST_DEPTHWISE_KERNEL = 5


@dataclasses.dataclass(frozen=True)
class KernelPiece:
    """Rows `first_row + i * row_dilation` (i < rows) and columns
    `first_col .. first_col + cols - 1` of a k x k kernel."""

    first_row: int
    rows: int
    row_dilation: int
    first_col: int
    cols: int

    @property
    def taps(self):
        return self.rows * self.cols

    def row_offsets(self):
        return [
            self.first_row + i * self.row_dilation for i in range(self.rows)
        ]

    def col_offsets(self):
        return list(range(self.first_col, self.first_col + self.cols))


def same_padding(size, kernel, strides, dilation_rate=1):
    """TensorFlow "SAME" padding (before, after) of one axis of `size`."""
    effective = (kernel - 1) * dilation_rate + 1
    out = -(-size // strides)
    total = max((out - 1) * strides + effective - size, 0)
    return total // 2, total - total // 2


def _cuts(size, step):
    return [(start, min(size, start + step)) for start in range(0, size, step)]


def depthwise_tiles(kernel):
    """Rectangles (rows, cols) partitioning a k x k kernel into fast tiles.

    Either full-width row strips of <= 25 taps or a grid of <= 5x5 tiles,
    whichever needs fewer (k=7: 3 strips; k=9: 4 tiles; k=11: 6 strips).
    """
    strips = [
        (rows, (0, kernel))
        for rows in _cuts(kernel, MAX_FAST_DEPTHWISE_TAPS // kernel)
    ]
    grid = [
        (rows, cols)
        for rows in _cuts(kernel, MAX_FAST_DEPTHWISE_KERNEL)
        for cols in _cuts(kernel, MAX_FAST_DEPTHWISE_KERNEL)
    ]
    return strips if len(strips) <= len(grid) else grid


def centred_strips(kernel):
    """Full-width row sets partitioning an odd k x k kernel into <= 25-tap
    pieces that are each symmetric about the centre row: the middle rows,
    then pairs of rows (c - i, c + i) as a 2-row kernel dilated by 2i.

    Returned as (first row, rows, row dilation); k=7: the rows 2-4, (1, 5),
    (0, 6); k=9: row 4, then four pairs; k=11: row 5, then five pairs.
    Every piece is centred like the whole kernel, so at stride 1 each is a
    plain "same" depthwise conv of the unpadded input: no crop of a padded
    copy (a strided slice per piece, which costs as much as the conv) and
    no pad (the converter folds symmetric padding into "same"). None for
    kernels that cannot be cut so (even, or a row pair over 25 taps).
    """
    if kernel % 2 == 0 or 2 * kernel > MAX_FAST_DEPTHWISE_TAPS:
        return None
    centre = (kernel - 1) // 2
    middle = min(kernel, MAX_FAST_DEPTHWISE_TAPS // kernel)
    middle -= 1 - middle % 2  # An odd count, symmetric about the centre.
    half = (middle - 1) // 2
    strips = [(centre - half, middle, 1)]
    strips += [(centre - i, 2, 2 * i) for i in range(half + 1, centre + 1)]
    return strips


def is_tiled(kernel, dilation_rate=1):
    """Whether a depthwise kernel is emitted as pieces (above 5x5, undilated)."""
    return kernel > MAX_FAST_DEPTHWISE_KERNEL and dilation_rate == 1


def kernel_pieces(kernel, strides):
    """All pieces of a tiled k x k kernel: centred strips at stride 1 where
    the kernel allows them, else tiles."""
    strips = centred_strips(kernel) if strides == 1 else None
    if strips:
        return [
            KernelPiece(first, rows, dilation, 0, kernel)
            for first, rows, dilation in strips
        ]
    return [
        KernelPiece(r0, r1 - r0, 1, c0, c1 - c0)
        for (r0, r1), (c0, c1) in depthwise_tiles(kernel)
    ]


def padding_before(size, kernel, strides, padding):
    """The network's padding before the first row (or column) of an axis of
    `size` (None: unknown): TensorFlow "SAME"'s, or (k - 1) // 2."""
    half = (kernel - 1) // 2
    if size is None or padding != "same":
        return half
    return same_padding(size, kernel, strides)[0]


def _reaches(offsets, size, strides, top):
    out = -(-size // strides)
    return any(
        0 <= y * strides - top + r < size for y in range(out) for r in offsets
    )


def live_pieces(kernel, size, strides, padding):
    """The pieces of a tiled kernel that read the map somewhere.

    Args:
        kernel: int. k of the k x k kernel.
        size: (height, width); None entries (an unknown size) keep all.
        strides: int.
        padding: `"same"` (TensorFlow) or `"symmetric"` (PyTorch), the
            network's numerics.
    """
    pieces = kernel_pieces(kernel, strides)
    if size is None or None in tuple(size):
        return pieces
    # Centred strips are "same" convs: symmetric about the centre.
    strips = strides == 1 and centred_strips(kernel) is not None
    tops = [
        (kernel - 1) // 2
        if strips
        else padding_before(n, kernel, strides, padding)
        for n in size
    ]
    return [
        piece
        for piece in pieces
        if _reaches(piece.row_offsets(), size[0], strides, tops[0])
        and _reaches(piece.col_offsets(), size[1], strides, tops[1])
    ]


def depthwise_taps(kernel, size, strides, padding, dilation_rate=1):
    """Taps per channel of a k x k depthwise conv as emitted on a map of
    `size`: k * k, less the pieces that read only padding."""
    if not is_tiled(kernel, dilation_rate):
        return kernel * kernel
    return sum(p.taps for p in live_pieces(kernel, size, strides, padding))
