"""Synthetic images with spatial structure, for calibration and checks.

Uniform noise makes every activation range huge and every comparison
meaningless; smooth colour waves behave like photographs for int8
calibration, latency and export checks.
"""

import numpy as np


def smooth_images(count, size=64, channels=3, seed=0, max_frequency=4.0):
    """`(count, size, size, channels)` float32 images in [0, 255]."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, size)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = []
    for _ in range(count):
        fx, fy, phase = rng.uniform(1, max_frequency, 3)
        base = np.sin(fx * np.pi * xx + phase) * np.cos(fy * np.pi * yy)
        colour = rng.uniform(0.3, 1.0, channels)
        images.append(127.5 + 120 * base[..., None] * colour)
    return np.asarray(images, dtype="float32")
