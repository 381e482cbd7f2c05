"""What every code reader provides, so the scanner can run any mix of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from edge_ocr.results import Code


class CodeReader(Protocol):
    """Decodes all codes it can find in one grayscale image."""

    name: str
    # True when the heavy work runs without Python's GIL held (ctypes): such a reader can run in a
    # second thread while a GIL-holding reader (zxing-cpp's binding) runs in the first.
    releases_gil: bool

    def read(self, gray: np.ndarray, started: Callable[[], None] | None = None) -> list[Code]:
        """Codes with polygons in the coordinates of `gray`; `started` is called just before the
        heavy, GIL-free part begins."""
        ...


def utf8_or_none(data: bytes) -> str | None:
    """The payload as text when it is valid UTF-8, else None (binary payloads stay bytes only)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def clockwise(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Corners in clockwise order (image coordinates) starting nearest the top-left."""
    if len(points) < 3:
        return tuple(points)
    arr = np.array(points, dtype=np.float64)
    centre = arr.mean(axis=0)
    order = np.argsort(np.arctan2(arr[:, 1] - centre[1], arr[:, 0] - centre[0]))
    arr = arr[order]
    start = int(np.argmin(arr[:, 0] + arr[:, 1]))
    arr = np.roll(arr, -start, axis=0)
    return tuple((float(x), float(y)) for x, y in arr)
