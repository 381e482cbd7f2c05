"""Keep any source coming back: reopen with exponential backoff after errors and stalls, counting both."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge_ocr.backoff import Backoff
from edge_ocr.config.kinds import SourceSettings
from edge_ocr.sources.base import Frame, FrameSource, SourceError

log = logging.getLogger(__name__)


@dataclass
class SourceStats:
    """The source's health, for status lines and stats messages."""

    name: str
    up: bool
    reconnects: int
    stalls: int
    errors: int
    last_error: str | None


class ResilientSource:
    """Wraps a FrameSource so a camera that is unplugged, a stream that drops, or a file that vanishes
    comes back by itself: read() never raises SourceError (it returns None while the source is down);
    EndOfSource passes through.

    A source that opens but yields no frame for `stall_s` is closed and reopened (a stall), unless it
    declares `may_idle` (an empty inbox is idle, not stalled). Reopen attempts wait reopen_min_s,
    doubling per consecutive failure up to reopen_max_s; the wait resets once frames flow again.
    `reconnects` counts successful opens after a failure or stall, `errors` the SourceErrors,
    `stalls` the stalls. Frame numbers restart at 0 after each reopen.
    """

    def __init__(
        self, source: FrameSource, settings: SourceSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.source = source
        self.name = source.name
        self.stall_s = settings.stall_s
        self.reconnects = 0
        self.stalls = 0
        self.errors = 0
        self.last_error: str | None = None
        self._clock = clock
        self._may_idle = bool(getattr(source, "may_idle", False))
        self._up = False
        self._failed = False  # down after a failure or stall (so the next open is a reconnect)
        self._backoff = Backoff(settings.reopen_min_s, settings.reopen_max_s, jitter=False)
        self._next_try = float("-inf")
        self._last_frame = 0.0
        self._closed = threading.Event()
        self._lock = threading.Lock()  # the inner read and close never overlap (cv2 is not thread-safe)

    @property
    def up(self) -> bool:
        """Open and (as far as is known) delivering."""
        return self._up

    def stats(self) -> SourceStats:
        """A snapshot of the counters."""
        return SourceStats(self.name, self._up, self.reconnects, self.stalls, self.errors, self.last_error)

    def try_open(self) -> bool:
        """Open now (ignoring the backoff); False, with last_error set, when the source is not there."""
        self._closed.clear()
        return self._open_inner()

    def _open_inner(self) -> bool:
        if self._up:
            return True
        try:
            with self._lock:
                self.source.open()
        except SourceError as exc:
            self._close_inner()
            self._down(str(exc))
            return False
        if self._failed:
            self.reconnects += 1
            log.info("%s: reconnected", self.name)
        self._up, self._failed = True, False
        self._last_frame = self._clock()
        return True

    def open(self) -> None:
        """Open if possible; a missing source is retried by read(), never raised."""
        self.try_open()

    def read(self, timeout_s: float) -> Frame | None:
        """A frame, or None within about timeout_s (also while the source is down and not yet due)."""
        deadline = self._clock() + timeout_s
        if self._closed.is_set():
            return None
        if not self._up:
            wait = self._next_try - self._clock()
            if wait > timeout_s:
                self._closed.wait(max(0.0, timeout_s))
                return None
            if wait > 0 and self._closed.wait(wait):
                return None
            if not self._open_inner():
                return None
        try:
            with self._lock:
                frame = self.source.read(max(0.0, deadline - self._clock()))
        except SourceError as exc:
            self._close_inner()
            if not self._closed.is_set():  # closing makes a live source's read fail: not an error
                self._down(str(exc))
            return None
        now = self._clock()
        if frame is not None:
            self._last_frame = now
            self._backoff.reset()
            return frame
        if not self._may_idle and now - self._last_frame >= self.stall_s:
            self.stalls += 1
            self._close_inner()
            self._down(f"{self.name}: no frame for {now - self._last_frame:.1f} s (stalled)", stall=True)
        return None

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        """Passed on (the inbox files its item away)."""
        self.source.done(frame, ok, error)

    def retry_later(self, frame: Frame) -> bool:
        """Passed on where the source can take a frame back (the inbox); False elsewhere."""
        retry = getattr(self.source, "retry_later", None)
        return bool(retry(frame)) if retry is not None else False

    def close(self) -> None:
        """Close the source and end any wait in read()."""
        self._closed.set()
        self._close_inner()

    def _down(self, message: str, stall: bool = False) -> None:
        """Record the failure and schedule the next attempt."""
        if not stall:
            self.errors += 1
        self.last_error = message
        self._failed = True
        delay = self._backoff.next_delay()
        self._next_try = self._clock() + delay
        log.warning("%s; retrying in %.1f s", message, delay)

    def _close_inner(self) -> None:
        """Close the inner source; it is down until the next successful open."""
        self._up = False
        try:
            with self._lock:
                self.source.close()
        except Exception as exc:  # closing a vanished device may fail; the reopen is what matters
            log.debug("%s: close failed: %s", self.name, exc)
