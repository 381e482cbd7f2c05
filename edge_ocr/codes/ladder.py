"""Retry steps for frames where nothing decoded: each makes image variants plus the way back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.codes.names import RETRY_STEPS

# A variant: the image to read and the 2x3 affine that maps its pixels back to the original.
Variant = tuple[np.ndarray, np.ndarray]

UPSCALE_MAX_SIDE = 2400  # pixels; larger frames are not upscaled (codes there are rarely too small)
ROTATE_MAX_PIXELS = (
    64_000_000  # the 45-degree turn of a frame is skipped beyond this (a 7000x5000 frame fits)
)


def _identity() -> np.ndarray:
    return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _scaled(gray: np.ndarray, factor: float) -> Variant:
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    out = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=interp)
    back = np.array([[1.0 / factor, 0.0, 0.0], [0.0, 1.0 / factor, 0.0]])
    return out, back


def upscale(gray: np.ndarray) -> list[Variant]:
    """Small or distant codes: twice the size (up to UPSCALE_MAX_SIDE on the long side)."""
    factor = min(2.0, UPSCALE_MAX_SIDE / max(gray.shape))
    return [_scaled(gray, factor)] if factor >= 1.3 else []


def downscale(gray: np.ndarray) -> list[Variant]:
    """Big, blurred codes in large frames: half the size averages the blur away."""
    return [_scaled(gray, 0.5)] if min(gray.shape) >= 600 else []


def sharpen(gray: np.ndarray) -> list[Variant]:
    """Mild defocus: an unsharp mask."""
    blur = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return [(cv2.addWeighted(gray, 1.8, blur, -0.8, 0), _identity())]


def equalise(gray: np.ndarray) -> list[Variant]:
    """Low contrast and glare: local histogram equalisation (CLAHE)."""
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    return [(clahe.apply(gray), _identity())]


def binarise(gray: np.ndarray) -> list[Variant]:
    """Uneven light: adaptive threshold over a window about a sixteenth of the frame."""
    block = max(15, (min(gray.shape) // 16) | 1)
    out = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 7)
    return [(out, _identity())]


def invert(gray: np.ndarray) -> list[Variant]:
    """Light-on-dark codes (ZBar does not try this itself)."""
    return [(255 - gray, _identity())]


def rotate45(gray: np.ndarray) -> list[Variant]:
    """Diagonal 1-D codes: both readers scan rows and columns, so 45 degrees is the blind angle."""
    h, w = gray.shape
    size = int(np.ceil((h + w) / np.sqrt(2)))
    if size * size > ROTATE_MAX_PIXELS:  # a 70000x40 strip would turn into 2.4 GP (zxing crashed on it)
        return []
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 45, 1.0)
    m[0, 2] += size / 2 - w / 2
    m[1, 2] += size / 2 - h / 2
    out = cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_LINEAR, borderValue=255)
    return [(out, cv2.invertAffineTransform(m))]


def same(gray: np.ndarray) -> list[Variant]:
    """The frame unchanged (for a step that changes the readers, not the image)."""
    return [(gray, _identity())]


@dataclass(frozen=True)
class Step:
    """One rung of the ladder."""

    name: str
    make: Callable[[np.ndarray], list[Variant]]
    thorough: bool = False  # read with the thorough readers (ZBar scanning every line)


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("dense", same, thorough=True),
        Step("upscale", upscale),
        Step("downscale", downscale),
        Step("sharpen", sharpen),
        Step("equalise", equalise),
        Step("binarise", binarise),
        Step("invert", invert),
        Step("rotate45", rotate45),
    )
}
assert tuple(STEPS) == RETRY_STEPS, "names.RETRY_STEPS lists the steps for the configuration check"


def map_back(points: tuple[tuple[float, float], ...], back: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Points of a variant in original image coordinates."""
    if not points:
        return points
    arr = np.hstack([np.array(points, dtype=np.float64), np.ones((len(points), 1))])
    return tuple((float(x), float(y)) for x, y in arr @ back.T)
