"""SSD anchors (EdgeNets ssd_config.py, generate_priors.py): one set of
prior boxes per pyramid level, normalized to [0, 1], center form."""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class AnchorSpec:
    """SSD prior boxes (EdgeNets ssd_config.py, generate_priors.py).

    At every location of level k: a square of `sizes[k]`, a square of
    `sqrt(sizes[k] * sizes[k + 1])`, and for each aspect ratio r the
    `sizes[k]` square stretched by `sqrt(r)` both ways.

    Attributes:
        image_size: int. Square input size in pixels.
        strides: tuple of float. Level k's map is `ceil(image_size /
            strides[k])` wide and its centres are `(j + 0.5) * strides[k]`.
        aspect_ratios: tuple of float.
        min_scale, max_scale: box sizes are `linspace(ceil(min_scale * S),
            ceil(max_scale * S), levels + 1)`, truncated to int.
        clip: bool. Clip anchors to [0, 1] (center form, as the reference).
    """

    image_size: int
    strides: tuple
    aspect_ratios: tuple = (2.0, 3.0)
    min_scale: float = 0.1
    max_scale: float = 1.05
    clip: bool = True

    @property
    def feature_maps(self):
        return tuple(math.ceil(self.image_size / s) for s in self.strides)

    @property
    def sizes(self):
        levels = len(self.strides)
        low = math.ceil(self.min_scale * self.image_size)
        high = math.ceil(self.max_scale * self.image_size)
        return tuple(int(v) for v in np.linspace(low, high, levels + 1))

    @property
    def boxes_per_location(self):
        return 2 + 2 * len(self.aspect_ratios)

    @property
    def num_anchors(self):
        return sum(m * m for m in self.feature_maps) * self.boxes_per_location

    @classmethod
    def for_image_size(cls, image_size):
        """EdgeNets' configurations for 300 and 512; for any other size,
        strides 8, 16, 32, 64, ... with the last level 1x1."""
        if image_size == 300:
            return cls(300, (8, 16, 32, 64, 100, 300))
        if image_size == 512:
            return cls(512, (8, 16, 32, 64, 128, 512))
        maps = _feature_map_sizes(image_size)
        return cls(image_size, tuple(image_size / m for m in maps))


def _feature_map_sizes(image_size):
    """Map sizes of the SSD levels: P3, P4, P5, then stride-2 extras, then 1."""
    size = math.ceil(image_size / 8)
    maps = [size]
    for _ in range(4):
        size = math.ceil(size / 2)
        maps.append(size)
    maps.append(1)
    return tuple(maps)


def generate_anchors(spec):
    """Anchors of `spec` as a float32 array `(num_anchors, 4)`, center form.

    Order: level, row, column, then the boxes of one location (the order
    of the heads' reshaped outputs).
    """
    anchors = []
    size = spec.image_size
    sizes = spec.sizes
    for k, (stride, fmap) in enumerate(zip(spec.strides, spec.feature_maps)):
        small = sizes[k] / size
        large = math.sqrt(sizes[k] * sizes[k + 1]) / size
        location = [(small, small), (large, large)]
        for ratio in spec.aspect_ratios:
            r = math.sqrt(ratio)
            location += [(small * r, small / r), (small / r, small * r)]
        scale = size / stride
        for i in range(fmap):
            for j in range(fmap):
                cx, cy = (j + 0.5) / scale, (i + 0.5) / scale
                anchors += [(cx, cy, w, h) for w, h in location]
    anchors = np.asarray(anchors, dtype="float64")
    if spec.clip:
        anchors = np.clip(anchors, 0.0, 1.0)
    return anchors.astype("float32")
