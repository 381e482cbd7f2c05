"""The frame gate, before any inference: triggers, too blurred, unchanged; and after it, repeats.

Every decision is counted, so an operator can see why frames were not read.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_ocr.config import GateSection
from edge_ocr.results import PageResult

THUMB = 64  # side of the grey thumbnail frames are compared on
SHARP_SIDE = 640  # long side the sharpness is measured at (so thresholds do not depend on resolution)


def working_grey(image: np.ndarray) -> np.ndarray:
    """The frame grey at SHARP_SIDE on its long side: one downscale serves both checks, so their
    thresholds do not depend on the camera's resolution and a 12 MP frame costs no more than a small one."""
    scale = SHARP_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: low for a blurred frame."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A small blurred grey image: robust to noise when comparing frames."""
    small = cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    return cv2.GaussianBlur(small, (3, 3), 0)


@dataclass(frozen=True)
class FrameScores:
    """What the gate measures on a frame, for an installer to set thresholds by (`edge-ocr preview`)."""

    sharpness: float
    change: float | None  # mean grey difference to the last read frame; None before the first one


@dataclass
class Decision:
    """Whether a frame goes to inference, and why (the reason is counted)."""

    process: bool
    reason: str  # processed | requested | blurred | unchanged | interval | waiting-for-trigger | rate


@dataclass
class FrameGate:
    """Trigger mode plus the blur and change checks."""

    settings: GateSection
    clock: Callable[[], float] = time.monotonic
    counts: Counter = field(default_factory=Counter)
    _last_thumb: np.ndarray | None = None
    _last_time: float = float("-inf")
    _requested: threading.Event = field(default_factory=threading.Event)

    def request(self) -> None:
        """Read the next sharp frame whatever the trigger mode (cmd/scan, a GPIO button)."""
        self._requested.set()

    def check(self, image: np.ndarray) -> Decision:
        """Decide for one frame; only frames that pass update the 'last processed' reference.

        The timing and trigger checks come first: a frame they turn away costs no image work.
        """
        s = self.settings
        now = self.clock()
        requested = self._requested.is_set()
        reason = None if requested else self._not_yet(now)
        thumb = None
        if reason is None:
            grey = working_grey(image)
            thumb = thumbnail(grey)
            if s.min_sharpness > 0 and sharpness(grey) < s.min_sharpness:
                reason = "blurred"
            elif not requested and self._unchanged(thumb):
                reason = "unchanged"
        if reason is not None:
            self.counts[reason] += 1
            return Decision(False, reason)
        self._requested.clear()
        self._last_thumb, self._last_time = thumb, now
        reason = "requested" if requested else "processed"
        self.counts[reason] += 1
        return Decision(True, reason)

    def _not_yet(self, now: float) -> str | None:
        """Why the trigger or timing turns an unrequested frame away, if it does."""
        s = self.settings
        if s.trigger in ("command", "gpio"):
            return "waiting-for-trigger"
        if s.max_fps > 0 and now - self._last_time < 1.0 / s.max_fps:
            return "rate"
        if s.trigger == "interval" and now - self._last_time < s.interval_s:
            return "interval"
        return None

    def change_threshold(self) -> float | None:
        """The change below which a frame counts as unchanged; None when the trigger never checks it."""
        s = self.settings
        if s.trigger not in ("continuous", "scene-change"):
            return None
        if s.change_threshold <= 0 and s.trigger != "scene-change":
            return None
        return s.change_threshold or 6.0

    def measure(self, image: np.ndarray) -> FrameScores:
        """The scores check() decides on, without deciding, counting or moving the reference frame."""
        grey = working_grey(image)
        return FrameScores(sharpness(grey), self._change(thumbnail(grey)))

    def _change(self, thumb: np.ndarray) -> float | None:
        if self._last_thumb is None:
            return None
        return float(np.abs(thumb - self._last_thumb).mean())

    def _unchanged(self, thumb: np.ndarray) -> bool:
        threshold = self.change_threshold()
        change = self._change(thumb) if threshold is not None else None
        return change is not None and threshold is not None and change < threshold


def reading_key(result: PageResult) -> str:
    """What a frame said, normalised: the same label seen twice gives the same key ('' for nothing)."""
    words = " ".join(" ".join(line.text.split()).upper() for line in result.lines)
    codes = "|".join(sorted(f"{c.symbology}:{c.data.hex()}" for c in result.codes))
    return f"{words}#{codes}" if (words or codes) else ""


@dataclass
class RepeatFilter:
    """The same reading within `window_s` is stored once (its seen-count and last-seen time go up)."""

    window_s: float
    clock: Callable[[], float] = time.monotonic
    _recent: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (scan id, last seen)

    def repeat_of(self, result: PageResult) -> int | None:
        """The scan id this reading repeats, or None when it is new (or empty)."""
        key = reading_key(result)
        now = self.clock()
        self._recent = {k: v for k, v in self._recent.items() if now - v[1] <= self.window_s}
        if not key or key not in self._recent:
            return None
        scan_id, _ = self._recent[key]
        self._recent[key] = (scan_id, now)
        return scan_id

    def remember(self, result: PageResult, scan_id: int) -> None:
        """A new reading was stored under scan_id."""
        key = reading_key(result)
        if key and self.window_s > 0:
            self._recent[key] = (scan_id, self.clock())
