"""Helpers for the daemon tests: label scenes, MJPG videos, TOML configs, the `edge-ocr run` process,
read-only looks at its store, and a systemd notify socket.

Not a test module; tests/test_daemon.py builds on these. Everything is real: the daemon is a child
process on the shipped models, its store is the SQLite file it writes, its notify socket a Unix socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tests.imaging import place, render_lines
from tests.synth.codes import render_code
from tests.toml_text import toml_sections
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
DEVICE = "daemon-test"
PREFIX = "edge_ocr"
SCENE_HW = (360, 640)
# Variables that would point the child at another config, state folder, notify socket or the journal.
SCRUBBED_ENV = (
    "EDGE_OCR_CONFIG",
    "EDGE_OCR_STATE_DIR",
    "STATE_DIRECTORY",
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "INVOCATION_ID",
)
# Time-outs sized for a busy 2-core machine (a soak benchmark may share it): generous, never slept.
START_S = 90.0
STOP_S = 20.0


# ---- images and videos ------------------------------------------------------------------------------


def label(lines: list[str], qr: str | None = None, size: int = 30) -> np.ndarray:
    """A printed label (BGR): the lines of text, and a QR code to their right when qr is given."""
    text = render_lines(lines, size=size)
    if qr is None:
        return text
    code = cv2.cvtColor(render_code("QRCode", qr, 4), cv2.COLOR_GRAY2BGR)
    h = max(text.shape[0], code.shape[0])
    card = np.full((h, text.shape[1] + code.shape[1] + 10, 3), 245, np.uint8)
    card[: text.shape[0], : text.shape[1]] = text
    card[: code.shape[0], text.shape[1] + 10 :] = code
    return card


def scene(card: np.ndarray, at: tuple[int, int] = (40, 60), noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """The label on a plain background as a camera frame, with optional sensor noise."""
    frame = place(SCENE_HW, card, at)
    if noise:
        rng = np.random.default_rng(seed)
        frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
    return frame


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float) -> Path:
    """An MJPG .avi, the container and codec OpenCV can always write and read back."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an MJPG video to {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_image(path: Path, image: np.ndarray) -> Path:
    """An image file in the format its suffix names."""
    if not cv2.imwrite(str(path), image):
        raise RuntimeError(f"cannot write {path}")
    return path


def two_page_pdf(path: Path, first: np.ndarray, second: np.ndarray, dpi: int = 100) -> Path:
    """A scanned 2-page PDF: tests/pdfmaker.py's one-page image PDFs joined by pdfium."""
    import pypdfium2 as pdfium

    from tests.pdfmaker import image_pdf

    parts = [image_pdf(path.with_name(f".page{i}.pdf"), img, dpi) for i, img in enumerate((first, second))]
    doc = pdfium.PdfDocument.new()
    for part in parts:
        src = pdfium.PdfDocument(str(part))
        doc.import_pages(src)
        src.close()
    doc.save(str(path))
    doc.close()
    for part in parts:
        part.unlink()
    return path


# ---- configuration ----------------------------------------------------------------------------------


def write_config(path: Path, **sections: Mapping[str, Any]) -> Path:
    """A config file: the test device (no disk reserve, status every 0.5 s) plus the given sections."""
    merged: dict[str, dict[str, Any]] = {
        "device": {"id": DEVICE},
        "store": {"min_free_mb": 0},
        "service": {"status_interval_s": 0.5},
    }
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    path.write_text(toml_sections(merged))
    return path


def mqtt_section(port: int, **overrides: Any) -> dict[str, Any]:
    """[mqtt] for a test broker, with short back-off so reconnects do not slow the test."""
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "topic_prefix": PREFIX,
        "keepalive_s": 10,
        "backoff_min_s": 0.2,
        "backoff_max_s": 1.0,
        **overrides,
    }


# ---- the daemon process -----------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would redirect the child, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a hung child is sent SIGABRT: every thread's stack goes to the log
    env.update(extra)
    return env


def cli(*args: str, timeout: float = 60.0, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`edge-ocr ARGS` as a child process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "edge_ocr", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(),
        cwd=cwd or REPO,
    )


