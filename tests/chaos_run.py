"""A chaos run of the daemon (issue 12 item 7): files arrive in its inbox, some written slowly across a
SIGKILL, while the daemon and the broker are killed and restarted at random and the disk fills up and
frees again. Then the invariants: every file read once and filed in done/, every stored scan in the
outbox with no gap in `seq`, every message acknowledged by the broker and received by a subscriber
(only those the broker acknowledged just before its own SIGKILL may be lost, by the broker), and the
database intact.

Everything is real: the daemon (`edge-ocr run`) on the shipped models, mosquitto with persistence, a
tmpfs for the state directory when this process may mount one (root), SQLite. Used by
tests/test_chaos.py (short) and benchmarks/chaos.py (--minutes N).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from tests.broker import Broker, Recorder
from tests.daemon_helpers import DaemonProcess, label, mqtt_section, write_config
from tests.disk import fill, small_disk
from tests.memory_probe import status
from tests.waiting import wait_until

DEVICE = "daemon-test"
SCAN_TOPIC = f"edge_ocr/{DEVICE}/scan"
STATE_MB = 48  # the tmpfs for the state directory
RESERVE_MB = 6  # [store] min_free_mb: the daemon refuses scans below this
BROKER_LOSS_S = 3.0  # mosquitto autosaves every second: what it acked this long before a SIGKILL may go
ACTIONS = {
    "write": 40,
    "write_slowly": 12,
    "kill_daemon": 14,
    "kill_broker": 10,
    "fill_disk": 10,
    "pause": 14,
}


@dataclass
class ChaosReport:
    """What was done and what was found; problems empty means every invariant held."""

    seconds: float = 0.0
    files: int = 0
    slow_writes: int = 0
    killed_mid_write: int = 0
    daemon_kills: int = 0
    broker_kills: int = 0
    disk_fills: int = 0
    disk_refusals: int = 0
    scans: int = 0
    messages: int = 0
    lost_by_broker: int = 0
    duplicates_received: int = 0
    peak_rss_mb: float = 0.0
    drain_s: float = 0.0
    disk: str = ""
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        figures = {k: v for k, v in self.__dict__.items() if k != "problems"}
        return json.dumps(figures) + ("" if not self.problems else "\nPROBLEMS:\n" + "\n".join(self.problems))


def _vm_hwm_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        return status(pid).get("VmHWM", 0) / 1024
    return 0.0


class Chaos:
    """One run: an inbox, a daemon, a broker with persistence, a subscriber, and a seeded random plan."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.work = workdir
        self.rng = random.Random(seed)
        self.inbox = workdir / "inbox"
        self.state = workdir / "state"  # a tmpfs when possible; the daemon's log goes beside it
        self.report = ChaosReport()
        self.written: dict[str, str] = {}  # name -> sha256 of its content
        self.broker_kill_times: list[float] = []  # time.time() of each broker SIGKILL
        self._n = 0
        self._filler: Path | None = None

    # ---- the parts -------------------------------------------------------------------------------

    def _new_file(self) -> tuple[str, bytes]:
        """A distinct label (distinct content: each file must be stored once, none skipped as a copy)."""
        self._n += 1
        code = f"CH{self._n:04d}"
        image = label([f"CRATE {code}", f"LOT {self.rng.randrange(10**6):06d}"], size=26)
        ext = self.rng.choice([".png", ".jpg"])
        ok, data = cv2.imencode(ext, image)
        assert ok
        return f"{code}{ext}", data.tobytes()

    def _record(self, name: str, data: bytes) -> None:
        self.written[name] = hashlib.sha256(data).hexdigest()
        self.report.files += 1

    def _kill_daemon(self) -> None:
        self._check_alive()
        self.report.peak_rss_mb = max(self.report.peak_rss_mb, _vm_hwm_mb(self.daemon.pid))
        self.daemon.kill()
        self.report.daemon_kills += 1
        self.daemon.start()
        self.daemon.wait_ready()

    def _check_alive(self) -> None:
        if not self.daemon.running():
            rc = self.daemon.proc.returncode if self.daemon.proc else None
            self.report.problems.append(
                f"the daemon died by itself (exit {rc}):\n{self.daemon.log()[-3000:]}"
            )
            self.daemon.start()
            self.daemon.wait_ready()

    # ---- actions ---------------------------------------------------------------------------------

    def write(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            name, data = self._new_file()
            (self.inbox / name).write_bytes(data)
            self._record(name, data)

    def write_slowly(self) -> None:
        """Half a file, a pause (sometimes with a daemon SIGKILL in it), the rest."""
        name, data = self._new_file()
        half = self.rng.randrange(1, len(data))
        with (self.inbox / name).open("wb") as fh:
            fh.write(data[:half])
            fh.flush()
            if self.rng.random() < 0.5:
                self._kill_daemon()
                self.report.killed_mid_write += 1
            else:
                time.sleep(self.rng.uniform(0.3, 2.0))
            fh.write(data[half:])
        self._record(name, data)
        self.report.slow_writes += 1

    def kill_daemon(self) -> None:
        self._kill_daemon()

    def kill_broker(self) -> None:
        self.broker.kill()
        self.broker_kill_times.append(time.time())
        self.report.broker_kills += 1
        time.sleep(self.rng.uniform(0.0, 3.0))  # the outage: the daemon keeps storing
        self.broker.start()

    def fill_disk(self) -> None:
        """Leave less than the reserve free for a while, then give the space back."""
        if not self.can_fill:
            return
        self._filler = fill(self.state, self.rng.randrange(0, RESERVE_MB * 1048576 // 2))
        self.report.disk_fills += 1
        self.write()  # files arrive while the disk is full
        time.sleep(self.rng.uniform(1.0, 4.0))
        self._free_disk()

    def _free_disk(self) -> None:
        if self._filler is not None:
            self._filler.unlink(missing_ok=True)
            self._filler = None

    def pause(self) -> None:
        time.sleep(self.rng.uniform(0.2, 1.5))

    # ---- the run ---------------------------------------------------------------------------------

    def run(self, seconds: float, drain_timeout_s: float = 600.0) -> ChaosReport:
        start = time.monotonic()
        self.inbox.mkdir(parents=True)
        with contextlib.ExitStack() as stack:
            no_disk = stack.enter_context(small_disk(self.state, f"{STATE_MB}m"))
            self.can_fill = no_disk is None
            self.report.disk = no_disk or f"tmpfs of {STATE_MB} MB, reserve {RESERVE_MB} MB"
            self.broker = Broker(persistence=True, workdir=self.work / "broker")
            stack.callback(self.broker.close)
            self.broker.start()
            self.rec = Recorder.for_broker(self.broker, [SCAN_TOPIC]).start()
            stack.callback(self.rec.stop)
            self.broker.save()  # the subscriber's session survives the first SIGKILL
            config = write_config(
                self.work / "config.toml",
                source={"kind": "inbox", "path": str(self.inbox), "inbox_poll_s": 0.2, "inbox_settle_s": 0.5},
                mqtt=mqtt_section(self.broker.port),
                store={"min_free_mb": RESERVE_MB if self.can_fill else 0},
            )
            self.daemon = DaemonProcess(config, self.state, name="chaos-daemon")
            stack.callback(self.daemon.close)
            self.daemon.start()
            self.daemon.wait_ready()
            names, weights = zip(*ACTIONS.items(), strict=True)
            first = self.rng.sample(names, len(names))  # every fault at least once, then at random
            while time.monotonic() - start < seconds:
                action = first.pop() if first else self.rng.choices(names, weights)[0]
                getattr(self, action)()
            self._free_disk()
            self._check_alive()
            if not self.broker.running:
                self.broker.start()
            drained = time.monotonic()
            self._drain(drain_timeout_s)
            self.report.drain_s = time.monotonic() - drained
            self.report.peak_rss_mb = max(self.report.peak_rss_mb, _vm_hwm_mb(self.daemon.pid))
            rc, _ = self.daemon.terminate()
            if rc != 0:
                self.report.problems.append(f"SIGTERM: exit {rc}\n{self.daemon.log()[-3000:]}")
            self.report.disk_refusals = self.daemon.log_path.read_text(errors="replace").count(
                "could not store the result"
            )
            self._check_invariants()
        self.report.seconds = time.monotonic() - start
        return self.report

    def _drain(self, timeout_s: float) -> None:
        """Wait until every file is filed away, every message acknowledged and received."""
        done, failed = self.inbox / "done", self.inbox / "failed"

        def filed() -> bool:
            names = {p.name for p in done.iterdir()} | {p.name for p in failed.iterdir()}
            return set(self.written) <= names

        if not wait_until(filed, timeout_s, 0.5):
            waiting = sorted(set(self.written) - {p.name for p in done.iterdir()})
            self.report.problems.append(f"not filed away after {timeout_s:.0f} s: {waiting[:10]}")
        if not wait_until(lambda: self._unsent() == 0, 120, 0.2):
            self.report.problems.append(f"{self._unsent()} outbox messages never acknowledged")
        wanted = {m for m, _ in self._outbox_ids()}
        wait_until(lambda: wanted <= self._received_ids(), 30, 0.2)

    # ---- invariants ------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.state / 'edge_ocr.db'}?mode=ro", uri=True, timeout=10)

    def _unsent(self) -> int:
        with contextlib.closing(self._db()) as db:
            return db.execute("SELECT count(*) FROM outbox WHERE sent_ms IS NULL").fetchone()[0]

    def _outbox_ids(self) -> list[tuple[str, int]]:
        with contextlib.closing(self._db()) as db:
            rows = db.execute(
                "SELECT message_id, sent_ms FROM outbox WHERE topic = ? ORDER BY seq", (SCAN_TOPIC,)
            )
            return rows.fetchall()

    def _received_ids(self) -> set[str]:
        return {json.loads(m.payload)["message_id"] for m in self.rec.messages(SCAN_TOPIC)}

    def _check_invariants(self) -> None:
        problems = self.report.problems
        done, failed = self.inbox / "done", self.inbox / "failed"
        in_done = {p.name for p in done.iterdir()}
        for note in failed.glob("*.error.txt"):
            problems.append(f"filed as failed: {note.name}: {note.read_text()[:300]}")
        missing = set(self.written) - in_done
        if missing:
            problems.append(f"{len(missing)} files not in done/: {sorted(missing)[:10]}")
        # The daemon has stopped: a writable connection may run FTS5's own check (it writes nothing).
        with contextlib.closing(sqlite3.connect(self.state / "edge_ocr.db", timeout=10)) as db:
            if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                problems.append("PRAGMA integrity_check failed")
            for table in ("lines_fts", "codes_fts"):
                try:
                    db.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
                except sqlite3.DatabaseError as exc:
                    problems.append(f"{table} integrity-check: {exc}")
        with contextlib.closing(self._db()) as db:
            rows = db.execute("SELECT fingerprint, source FROM scans WHERE page = 1").fetchall()
            seqs = [s for (s,) in db.execute("SELECT seq FROM outbox ORDER BY seq")]
            scan_ids = {i for (i,) in db.execute("SELECT id FROM scans")}
            with_message = {
                i for (i,) in db.execute(f"SELECT scan_id FROM outbox WHERE topic = '{SCAN_TOPIC}'")
            }
        self.report.scans = len(rows)
        fingerprints = [f for f, _ in rows]
        twice = {f for f in fingerprints if fingerprints.count(f) > 1}
        if twice:
            problems.append(f"stored more than once: {sorted(s for f, s in rows if f in twice)[:10]}")
        if set(fingerprints) != set(self.written.values()):
            lost = set(self.written.values()) - set(fingerprints)
            extra = set(fingerprints) - set(self.written.values())
            problems.append(
                f"stored content != written files: {len(lost)} never stored, {len(extra)} unknown"
            )
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"seq is not 1..{len(seqs)} without gaps: {seqs[:5]}...{seqs[-5:]}")
        if scan_ids - with_message:
            problems.append(f"scans without a scan message: {sorted(scan_ids - with_message)[:10]}")
        self._check_delivery()

    def _check_delivery(self) -> None:
        """Every acknowledged message received, except what the broker may lose on its own SIGKILL."""
        outbox = self._outbox_ids()
        self.report.messages = len(outbox)
        got = [json.loads(m.payload)["message_id"] for m in self.rec.messages(SCAN_TOPIC)]
        self.report.duplicates_received = len(got) - len(set(got))
        received = set(got)
        for message_id, sent_ms in outbox:
            if message_id in received:
                continue
            if sent_ms is None:
                continue  # already reported as never acknowledged
            acked = sent_ms / 1000
            if any(0 <= kill - acked <= BROKER_LOSS_S for kill in self.broker_kill_times):
                self.report.lost_by_broker += 1
            else:
                self.report.problems.append(f"message {message_id} acknowledged but never received")


def run_chaos(seconds: float, seed: int, workdir: Path) -> ChaosReport:
    """One chaos run in workdir (left behind for a look when something failed)."""
    report = Chaos(workdir, seed).run(seconds)
    if not report.problems:
        shutil.rmtree(workdir, ignore_errors=True)
    return report
