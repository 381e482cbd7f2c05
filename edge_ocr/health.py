"""The daemon's health: what it did (counters), the MQTT stats body, systemd's STATUS= line and
status.json for `edge-ocr status`."""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_ocr.config import Config
from edge_ocr.gate import FrameGate
from edge_ocr.models import default_models_dir
from edge_ocr.notify import Notifier

log = logging.getLogger("edge_ocr.health")

STATUS_FILE = "status.json"
FPS_WINDOW = 120  # frames the rate is measured over


@dataclass
class Counters:
    """What the daemon did, for stats, STATUS= and status.json."""

    captured: int = 0
    processed: int = 0
    stored: int = 0
    repeats: int = 0
    empty: int = 0
    dropped: int = 0
    failed: int = 0
    skipped_already_stored: int = 0
    duplicates: int = 0  # of those, the same content under another name (logged with the earlier scan)
    last_error: str | None = None
    started: float = field(default_factory=time.time)
    recent: deque = field(default_factory=lambda: deque(maxlen=FPS_WINDOW))  # processing end times

    def fps(self) -> float:
        """Frames processed per second over the last FPS_WINDOW frames (at most the last minute)."""
        now = time.monotonic()
        times = [t for t in self.recent if now - t <= 60]
        if len(times) < 2:
            return 0.0
        return round((len(times) - 1) / max(now - times[0], 1e-3), 3)


class Health:
    """Reads the counters and the parts; writes nothing but status.json and STATUS=."""

    def __init__(self, config: Config, state_dir: Path, gate: FrameGate, notifier: Notifier) -> None:
        self.config = config
        self.state_dir = state_dir
        self.gate = gate
        self.notifier = notifier
        self.counters = Counters()
        self.store: Any = None
        self.publisher: Any = None
        self.source: Any = None
        # The model folder this daemon loaded, symlinks resolved at start (a deployment switches
        # /opt/edge-ocr/models/current and checks here that the restarted daemon uses the new pack).
        self.models_dir = str(default_models_dir().resolve())

    def attach(self, store: Any, publisher: Any, source: Any) -> None:
        """The parts whose state is reported, once they are open."""
        self.store, self.publisher, self.source = store, publisher, source

    def stats_extra(self) -> dict:
        """The daemon's figures added to the MQTT stats message."""
        c = self.counters
        src = self.source
        return {
            "fps": c.fps(),
            "frames": {
                "captured": c.captured,
                "processed": c.processed,
                "stored": c.stored,
                "repeats": c.repeats,
                "dropped": c.dropped,
                "failed": c.failed,
                "skipped_already_stored": c.skipped_already_stored,
                "duplicates": c.duplicates,
            },
            "gate": dict(self.gate.counts),
            "source": {
                "name": src.name if src else None,
                "reconnects": src.reconnects if src else 0,
                "stalls": src.stalls if src else 0,
                "last_error": src.last_error if src else None,
                **self._file_errors(),
            },
            "last_error": c.last_error,
        }

    def _file_errors(self) -> dict:
        """Files a folder source could not decode (images: skipped, inbox: failed/), else only in the log."""
        inner = self.source.source if self.source else None
        failed = getattr(inner, "files_failed", None)
        if not isinstance(failed, int):
            return {}
        return {"files_failed": failed, "file_error": getattr(inner, "last_error", None)}

    def status_line(self, depth: int | None = None) -> str:
        """One line for systemd's STATUS= (the outbox depth is passed in when already known)."""
        if depth is None:
            depth = self.store.outbox_depth() if self.store else 0
        c = self.counters
        err = f", last error: {c.last_error[:80]}" if c.last_error else ""
        return f"{c.fps():.2f} fps, {c.processed} read, {c.dropped} dropped, outbox {depth}{err}"

    def write_status(self, notify: bool = True) -> None:
        """STATUS= to systemd and status.json in the state directory (for `edge-ocr status`)."""
        try:
            store = self.store.status().to_dict() if self.store else {}
            body = {
                "pid": os.getpid(),
                "updated": time.time(),
                "started": self.counters.started,
                "device": self.config.device_id,
                "config": self.config.origin,
                "models_dir": self.models_dir,
                "mqtt_connected": bool(self.publisher and self.publisher.stats.connected),
                "mqtt_last_error": self.publisher.stats.last_error if self.publisher else None,
                **self.stats_extra(),
                "store": store,
            }
            path = self.state_dir / STATUS_FILE
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(body, indent=1))
            os.replace(tmp, path)
            if notify:
                self.notifier.status(self.status_line(store.get("outbox_unsent")))
        except Exception as exc:  # health reporting must never stop the reading
            log.warning("could not write the status: %s", exc)
