"""Background scenes an item is photographed on: cardboard, brushed metal, gradients, desks."""

from __future__ import annotations

import cv2
import numpy as np

from tests.synth.noise import linear_ramp, smooth_noise

SCENES: tuple[str, ...] = ("cardboard", "metal", "gradient", "mottled", "dark")


def scene(rng: np.random.Generator, height: int, width: int, shade: np.ndarray | None = None) -> np.ndarray:
    """Return a random HxW BGR uint8 scene, darkened by an optional gain field of any size (shadows).

    Scenes are soft, so they are made at half size and enlarged; that halves the time they take.
    """
    name = SCENES[int(rng.integers(len(SCENES)))]
    make = {
        "cardboard": _cardboard,
        "metal": _metal,
        "gradient": _gradient,
        "mottled": _mottled,
        "dark": _dark,
    }
    h2, w2 = (height + 1) // 2, (width + 1) // 2
    small = make[name](rng, h2, w2)
    grain = rng.standard_normal((h2, w2, 1), dtype=np.float32) * np.float32(rng.uniform(1.5, 4))
    small += grain
    if shade is not None:
        small *= cv2.resize(shade.astype(np.float32), (w2, h2), interpolation=cv2.INTER_LINEAR)[:, :, None]
    small = np.clip(small, 0, 255).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _color(rng: np.random.Generator, bgr: tuple[float, float, float], spread: float) -> np.ndarray:
    """Return a BGR colour jittered around a base."""
    return np.array(bgr, dtype=np.float32) + rng.uniform(-spread, spread, 3).astype(np.float32)


def _cardboard(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Brown corrugated cardboard with blotches and faint flutes."""
    base = _color(rng, (95, 140, 180), 14)
    shade = (smooth_noise(rng, h, w, rng.uniform(40, 100)) - 0.5) * 36
    period = rng.uniform(7, 15)
    along = np.arange(w if rng.random() < 0.5 else h, dtype=np.float32)
    flutes = (np.sin(along * np.float32(2 * np.pi / period)) * np.float32(rng.uniform(2, 5))).astype(
        np.float32
    )
    flutes = flutes[None, :] if flutes.shape[0] == w else flutes[:, None]
    img = base[None, None, :] + (shade + flutes)[:, :, None]
    fibres = rng.integers(20, 60)
    for _ in range(int(fibres)):
        x, y = int(rng.integers(w)), int(rng.integers(h))
        dx, dy = rng.integers(-25, 26, 2)
        tone = float(rng.uniform(-25, 10))
        cv2.line(img, (x, y), (x + int(dx), y + int(dy)), (base + tone).tolist(), 1, cv2.LINE_AA)
    return img


def _metal(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Brushed grey metal with a soft sheen."""
    grey = float(rng.uniform(95, 185))
    brushed = cv2.blur(rng.standard_normal((h, w), dtype=np.float32), (int(rng.integers(15, 45)), 1)) * 40
    sheen = (linear_ramp(rng, h, w) - 0.5) * float(rng.uniform(20, 60))
    tint = _color(rng, (1.03, 1.0, 0.98), 0.02)
    return (grey + brushed + sheen)[:, :, None] * tint[None, None, :]


def _gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth two-colour gradient, like a wall or a car body."""
    a = rng.uniform(30, 220, 3).astype(np.float32)
    b = rng.uniform(30, 220, 3).astype(np.float32)
    t = linear_ramp(rng, max(2, h // 8), max(2, w // 8))[:, :, None]
    small = a[None, None, :] * (1 - t) + b[None, None, :] * t
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _mottled(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Multi-scale coloured noise, like a desk, fabric or concrete."""
    base = rng.uniform(60, 200, 3).astype(np.float32)
    img = np.repeat(base[None, None, :], h, axis=0).repeat(w, axis=1)
    for cell, amp in ((rng.uniform(75, 150), 40.0), (rng.uniform(10, 25), 20.0), (rng.uniform(2, 4), 10.0)):
        img += (smooth_noise(rng, h, w, cell)[:, :, None] - 0.5) * np.float32(amp)
    return img


def _dark(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A dark surface such as a conveyor belt or a shelf in shadow."""
    grey = float(rng.uniform(25, 70))
    shade = (smooth_noise(rng, h, w, rng.uniform(30, 80)) - 0.5) * 25
    return np.repeat((grey + shade)[:, :, None], 3, axis=2)
