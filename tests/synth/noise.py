"""Seeded smooth noise fields, the building block of paper fading, lighting and scene textures."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Return an HxW float32 field in [0, 1] that varies over roughly `cell` pixels."""
    gh = max(2, int(height / cell) + 2)
    gw = max(2, int(width / cell) + 2)
    grid = rng.random((gh, gw), dtype=np.float32)
    field = cv2.resize(grid, (int(width), int(height)), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, 0.0, 1.0)


def linear_ramp(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Return an HxW float32 ramp from 0 to 1 along a random direction."""
    angle = float(rng.uniform(0, 2 * np.pi))
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    proj = xs * np.float32(np.cos(angle)) + ys * np.float32(np.sin(angle))
    lo, hi = float(proj.min()), float(proj.max())
    return (proj - lo) / max(hi - lo, 1e-6)
