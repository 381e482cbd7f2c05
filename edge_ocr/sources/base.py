"""The frame source interface: what every camera, stream, video file and folder hands the daemon."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge_ocr.errors import EdgeOcrError


@dataclass
class Frame:
    """One image to read, with where and when it came from (and, for inbox files, which file)."""

    image: np.ndarray  # BGR uint8
    source: str  # e.g. "v4l2:/dev/video0", "video:clip.avi", "inbox:label.pdf"
    index: int  # running frame number within this source (since open), from 0
    captured_ms: int  # wall clock, epoch ms
    page: int = 1
    item: str | None = None  # inbox: the file path this frame came from (for done/failed)
    last_of_item: bool = True  # inbox: the last page of that file


class SourceError(EdgeOcrError):
    """The source cannot be opened or read (unplugged camera, bad URL): reopen it later."""


class EndOfSource(Exception):
    """A finite source (a video without loop, an images folder) has handed out everything."""


class FrameSource(Protocol):
    """Anything that yields frames; hardware errors surface as SourceError with an operator-fit message."""

    name: str

    def open(self) -> None: ...

    def read(self, timeout_s: float) -> Frame | None: ...

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None: ...

    def close(self) -> None: ...


def now_ms() -> int:
    """Wall-clock epoch milliseconds, the unit stored with every scan."""
    return time.time_ns() // 1_000_000


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Grey, BGRA/BGRX or BGR arrays as contiguous 3-channel BGR uint8 (what the pipeline expects)."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    elif image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.dtype != np.uint8:
        raise SourceError(f"unexpected frame type {image.dtype} (expected 8-bit pixels)")
    return np.ascontiguousarray(image)
