"""The durable local store: every scan, its lines, codes and outbox rows in one SQLite transaction.

Durability: WAL with `synchronous = FULL`, so a commit is on the disk (the WAL is fsynced) before
save_scan returns; NORMAL would keep the file consistent but could lose the last scans a caller
was told were saved when the power is cut.
"""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ocr.errors import EdgeOcrError, StoreError, StoreFullError
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import images as image_files
from edge_ocr.store import retention
from edge_ocr.store.records import OutboxRow, StoredScan, StoreStatus
from edge_ocr.store.schema import migrate, schema_version
from edge_ocr.store.settings import StoreSettings

DB_NAME = "edge_ocr.db"
_SQLITE_FULL = 13
_SQLITE_READONLY_DIRECTORY = 1544  # SQLITE_READONLY | (6 << 8): -wal/-shm cannot be created
FULL_BELOW_BYTES = 64 * 1024  # less free space than this is a full disk, whatever the configured reserve


@dataclass(frozen=True)
class ScanInfo:
    """What a message builder knows when the scan's outbox rows are made (inside the transaction)."""

    scan_id: int
    captured_ms: int
    device: str
    result: PageResult
    status: str
    error: str | None


# Builds the outbox messages of a scan: (topic, payload) pairs. The store adds "message_id" and "seq".
MessageBuilder = Callable[[ScanInfo], list[tuple[str, dict]]]


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds (what the store records)."""
    return int(time.time() * 1000)


def _polygon_json(polygon) -> str:
    """Compact JSON of the points at 0.1 px (formatted directly: this runs for every stored line)."""
    return "[" + ",".join(f"[{x:.1f},{y:.1f}]" for x, y in polygon) + "]"


def scan_filters(
    since_ms: int | None, until_ms: int | None, source: str | None, table: str = ""
) -> tuple[list[str], list]:
    """SQL conditions (and their parameters) for a time window and a source pattern on scans."""
    where, params = [], []
    for clause, value in (
        ("captured_ms >= ?", since_ms),
        ("captured_ms < ?", until_ms),
        ("source LIKE ?", source),
    ):
        if value is not None:
            where.append(table + clause)
            params.append(value)
    return where, params


def _free_bytes(path: Path) -> int:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def _points(polygon_json: str) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in json.loads(polygon_json))


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from the filesystem."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == _SQLITE_FULL) or "disk is full" in str(exc)
    return False


class Store:
    """One store per state directory; safe to share between threads (one connection, one lock)."""

    def __init__(
        self, state_dir: Path, settings: StoreSettings | None = None, readonly: bool = False
    ) -> None:
        self.settings = settings or StoreSettings()
        self.settings.validate()
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / DB_NAME
        self.readonly = readonly
        self.disk_full = False
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._saves_since_retention = 0
        if readonly and not self.path.exists():
            raise StoreError(
                f"no store at {self.path}: nothing has been scanned into this state directory yet"
            )
        try:
            if not readonly:
                self.state_dir.mkdir(parents=True, exist_ok=True)
            self.conn = self._connect()
        except (sqlite3.Error, OSError) as exc:
            if is_disk_full(exc) or _free_bytes(self.state_dir) < FULL_BELOW_BYTES:
                self.disk_full = True
                raise StoreFullError(
                    f"{self.path}: cannot open the store: the disk is full ({exc}); free some space"
                ) from None
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        if not self.readonly:
            return self._open(f"file:{self.path}")
        # Readers never write, not even the WAL index. A WAL database opened with mode=ro needs its
        # -wal and -shm files (https://sqlite.org/wal.html#readonly): while a writer has the store
        # open they exist, and mode=ro reads them with the usual locks, so a reader sees every commit.
        # Once the last writer has closed, its checkpoint has folded the WAL into the database and
        # both files are gone; in a directory this user cannot write SQLite cannot create them and
        # fails with SQLITE_READONLY_DIRECTORY. Only then is the file opened immutable (no locks,
        # no -shm): the database file alone is complete, and no writer has it open. A writer that
        # starts during such a read only appends to a new WAL, which the reader does not see; only
        # a checkpoint of 1000 pages racing the read could upset that one read, never the store.
        try:
            return self._open(f"file:{self.path}?mode=ro")
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+; 3.10 has only the message
            wal = self.path.with_name(self.path.name + "-wal")
            if code is None and ("readonly" not in str(exc) or wal.exists()):
                raise
            if code is not None and code != _SQLITE_READONLY_DIRECTORY:
                raise
        return self._open(f"file:{self.path}?mode=ro&immutable=1")

    def _open(self, uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            return self._prepare(conn)
        except BaseException:
            conn.close()  # a failed open must not leak its file descriptors
            raise

    def _prepare(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        conn.execute(f"PRAGMA busy_timeout = {int(self.settings.busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not self.readonly:
            if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                raise StoreError(f"{self.path}: the filesystem does not support SQLite's WAL mode")
            conn.execute("PRAGMA synchronous = FULL")
            try:
                migrate(conn)
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: not an edge_ocr store or damaged: {exc}") from None
        elif schema_version(conn) == 0:
            raise StoreError(f"{self.path}: the store is empty or not initialised")
        return conn

    def close(self) -> None:
        """Checkpoint and close (the WAL is folded back into the database file)."""
        with self._lock:
            try:
                if not self.readonly:
                    self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short IMMEDIATE write transaction on the store's connection, committed on leaving the
        block and rolled back on any exception; a full disk becomes StoreFullError and sets the flag,
        other SQLite errors become StoreError."""
        with self._lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.conn
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                if is_disk_full(exc):
                    self.disk_full = True
                    self.last_error = f"disk full: {exc}"
                    raise StoreFullError(
                        f"{self.state_dir}: disk full, new scans are refused until space returns ({exc})"
                    ) from None
                self.last_error = str(exc)
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: {exc}") from None
                raise

    def has_room(self) -> bool:
        """Whether free space is above the reserve again (and not full): a refused scan may be retried."""
        return _free_bytes(self.state_dir) >= max(self.settings.retention.min_free_bytes, FULL_BELOW_BYTES)

    def _check_free_space(self) -> None:
        """Refuse before the disk is completely full: the OS, logs and the WAL need room too."""
        reserve = self.settings.retention.min_free_bytes
        if reserve <= 0:
            return
        free = _free_bytes(self.state_dir)
        if free < reserve:
            self.disk_full = True
            self.last_error = f"disk nearly full: {free // 1024} KiB free, reserve {reserve // 1024} KiB"
            raise StoreFullError(
                f"{self.state_dir}: {self.last_error}; new scans are refused until space returns"
            )

    def save_scan(
        self,
        result: PageResult,
        *,
        captured_ms: int | None = None,
        fingerprint: str | None = None,
        image: np.ndarray | None = None,
        status: str = "ok",
        error: str | None = None,
        messages: MessageBuilder | None = None,
    ) -> int:
        """Store a scan with its lines, codes, kept image and outbox rows; returns after the commit."""
        captured_ms = now_ms() if captured_ms is None else captured_ms
        self._check_free_space()
        policy = self.settings.images
        keep = policy.keep == "all" or (policy.keep == "results" and bool(result.lines or result.codes))
        encoded = image_files.encode(image, policy) if keep and image is not None else None
        device = self.settings.device
        written: list[Path] = []
        try:
            with self.write() as conn:
                scan_id = self._insert_scan(conn, result, captured_ms, fingerprint, status, error)
                if encoded is not None:
                    paths = image_files.write(self.state_dir, scan_id, encoded)
                    written = [self.state_dir / p for p in paths[:2]]
                    conn.execute(
                        "UPDATE scans SET image_path = ?, thumb_path = ?, image_bytes = ? WHERE id = ?",
                        (paths[0], paths[1], encoded.size, scan_id),
                    )
                if messages is not None:
                    info = ScanInfo(scan_id, captured_ms, device, result, status, error)
                    self._insert_messages(conn, scan_id, messages(info))
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        self.disk_full = False
        self._saves_since_retention += 1
        if self._saves_since_retention >= self.settings.retention_every:
            try:
                self.enforce_retention()
            except EdgeOcrError as exc:  # the scan is committed: report, never fail the save
                self.last_error = f"retention: {exc}"
        return scan_id

    def _insert_scan(self, conn, result: PageResult, captured_ms, fingerprint, status, error) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'next_scan_id'").fetchone()
        scan_id = int(row[0]) if row else 1
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_scan_id', ?)", (str(scan_id + 1),)
        )
        conn.execute(
            "INSERT INTO scans (id, captured_ms, device, source, page, width, height, fingerprint, status,"
            " error, text_origin, rotation, timings, last_seen_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                scan_id,
                captured_ms,
                self.settings.device,
                result.source,
                result.page,
                result.width,
                result.height,
                fingerprint,
                status,
                error,
                result.text_origin,
                result.rotation,
                json.dumps({k: round(v, 2) for k, v in result.timings_ms.items()}, separators=(",", ":")),
                captured_ms,
            ),
        )
        conn.executemany(
            "INSERT INTO lines (scan_id, seq, text, confidence, polygon) VALUES (?,?,?,?,?)",
            [
                (scan_id, i, line.text, round(line.confidence, 4), _polygon_json(line.polygon))
                for i, line in enumerate(result.lines)
            ],
        )
        conn.executemany(
            "INSERT INTO codes (scan_id, seq, symbology, text, data, polygon, orientation, readers,"
            " content_type, eci_data, step) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    scan_id,
                    i,
                    c.symbology,
                    c.text,
                    c.data,
                    _polygon_json(c.polygon),
                    c.orientation,
                    ",".join(c.readers),
                    c.content_type,
                    c.eci_data,
                    c.step,
                )
                for i, c in enumerate(result.codes)
            ],
        )
        return scan_id

    def _insert_messages(self, conn, scan_id: int, messages: Iterable[tuple[str, dict]]) -> None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        seq = int(row[0]) if row else 1
        created = now_ms()
        for topic, payload in messages:
            message_id = uuid.uuid4().hex
            body = {"message_id": message_id, "seq": seq, **payload}
            row_id = conn.execute(
                "INSERT INTO outbox (message_id, seq, scan_id, topic, created_ms) VALUES (?,?,?,?,?)",
                (message_id, seq, scan_id, topic, created),
            ).lastrowid
            conn.execute(
                "INSERT INTO outbox_payloads (id, payload) VALUES (?,?)",
                (row_id, json.dumps(body, ensure_ascii=False).encode()),
            )
            seq += 1
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (str(seq),))

    def bump_seen(self, scan_id: int, seen_ms: int | None = None) -> None:
        """A repeat of a stored reading: count it and note when it was last seen (no new scan)."""
        with self.write() as conn:
            conn.execute(
                "UPDATE scans SET seen_count = seen_count + 1, last_seen_ms = ? WHERE id = ?",
                (now_ms() if seen_ms is None else seen_ms, scan_id),
            )

    def count(self, conn: sqlite3.Connection, name: str, n: int) -> None:
        """Add to a named counter inside the caller's transaction (deletions, drops)."""
        if n:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, n),
            )

    # ---- reading -------------------------------------------------------------------------------

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """All rows of one read statement (under the store's lock; SQLite errors become StoreError)."""
        with self._lock:
            try:
                return self.conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from None

    def find_fingerprint(self, fingerprint: str, page: int = 1) -> int | None:
        """The id of a stored scan with this fingerprint and page (an inbox file read before a crash)."""
        rows = self.query(
            "SELECT id FROM scans WHERE fingerprint = ? AND page = ? LIMIT 1", (fingerprint, page)
        )
        return rows[0][0] if rows else None

    def get_scan(self, scan_id: int) -> StoredScan | None:
        """One scan in full, or None."""
        found = self.scans_by_ids([scan_id])
        return found[0] if found else None

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read transaction: a scan, its lines and its codes come from the same moment (in WAL mode
        this does not block the writer)."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                yield
            finally:
                self.conn.execute("COMMIT")

    def scans_by_ids(self, ids: list[int], batch: int = 200) -> list[StoredScan]:
        """Scans in the given order (missing ids are left out), read in batches of one snapshot each."""
        found: dict[int, StoredScan] = {}
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            with self._snapshot():
                rows = self.query(_SCAN_SQL + f" WHERE id IN ({_marks(chunk)})", chunk)
                found.update((scan.id, scan) for scan in self._load(rows))
        return [found[i] for i in ids if i in found]

    def iter_scans(
        self,
        since_ms: int | None = None,
        until_ms: int | None = None,
        source: str | None = None,
        batch: int = 200,
    ) -> Iterator[StoredScan]:
        """Scans oldest first in a time window, read in small batches (never one long read transaction)."""
        where, params = scan_filters(since_ms, until_ms, source)
        sql = _SCAN_SQL + " WHERE " + " AND ".join(["id > ?", *where]) + f" ORDER BY id LIMIT {batch}"
        last_id = 0
        while True:
            with self._snapshot():  # each batch with its lines and codes from one moment
                rows = self.query(sql, [last_id, *params])
                loaded = self._load(rows)
            if not rows:
                return
            yield from loaded
            last_id = rows[-1][0]

    def _load(self, rows: list[tuple]) -> list[StoredScan]:
        """Scan rows with their lines and codes: one query each for the whole batch, not per scan."""
        ids = [row[0] for row in rows]
        if not ids:
            return []
        lines: dict[int, list[TextLine]] = defaultdict(list)
        for sid, text, conf, poly in self.query(
            f"SELECT scan_id, text, confidence, polygon FROM lines WHERE scan_id IN ({_marks(ids)})"
            " ORDER BY scan_id, seq",
            ids,
        ):
            lines[sid].append(TextLine(text, conf, _points(poly)))
        codes: dict[int, list[Code]] = defaultdict(list)
        for sid, sym, text, data, poly, orient, readers, ctype, eci, step in self.query(
            "SELECT scan_id, symbology, text, data, polygon, orientation, readers, content_type, eci_data,"
            f" step FROM codes WHERE scan_id IN ({_marks(ids)}) ORDER BY scan_id, seq",
            ids,
        ):
            codes[sid].append(
                Code(
                    sym,
                    bytes(data),
                    text,
                    _points(poly),
                    orient,
                    tuple(r for r in readers.split(",") if r),
                    ctype,
                    bytes(eci) if eci is not None else None,
                    step,
                )
            )
        out = []
        for row in rows:
            (
                sid,
                cap,
                device,
                source,
                page,
                w,
                h,
                fp,
                img,
                thumb,
                status,
                err,
                origin,
                rot,
                timings,
                seen,
                last,
            ) = row
            result = PageResult(
                source, page, w, h, lines[sid], json.loads(timings or "{}"), rot, origin or "ocr", codes[sid]
            )
            out.append(StoredScan(sid, cap, device, result, status, err, fp, img, thumb, seen, last))
        return out

    # ---- outbox (drained by the publisher) -------------------------------------------------------

    def pending(self, limit: int = 100, after_id: int = 0) -> list[OutboxRow]:
        """Unsent outbox rows in order."""
        rows = self.query(
            "SELECT o.id, message_id, seq, scan_id, topic, payload, created_ms, attempts, sent_ms"
            " FROM outbox o JOIN outbox_payloads p ON p.id = o.id"
            " WHERE sent_ms IS NULL AND o.id > ? ORDER BY o.id LIMIT ?",
            (after_id, limit),
        )
        return [OutboxRow(*r) for r in rows]  # BLOB columns come back as bytes

    def mark_sent(self, ids: list[int], sent_ms: int | None = None) -> None:
        """Acknowledged by the broker (PUBACK): never sent again.

        Committed without its own fsync (synchronous = NORMAL for this transaction; the next scan's
        commit syncs it): losing a mark in a power cut only means sending that message again, which
        subscribers de-duplicate by message id, and it lets the publisher drain several times faster.
        """
        if not ids:
            return
        sent = now_ms() if sent_ms is None else sent_ms
        with self._lock:
            self.conn.execute("PRAGMA synchronous = NORMAL")
            try:
                with self.write() as conn:
                    # Acknowledgements arrive in order, so a batch is a few runs of consecutive ids:
                    # one statement per run instead of one per row.
                    conn.executemany(
                        "UPDATE outbox SET sent_ms = ?, attempts = attempts + 1 WHERE id BETWEEN ? AND ?",
                        [(sent, first, last) for first, last in id_runs(ids)],
                    )
            finally:
                self.conn.execute("PRAGMA synchronous = FULL")

    def record_attempt(self, ids: list[int], error: str | None = None) -> None:
        """A publish that was not acknowledged: counted, to be retried."""
        if ids:
            with self.write() as conn:
                conn.executemany(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                    [(error, i) for i in ids],
                )

    def retry_outbox(self) -> int:
        """Operator: reset the attempt counts and errors of every unsent row (they are all sent again on
        the next connection anyway; this clears `retrying` and the replay flag's attempt history)."""
        with self.write() as conn:
            return conn.execute(
                "UPDATE outbox SET attempts = 0, last_error = NULL WHERE sent_ms IS NULL"
            ).rowcount

    def drop_outbox(self, before_ms: int) -> int:
        """Operator: drop unsent rows created before a time; counted as `outbox_dropped_by_operator`."""
        with self.write() as conn:
            n = conn.execute(
                "DELETE FROM outbox WHERE sent_ms IS NULL AND created_ms < ?", (before_ms,)
            ).rowcount
            self.count(conn, "outbox_dropped_by_operator", n)
            return n

    # ---- retention and health ------------------------------------------------------------------

    def enforce_retention(self, now: int | None = None) -> dict[str, int]:
        """Apply the caps (see retention.py); counts of what went."""
        self._saves_since_retention = 0
        return retention.enforce(self, now_ms() if now is None else now)

    def release_pages(self) -> None:
        """Hand freed pages back to the filesystem (auto_vacuum = INCREMENTAL) and fold the WAL in
        (best effort: a checkpoint cannot pass a reader that is still looking at older pages)."""
        with self._lock:
            self.conn.execute("PRAGMA incremental_vacuum")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def counters(self) -> dict[str, int]:
        """Every named counter."""
        return dict(self.query("SELECT name, value FROM counters ORDER BY name"))

    def db_bytes(self) -> int:
        """Bytes the database occupies in use (pages not on the freelist) plus its WAL."""
        page_size, pages, free = (
            self.query("PRAGMA page_size")[0][0],
            self.query("PRAGMA page_count")[0][0],
            self.query("PRAGMA freelist_count")[0][0],
        )
        wal = self.path.with_name(self.path.name + "-wal")
        return (pages - free) * page_size + (wal.stat().st_size if wal.exists() else 0)

    def outbox_depth(self) -> int:
        """Unsent outbox rows (one indexed count: cheap enough for every status line)."""
        return self.query("SELECT count(*) FROM outbox WHERE sent_ms IS NULL")[0][0]

    def status(self) -> StoreStatus:
        """Health figures."""
        (scans,), (lines,), (codes,) = (
            self.query("SELECT count(*) FROM scans")[0],
            self.query("SELECT count(*) FROM lines")[0],
            self.query("SELECT count(*) FROM codes")[0],
        )
        unsent = self.outbox_depth()
        first = self.query("SELECT created_ms FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT 1")
        oldest = first[0][0] if first else None
        sent = self.query("SELECT count(*) FROM outbox WHERE sent_ms IS NOT NULL")[0][0]
        free = _free_bytes(self.state_dir)
        image_bytes = self.query("SELECT coalesce(sum(image_bytes), 0) FROM scans")[0][0]
        return StoreStatus(
            schema_version=schema_version(self.conn),
            scans=scans,
            lines=lines,
            codes=codes,
            outbox_unsent=unsent,
            outbox_sent=sent,
            oldest_unsent_ms=oldest,
            db_bytes=self.db_bytes(),
            image_bytes=image_bytes,
            disk_free_bytes=free,
            # another process's refusal shows too: below the reserve, saves are refused
            disk_full=self.disk_full or free < self.settings.retention.min_free_bytes,
            last_error=self.last_error,
            counters=self.counters(),
        )


_SCAN_SQL = (
    "SELECT id, captured_ms, device, source, page, width, height, fingerprint, image_path, thumb_path,"
    " status, error, text_origin, rotation, timings, seen_count, last_seen_ms FROM scans"
)


def id_runs(ids: list[int]) -> list[tuple[int, int]]:
    """Distinct ids as (first, last) runs of consecutive integers, so every id in a run is one of them."""
    runs: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _marks(values: list) -> str:
    """`?,?,?` for an IN list of these values."""
    return ",".join("?" * len(values))