class DaemonProcess:
    """`python -m edge_ocr run --config CFG --state-dir DIR`, logging to DIR/../NAME.log."""

    def __init__(
        self,
        config: Path | None,
        state_dir: Path,
        name: str = "daemon",
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.log_path = state_dir.parent / f"{name}.log"
        self.env = child_env(**(env or {}))
        self.cwd = cwd or REPO
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    def start(self) -> DaemonProcess:
        """Start the child; its stderr (the log) and stdout go to the log file."""
        args = [sys.executable, "-m", "edge_ocr", "run", "--state-dir", str(self.state_dir)]
        if self.config is not None:
            args[4:4] = ["--config", str(self.config)]
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
        return self

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        """True while the child has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        """What this start of the daemon logged so far."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout: float = START_S) -> None:
        """Wait for the `ready:` log line (models loaded, source open); fail with the log if it dies."""
        ok = wait_until(lambda: "edge_ocr.daemon: ready:" in self.log() or not self.running(), timeout)
        assert ok and self.running(), f"the daemon did not become ready:\n{self.log()}"

    def status(self) -> dict[str, Any]:
        """status.json as the daemon last wrote it ({} before the first write)."""
        try:
            return json.loads((self.state_dir / "status.json").read_text())
        except (OSError, ValueError):
            return {}

    def wait_status(self, predicate: Callable[[dict[str, Any]], Any], timeout: float) -> dict[str, Any]:
        """Wait until status.json satisfies predicate; the last status on success, an assertion if not."""
        seen: dict[str, Any] = {}

        def check() -> bool:
            nonlocal seen
            seen = self.status()
            return bool(seen) and bool(predicate(seen))

        assert wait_until(check, timeout, 0.1), f"status never matched; last: {seen}\n{self.log()[-3000:]}"
        return seen

    def wait_exit(self, timeout: float) -> int:
        """The exit status, once the child ends by itself."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)  # faulthandler writes where each thread is stuck
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            stuck = self.log()[-12000:]
            raise AssertionError(f"the daemon did not exit within {timeout} s:\n{stuck}") from None

    def terminate(self, timeout: float = STOP_S) -> tuple[int, float]:
        """SIGTERM, as systemd stops it; (exit status, seconds it took)."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        return rc, time.monotonic() - start

    def kill(self) -> None:
        """SIGKILL, like a power cut or the OOM killer: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        """Make sure the child is gone (a failed test must not leave a daemon running)."""
        self.kill()


# ---- the store, read as another program would -------------------------------------------------------


def query(state_dir: Path, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
    """Rows from the daemon's store through a read-only connection (the daemon may be writing)."""
    uri = f"file:{state_dir / 'edge_ocr.db'}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10)
    except sqlite3.OperationalError:
        return []  # not created yet
    try:
        return conn.execute(sql, tuple(params)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # created, not yet migrated
        raise
    finally:
        conn.close()


@dataclass(frozen=True)
class ScanRow:
    """One stored scan with its text joined line by line and its code payloads."""

    id: int
    source: str
    page: int
    fingerprint: str | None
    status: str
    seen_count: int
    text: str
    codes: tuple[str, ...]


def scans(state_dir: Path) -> list[ScanRow]:
    """Every stored scan, oldest first."""
    rows = query(
        state_dir,
        "SELECT s.id, s.source, s.page, s.fingerprint, s.status, s.seen_count,"
        " coalesce((SELECT group_concat(text, '\n') FROM (SELECT text FROM lines"
        "  WHERE scan_id = s.id ORDER BY seq)), ''),"
        " coalesce((SELECT group_concat(text, '\n') FROM codes WHERE scan_id = s.id), '')"
        " FROM scans s ORDER BY s.id",
    )
    return [ScanRow(*r[:6], r[6], tuple(c for c in r[7].split("\n") if c)) for r in rows]


def normalised(text: str) -> str:
    """Upper case, single spaces: how a reading is compared with what was printed."""
    return " ".join(text.split()).upper()


def outbox_by_scan(state_dir: Path) -> dict[int, list[tuple[str, str]]]:
    """Outbox rows per scan id: (topic, message_id), in the order they were written."""
    out: dict[int, list[tuple[str, str]]] = {}
    for scan_id, topic, message_id in query(
        state_dir, "SELECT scan_id, topic, message_id FROM outbox ORDER BY id"
    ):
        out.setdefault(scan_id, []).append((topic, message_id))
    return out


# ---- systemd's side of sd_notify --------------------------------------------------------------------


@dataclass
class NotifySocket:
    """A bound Unix datagram socket standing in for systemd: records every message with its time."""

    path: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="eo-n-", dir="/tmp")) / "notify")
    messages: list[tuple[float, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))  # /tmp keeps it well under the 108-byte limit of a socket path
        self._sock.settimeout(0.2)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="notify-socket", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._cond:
                self.messages.append((time.monotonic(), fields))
                self._cond.notify_all()

    def snapshot(self) -> list[dict[str, str]]:
        """The messages so far, in arrival order."""
        with self._cond:
            return [m for _, m in self.messages]

    def wait_for(self, predicate: Callable[[list[dict[str, str]]], bool], timeout: float) -> bool:
        """Wait until predicate(messages so far) holds."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate([m for _, m in self.messages]), timeout)

    def close(self) -> None:
        """Stop listening and remove the socket file and its folder."""
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
        self.path.unlink(missing_ok=True)
        self.path.parent.rmdir()


def index_of(messages: list[dict[str, str]], key: str, value: str | None = None, start: int = 0) -> int:
    """Position of the first message from `start` carrying key (=value); -1 when none does."""
    for i in range(start, len(messages)):
        if key in messages[i] and (value is None or messages[i][key] == value):
            return i
    return -1


STATUS_LINE = re.compile(r"^\d+\.\d+ fps, \d+ read, \d+ dropped, outbox \d+")


def scan_ids_published(rec: Any, topic: str) -> set[int]:
    """The scan ids of the scan messages a tests.broker.Recorder has received on topic."""
    return {int(p["scan_id"]) for p in rec.payloads_json(topic)}
