"""Decide whether a line crop is upside down (0 or 180 degrees) and turn it upright."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_ocr.ocr.recognise import normalise_line
from edge_ocr.ocr.runtime import Session


class OrientationClassifier:
    """PaddleOCR's text-line direction classifier: two classes, 0 and 180 degrees."""

    def __init__(self, session: Session, threshold: float = 0.9) -> None:
        self.session = session
        _, self.height, self.width, _ = session.input_shape
        self.threshold = threshold

    def upside_down(self, crops: Sequence[np.ndarray]) -> list[float]:
        """Probability that each crop is rotated by 180 degrees."""
        scores = []
        batch = np.zeros(self.session.input_shape, dtype=np.float32)
        for crop in crops:
            line = normalise_line(crop, self.height)[:, : self.width]
            batch.fill(0.0)
            batch[0, :, : line.shape[1]] = line
            scores.append(float(self.session(batch)[0][1]))
        return scores

    def make_upright(self, crops: list[np.ndarray]) -> tuple[list[np.ndarray], list[bool]]:
        """Rotate crops the classifier is confident are upside down; report which."""
        flipped = [p >= self.threshold for p in self.upside_down(crops)]
        return [np.ascontiguousarray(c[::-1, ::-1]) if f else c for c, f in zip(crops, flipped)], flipped
