"""A capture thread that keeps only the newest frame, so a slow reader never backs up a live camera."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from edge_ocr.sources.base import SourceError, now_ms

log = logging.getLogger(__name__)

# capture(want) grabs one frame; when want is true it also returns the decoded image (else None).
# It raises on failure; release() frees the device and always runs on the capture thread itself.
Capture = Callable[[bool], "np.ndarray | None"]
FRESH_S = 1.0  # a frame asked for by a read that timed out is still handed out to the next read this long


class LatestFrameGrabber:
    """Runs capture() on its own thread; read() asks for the next new frame and waits for it."""

    def __init__(
        self,
        name: str,
        capture: Capture,
        release: Callable[[], None],
        continuous: bool = True,
        max_failures: int = 5,
    ) -> None:
        self.name = name
        self._capture = capture
        self._release = release
        self._continuous = continuous  # keep grabbing between requests (drains a camera's driver queue)
        self._max_failures = max_failures
        self._cond = threading.Condition()
        self._want = False
        self._stop = False
        self._error: str | None = None
        self._grabbed = 0
        self._delivered = 0
        self._claimed = 0
        self._captured_at = 0.0
        self._image: np.ndarray | None = None
        self._number = 0
        self._captured_ms = 0
        self._thread = threading.Thread(target=self._run, name=f"capture {name}", daemon=True)

    def start(self) -> None:
        """Start capturing."""
        self._thread.start()

    def read(self, timeout_s: float) -> tuple[np.ndarray, int, int] | None:
        """(image, frame number since start, epoch ms) of a new frame, or None within the timeout.

        New: captured after this call, or asked for by an earlier read that timed out and still fresh.
        """
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            fresh = time.monotonic() - self._captured_at < FRESH_S
            if self._delivered > self._claimed and fresh and self._image is not None:
                self._claimed = self._delivered
                return self._image, self._number, self._captured_ms
            seen = self._delivered
            self._want = True
            self._cond.notify_all()
            while self._delivered == seen and self._error is None and not self._stop:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._delivered == seen:
                raise SourceError(f"{self.name}: {self._error or 'closed'}")
            assert self._image is not None
            self._claimed = self._delivered
            return self._image, self._number, self._captured_ms

    def stop(self, join_s: float = 3.0) -> None:
        """Stop the thread; the device is released by the thread (never while it is inside a read)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(join_s)
            if self._thread.is_alive():
                log.warning("%s: capture thread still in a read; it frees the device when done", self.name)

    def _run(self) -> None:
        failures = 0
        try:
            while True:
                with self._cond:
                    if self._stop:
                        return
                    if not self._continuous and not self._want:
                        self._cond.wait(0.2)
                        continue
                    want = self._want
                try:
                    image = self._capture(want)
                except Exception as exc:  # the device boundary: any driver error ends in a SourceError
                    failures += 1
                    if failures >= self._max_failures:
                        with self._cond:
                            self._error = str(exc) or type(exc).__name__
                            self._cond.notify_all()
                        return
                    with self._cond:
                        self._cond.wait(0.05)
                    continue
                failures = 0
                with self._cond:
                    self._grabbed += 1
                    if image is not None:
                        self._image = image
                        self._number = self._grabbed - 1
                        self._captured_ms = now_ms()
                        self._captured_at = time.monotonic()
                        self._delivered += 1
                        self._want = False
                        self._cond.notify_all()
        finally:
            try:
                self._release()
            except Exception as exc:  # releasing a vanished device may fail too; nothing left to do
                log.debug("%s: release failed: %s", self.name, exc)
