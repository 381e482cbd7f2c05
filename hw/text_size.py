"""How tall must text be, in pixels, to be read? Planning figure for hw/mounting-and-lighting.md.

Renders serial-number-like lines at several font sizes (tests/imaging.py, DejaVu Sans, dark on a
light card), places each on a plain 1280x720 frame and reads it with the default pack. Clean,
sharp, upright text: a camera's blur, noise and perspective need a margin on top.

    .venv/bin/python -m hw.text_size      # from the repository root (needs the test extras' font)
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_ocr.ocr.engine import EngineSettings, load_engine
from tests.imaging import place, render_lines

LINES = ("SN 7F3K-22981", "LOT K7-3310", "PO 4471-AX2", "DOCK 12B", "ID 00417-PS3", "MODEL HX-220")
SIZES = (6, 7, 8, 9, 10, 12, 14, 16, 20)
FRAME_HW = (720, 1280)


def ink_height(card: np.ndarray) -> int:
    """Rows holding dark pixels: the height of the capitals and digits as drawn."""
    return int((cv2.cvtColor(card, cv2.COLOR_BGR2GRAY) < 128).any(axis=1).sum())


def main() -> None:
    """One line per font size: ink height and how many lines were read exactly."""
    pipeline = load_engine(EngineSettings()).pipeline
    print("font px  ink height px  read exactly")
    for size in SIZES:
        heights, read = [], 0
        for text in LINES:
            card = render_lines([text], size=size)
            heights.append(ink_height(card))
            result = pipeline.read(place(FRAME_HW, card, (300, 400)))
            read += "".join(x.text for x in result.lines).replace(" ", "") == text.replace(" ", "")
        print(f"{size:7d}  {np.median(heights):13.0f}  {read}/{len(LINES)}")


if __name__ == "__main__":
    main()
