"""The labelled sample type shared by the renderers, the degradations and the writers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS: tuple[str, ...] = ("label", "plate", "receipt", "sign", "line", "page")
LEVELS: tuple[str, ...] = ("clean", "scan", "photo", "hard")


@dataclass
class Sample:
    """One synthetic image with its ground truth, so OCR output can be scored against it."""

    image: np.ndarray
    lines: list[str]
    kind: str
    boxes: list[np.ndarray]


def rect_box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Return an axis-aligned box as a clockwise 4x2 polygon, the form every box takes."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def same_row(a: np.ndarray, b: np.ndarray) -> bool:
    """Tell whether two boxes share a text row: they overlap vertically by half the smaller one."""
    a_top, a_bottom = float(a[:, 1].min()), float(a[:, 1].max())
    b_top, b_bottom = float(b[:, 1].min()), float(b[:, 1].max())
    overlap = min(a_bottom, b_bottom) - max(a_top, b_top)
    return overlap >= 0.5 * min(a_bottom - a_top, b_bottom - b_top)


def reading_order(boxes: list[np.ndarray]) -> list[int]:
    """Return box indices top-to-bottom, then left-to-right within a row, so ground truth reads naturally."""
    by_top = sorted(
        range(len(boxes)), key=lambda i: (float(boxes[i][:, 1].min()), float(boxes[i][:, 0].min()))
    )
    rows: list[list[int]] = []
    for i in by_top:
        if rows and any(same_row(boxes[j], boxes[i]) for j in rows[-1]):
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda k: float(boxes[k][:, 0].min()))]
