"""Drawing helpers that render text runs with PIL and record each run's box as ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.synth.sample import Sample, reading_order, rect_box

Color = tuple[int, int, int]


@dataclass
class Extent:
    """Where a run's box lies relative to its pen position on the baseline."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.right - self.left

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.bottom - self.top


def cap_height(font: ImageFont.FreeTypeFont) -> int:
    """Return the font's cap height in pixels, the size OCR legibility depends on."""
    return -int(font.getbbox("H", anchor="ls")[1])


def measure(font: ImageFont.FreeTypeFont, text: str, stroke: int = 0) -> Extent:
    """Return the box of a run: ink extent, at least cap height tall, with a small pad."""
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    pad = max(1, round(font.size * 0.06))
    top = min(top, -cap_height(font) - stroke)
    bottom = max(bottom, stroke)
    return Extent(left - pad, right + pad, top - pad, bottom + pad)


class Canvas:
    """An RGB drawing surface that remembers every text run drawn on it and where."""

    def __init__(self, width: int, height: int, color: Color) -> None:
        """Create a blank surface of one colour."""
        self.image = Image.new("RGB", (int(width), int(height)), color)
        self.draw = ImageDraw.Draw(self.image)
        self.runs: list[tuple[str, np.ndarray]] = []

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return self.image.size

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        font: ImageFont.FreeTypeFont,
        fill: Color,
        stroke: int = 0,
    ) -> np.ndarray:
        """Draw a run with its pen at (x, baseline) and record its box."""
        if not text or text != " ".join(text.split()):
            raise ValueError(f"a run must be non-empty with single inner spaces: {text!r}")
        x, baseline = round(x), round(baseline)
        self.draw.text(
            (x, baseline), text, font=font, fill=fill, anchor="ls", stroke_width=stroke, stroke_fill=fill
        )
        ext = measure(font, text, stroke)
        w, h = self.size
        box = rect_box(
            max(0.0, x + ext.left),
            max(0.0, baseline + ext.top),
            min(w - 1.0, x + ext.right),
            min(h - 1.0, baseline + ext.bottom),
        )
        self.runs.append((text, box))
        return box

    def to_sample(self, kind: str) -> Sample:
        """Return the drawing as a BGR sample with runs in reading order."""
        bgr = cv2.cvtColor(np.asarray(self.image, dtype=np.uint8), cv2.COLOR_RGB2BGR)
        order = reading_order([box for _, box in self.runs])
        return Sample(
            image=bgr,
            lines=[self.runs[i][0] for i in order],
            kind=kind,
            boxes=[self.runs[i][1] for i in order],
        )


def fit_size(
    font_for: Callable[[int], ImageFont.FreeTypeFont],
    text: str,
    size: int,
    max_width: float,
    min_size: int = 8,
) -> int:
    """Return the largest size not above `size` at which `text` fits in `max_width` pixels."""
    while size > min_size and measure(font_for(size), text).width > max_width:
        size = max(min_size, int(size * 0.94))
    return size
