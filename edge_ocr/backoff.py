"""Reconnect pacing (the MQTT publisher, reopening frame sources): exponential backoff, with or
without full jitter; and outage logging: one line per outage plus a periodic summary instead of a
line per retry."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays that double from min_s up to max_s; with jitter (many devices, one broker) each is drawn
    uniformly below the current ceiling, without it (a local camera) each is the ceiling."""

    min_s: float = 1.0
    max_s: float = 60.0
    jitter: bool = True
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The wait before the next attempt (at least min_s / 2, so a dead peer never sees a busy loop)."""
        ceiling = min(self.max_s, self.min_s * (2**self.attempt))
        self.attempt += 1
        if not self.jitter:
            return ceiling
        return max(self.min_s / 2, self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        """After a successful connection."""
        self.attempt = 0


@dataclass
class OutageLog:
    """Logs the first failure of an outage, a summary every summary_s, and the recovery."""

    log: logging.Logger
    summary_s: float = 60.0
    started: float | None = None
    failures: int = 0
    last_error: str = ""
    last_summary: float = 0.0

    def failed(self, error: str) -> None:
        """One failed attempt."""
        now = time.monotonic()
        self.failures += 1
        self.last_error = error
        if self.started is None:
            self.started = self.last_summary = now
            self.log.warning("broker unavailable: %s; retrying with backoff", error)
        elif now - self.last_summary >= self.summary_s:
            self.last_summary = now
            self.log.warning(
                "still no broker after %d attempts in %.0f s; last error: %s",
                self.failures,
                now - self.started,
                error,
            )

    def recovered(self, backlog: int) -> None:
        """Connected again."""
        if self.started is not None:
            self.log.info(
                "connected after an outage of %.0f s (%d failed attempts); %d messages to send",
                time.monotonic() - self.started,
                self.failures,
                backlog,
            )
        self.started, self.failures = None, 0

    @property
    def offline_s(self) -> float:
        """How long the current outage has lasted (0 when connected)."""
        return 0.0 if self.started is None else time.monotonic() - self.started
