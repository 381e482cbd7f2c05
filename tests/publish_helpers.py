"""Helpers for the publisher tests: results to store, configs, the `edge-ocr publish` process, outbox reads.

Not a test module; tests/test_publish.py builds its fixtures on these.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from edge_ocr.config import MqttSection
from edge_ocr.publish.messages import message_builder
from edge_ocr.publish.topics import Topics
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import RetentionPolicy, Store, StoreSettings
from edge_ocr.store.db import DB_NAME
from tests.broker import Broker
from tests.toml_text import toml_sections
from tests.waiting import wait_until  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parent.parent
DEVICE = "dev1"
PREFIX = "edge_ocr"
TOPICS = Topics(PREFIX, DEVICE)
BOX = ((0.0, 0.0), (40.0, 0.0), (40.0, 10.0), (0.0, 10.0))


def make_result(i: int, codes: list[Code] | None = None) -> PageResult:
    """A small distinct result: the number is in the text, so a message can be traced to its scan."""
    return PageResult(f"cam-{i}", 0, 640, 480, [TextLine(f"result {i}", 0.93, BOX)], codes=codes or [])


def qr(text: str) -> Code:
    """A decoded QR code (what the tag topic is for)."""
    return Code("QRCode", text.encode(), text, BOX, readers=("zxing",))


def ean(text: str) -> Code:
    """A decoded 1-D code (never a tag)."""
    return Code("EAN13", text.encode(), text, BOX, readers=("zxing",))


def store_settings(**retention: Any) -> StoreSettings:
    """The test device's store; no disk reserve, so a busy CI disk never refuses a scan."""
    return StoreSettings(device=DEVICE, retention=RetentionPolicy(min_free_bytes=0, **retention))


def open_store(state_dir: Path, **retention: Any) -> Store:
    """A producer's own connection to the store (the publisher opens its own)."""
    return Store(state_dir, store_settings(**retention))


def store_results(store: Store, start: int, count: int) -> None:
    """Store results start..start+count-1 with their outbox messages (one scan message each, no codes)."""
    build = message_builder(TOPICS)
    for i in range(start, start + count):
        store.save_scan(make_result(i), messages=build)


def mqtt_settings(broker: Broker, **overrides: Any) -> MqttSection:
    """The [mqtt] section for this broker with fast test timings, plus any overrides."""
    values: dict[str, Any] = {
        "enabled": True,
        "host": broker.host,
        "port": broker.port,
        "topic_prefix": PREFIX,
        "keepalive_s": 5,
        "backoff_min_s": 0.2,
        "backoff_max_s": 1.0,
        "stats_interval_s": 3600.0,
        "inflight": 16,
    }
    values.update(overrides)
    return MqttSection(**values)


def write_config(
    path: Path, mqtt: MqttSection, state_dir: Path, store: Mapping[str, Any] | None = None
) -> Path:
    """A config file for `edge-ocr publish`: the device, its state dir, [store] and every [mqtt] key."""
    sections = {
        "device": {"id": DEVICE, "state_dir": str(state_dir)},
        "store": {"min_free_mb": 0.0, **(store or {})},
        "mqtt": {f.name: getattr(mqtt, f.name) for f in fields(MqttSection)},
    }
    path.write_text(toml_sections(sections))
    return path


class PublisherProcess:
    """`python -m edge_ocr publish --config FILE -v` as a child process; stderr goes to a file."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> PublisherProcess:
        """Start (again); every start appends to the same log file."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("ab") as log:
            log.write(f"--- publish_helpers: start {self.starts + 1}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edge_ocr", "publish", "--config", str(self.config), "-v"],
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        """The running child's id."""
        assert self.proc is not None and self.proc.poll() is None, "the publisher is not running"
        return self.proc.pid

    def signal(self, sig: int) -> None:
        """Send a signal (SIGSTOP/SIGCONT for a frozen process)."""
        os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL, like a power cut: no goodbye, no offline status."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM; the exit status and how long the exit took."""
        assert self.proc is not None
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - began

    def log(self) -> str:
        """Everything the publisher logged across all its starts."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        """Kill what is still running (a failed test must not leave a child behind)."""
        self.kill()  # SIGKILL ends a frozen (SIGSTOP) child too


def outbox(state_dir: Path) -> list[tuple[int, str, int, str, int | None, int]]:
    """(id, message_id, seq, topic, sent_ms, attempts) of every outbox row, read by a separate connection."""
    conn = sqlite3.connect(f"file:{state_dir / DB_NAME}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(
            "SELECT id, message_id, seq, topic, sent_ms, attempts FROM outbox ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def unsent(state_dir: Path) -> int:
    """How many outbox rows are still waiting for a PUBACK."""
    return sum(1 for row in outbox(state_dir) if row[4] is None)


class Producer(threading.Thread):
    """Stores `count` results at a steady rate through its own Store, like the scanning daemon would."""

    def __init__(self, state_dir: Path, count: int, rate_per_s: float) -> None:
        super().__init__(name="producer", daemon=True)
        self.state_dir = state_dir
        self.count = count
        self.interval = 1.0 / rate_per_s
        self.stored = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        """Store at the set pace (catching up after a stall rather than drifting)."""
        build = message_builder(TOPICS)
        try:
            with open_store(self.state_dir) as store:
                began = time.monotonic()
                for i in range(self.count):
                    delay = began + i * self.interval - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    store.save_scan(make_result(i), messages=build)
                    self.stored += 1
        except BaseException as exc:
            self.error = exc
