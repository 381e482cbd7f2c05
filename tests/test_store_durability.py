"""The store under crashes, a full disk and concurrent readers: real processes, real files, real SQLite.

The writer is tests/store_child.py in its own process; it acknowledges each returned `save_scan` in a
fsynced log, so what the parent checks is exactly the promise made to a caller: a scan whose save
returned is there in full, and nothing is ever half there. (SIGKILL loses the process, not the page
cache: this proves crash atomicity, not survival of a power cut, which needs real hardware.)
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.errors import StoreFullError
from edge_ocr.store import ImagePolicy, RetentionPolicy, ScanInfo, Store, StoreSettings
from edge_ocr.store import images as image_files
from edge_ocr.store.db import DB_NAME, is_disk_full
from edge_ocr.store.search import search
from tests.disk import small_disk
from tests.store_child import (
    digest_of,
    image_sha_of,
    make_fingerprint,
    messages_for,
    parse_acks,
    parse_fingerprint,
    plan_scan,
    read_loop,
    scan_is_complete,
)

CHILD = Path(__file__).with_name("store_child.py")
REPO = CHILD.parent.parent


def start_child(*args: str) -> subprocess.Popen:
    """tests/store_child.py in a fresh interpreter (stderr kept for the failure message)."""
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(proc: subprocess.Popen) -> None:
    """Block until the writer has its store open (it prints "ready")."""
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"the child did not start: {line!r} {proc.communicate()[1]}")


def raw(state: Path) -> sqlite3.Connection:
    """A plain SQLite connection, independent of the Store class under test."""
    return sqlite3.connect(state / DB_NAME, isolation_level=None)


def check_database(conn: sqlite3.Connection) -> None:
    """B-tree integrity, foreign keys, and both FTS indexes against their content tables."""
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for fts in ("lines_fts", "codes_fts"):
        conn.execute(f"INSERT INTO {fts}({fts}) VALUES('integrity-check')")
        # rank = 1 also compares the index with the external content table; without it SQLite 3.40
        # checks only the index's own structure and misses a line that was never indexed.
        conn.execute(f"INSERT INTO {fts}({fts}, rank) VALUES('integrity-check', 1)")
    for table in ("lines", "codes"):
        orphans = conn.execute(f"SELECT count(*) FROM {table} WHERE scan_id NOT IN (SELECT id FROM scans)")
        assert orphans.fetchone()[0] == 0, f"{table} rows left without their scan"


def image_files_on_disk(state: Path) -> set[str]:
    """Every file under STATE/images, relative to the state directory."""
    root = state / "images"
    return (
        {p.relative_to(state).as_posix() for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    )


def check_images(state: Path, conn: sqlite3.Connection) -> set[str]:
    """Each recorded image and thumbnail exists with the content planned; the set of recorded files."""
    referenced = set()
    for sid, fp, image, thumb, size in conn.execute(
        "SELECT id, fingerprint, image_path, thumb_path, image_bytes FROM scans"
    ):
        image_sha = parse_fingerprint(fp)[2]
        if image is None:
            assert thumb is None and size == 0 and image_sha == "-", f"scan {sid} lost its kept image"
            continue
        data = (state / image).read_bytes() + (state / thumb).read_bytes()
        assert hashlib.sha256(data).hexdigest()[:32] == image_sha, f"scan {sid}: kept image differs"
        assert len(data) == size
        referenced |= {image, thumb}
    return referenced


# ---- crash: SIGKILL at random moments ------------------------------------------------------------


def test_sigkill_never_loses_an_acknowledged_scan_nor_leaves_half_a_scan(tmp_path):
    """30 kills at random moments on one state dir: every returned save is there, nothing is half there."""
    state, ack = tmp_path / "state", tmp_path / "ack.log"
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    rounds, acked_per_round = 30, []
    for r in range(rounds):
        before = len(parse_acks(ack))
        # Old scans and frequent retention, so kills also land inside deletes and incremental vacuum.
        proc = start_child(
            str(state), "--ack", str(ack), "--seed", str(r), "--old-every", "7", "--retention-every", "15"
        )
        if r % 6 != 0:  # most rounds: kill while storing; every 6th: anywhere from start-up and migration on
            wait_ready(proc)
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        assert proc.returncode == -signal.SIGKILL, (
            f"seed {seed} round {r}: the child failed by itself:\n{err}"
        )
        acked_per_round.append(len(parse_acks(ack)) - before)

    acks = parse_acks(ack)
    assert sum(1 for n in acked_per_round if n > 0) >= rounds // 2, (
        f"too few rounds stored anything: {acked_per_round}"
    )
    latest: dict[int, tuple[str, str, str]] = {}
    for scan_id, digest, kind, token in acks:
        if scan_id in latest:  # an id comes back only after retention deleted its old scan
            assert latest[scan_id][1] == "old", f"seed {seed}: acknowledged scan {scan_id} was replaced"
        latest[scan_id] = (digest, kind, token)

    conn = raw(state)  # opening recovers the WAL left by the last kill
    check_database(conn)
    rows = {sid: fp for sid, fp in conn.execute("SELECT id, fingerprint FROM scans")}
    with Store(state, StoreSettings(retention=RetentionPolicy(min_free_bytes=0))) as store:
        # Every scan in the file, acknowledged or not, is complete: all its lines, codes and image.
        for sid in rows:
            assert scan_is_complete(store.get_scan(sid)), f"seed {seed}: scan {sid} is half written"
        for sid, (digest, kind, _token) in latest.items():
            if kind == "new":
                assert sid in rows, f"seed {seed}: acknowledged scan {sid} is gone"
            if sid in rows:
                assert parse_fingerprint(rows[sid])[3] == digest, f"seed {seed}: scan {sid} is another scan"
                assert digest_of(store.get_scan(sid).result, parse_fingerprint(rows[sid])[2]) == digest

        # Old scans may be gone, but only through retention, which counts each deletion in its transaction.
        gone_old = sum(1 for sid, (_d, kind, _t) in latest.items() if kind == "old" and sid not in rows)
        assert store.counters().get("scans_deleted_age", 0) >= gone_old

        # One outbox row per scan, in the same transaction: none missing, none extra, seq without gaps.
        outbox = [
            (sid, seq, json.loads(p))
            for sid, seq, p in conn.execute(
                "SELECT scan_id, seq, payload FROM outbox JOIN outbox_payloads USING (id)"
            )
        ]
        by_digest = {p["digest"]: (sid, p) for sid, _seq, p in outbox}
        assert len(by_digest) == len(outbox), "two outbox rows for one scan"
        for sid, (digest, _kind, _token) in latest.items():
            assert digest in by_digest, f"seed {seed}: acknowledged scan {sid} has no outbox row"
            assert by_digest[digest][1]["scan_id"] == sid
        for sid, fp in rows.items():
            assert by_digest.get(parse_fingerprint(fp)[3], (None,))[0] == sid, (
                f"scan {sid} without its outbox row"
            )
        seqs = sorted(seq for _sid, seq, _p in outbox)
        assert seqs == list(range(1, len(seqs) + 1)), "outbox sequence numbers have gaps or repeats"

        referenced = check_images(state, conn)
        stray = image_files_on_disk(state) - referenced
        # A kill between writing a frame and the commit may leave its files (the design accepts it);
        # at most one scan's jpg, thumb and temporary file per kill.
        assert len(stray) <= 3 * rounds, sorted(stray)

        present = [sid for sid, (_d, kind, _t) in latest.items() if kind == "new"]
        for sid in rng.sample(present, min(25, len(present))):
            token = latest[sid][2]
            assert [h.scan_id for h in search(store, token, kinds=("text",))] == [sid]
        code_scan = next(s for s in map(store.get_scan, present) if any(c.text for c in s.result.codes))
        code = next(c for c in code_scan.result.codes if c.text)
        assert [(h.scan_id, h.kind) for h in search(store, code.text.split()[0], kinds=("code",))] == [
            (code_scan.id, "code")
        ]
        # And the store goes on: a new scan after 30 crashes gets a fresh id.
        planned = plan_scan(rng, 999, 0, with_image=False, old=False)
        new_id = store.save_scan(
            planned.result, fingerprint=planned.fingerprint, messages=messages_for(planned)
        )
        assert new_id > max(rows) and scan_is_complete(store.get_scan(new_id))
    conn.close()
    committed_unacked = set(rows) - set(latest)
    print(
        f"\nseed {seed}: {len(acks)} acks, {len(rows)} scans, {len(committed_unacked)} committed but never"
        f" acknowledged, {gone_old} acknowledged old scans deleted by retention, {len(stray)} stray image"
        f" files, acks per round {acked_per_round}"
    )


# ---- full disk: a real small filesystem ---------------------------------------------------------


@contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` (tests/disk.py), or the test skipped with the reason."""
    with small_disk(where, size) as why:
        if why:
            pytest.skip(f"{why}: the max_page_count and /dev/full tests cover the same StoreFullError paths")
        yield where


def fill_file(path: Path, size: int) -> None:
    """A real file of `size` bytes, on the disk (not sparse)."""
    with open(path, "wb") as fh:
        fh.write(os.urandom(size))
        fh.flush()
        os.fsync(fh.fileno())


def frame(rng: random.Random, h: int = 120, w: int = 160) -> np.ndarray:
    """Random noise: JPEG cannot shrink it, so each kept frame costs real space."""
    return np.random.default_rng(rng.randrange(2**32)).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def save(store: Store, rng: random.Random, index: int, image: np.ndarray | None = None) -> tuple[int, str]:
    """One planned scan (with its outbox row); its id and digest."""
    planned = plan_scan(rng, 7, index, with_image=False, old=False)
    fingerprint = planned.fingerprint
    if image is not None:  # the store's own encoder: the digest covers the files it will write
        image_sha = image_sha_of(image_files.encode(image, store.settings.images))
        digest = digest_of(planned.result, image_sha)
        fingerprint = make_fingerprint(
            len(planned.result.lines), len(planned.result.codes), image_sha, digest
        )
    sid = store.save_scan(
        planned.result, fingerprint=fingerprint, image=image, messages=messages_for(planned)
    )
    return sid, parse_fingerprint(fingerprint)[3]


def fill_until_full(
    store: Store, rng: random.Random, with_images: bool, limit: int = 5000
) -> tuple[dict, str]:
    """Save until StoreFullError; the scans that were stored and the error's text."""
    stored: dict[int, str] = {}
    for i in range(limit):
        try:
            sid, digest = save(store, rng, i, frame(rng) if with_images else None)
        except StoreFullError as exc:
            return stored, str(exc)
        stored[sid] = digest
    raise AssertionError(f"{limit} scans did not fill the disk")


def check_intact(store: Store, state: Path, stored: dict[int, str]) -> None:
    """Every scan saved before is there in full, nothing else is, and no image file is stray."""
    conn = raw(state)
    try:
        check_database(conn)
        ids = [r[0] for r in conn.execute("SELECT id FROM scans ORDER BY id")]
        assert ids == sorted(stored), "a failed save left a scan row behind (or one went missing)"
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == len(stored)
        referenced = check_images(state, conn)
        assert image_files_on_disk(state) == referenced, "a failed save left an image file behind"
    finally:
        conn.close()
    for sid, digest in stored.items():
        scan = store.get_scan(sid)
        assert scan_is_complete(scan) and parse_fingerprint(scan.fingerprint)[3] == digest


def check_refused_then_recovers(
    store: Store, state: Path, stored: dict[int, str], free_space: Callable[[], None], rng: random.Random
) -> None:
    """While full: flagged, and what was stored is intact; after space returns the next save just works."""
    assert store.disk_full and store.status().disk_full
    check_intact(store, state, stored)
    # Saving on: a smaller scan may still fit in the WAL space the failed one rolled back, but the
    # store ends up refusing again, and the refusals change nothing.
    more, _ = fill_until_full(store, rng, with_images=False, limit=50)
    stored |= more
    assert store.disk_full and store.status().disk_full
    check_intact(store, state, stored)
    free_space()
    sid, digest = save(store, rng, 20_000)
    stored[sid] = digest
    assert not store.disk_full and not store.status().disk_full
    check_intact(store, state, stored)


def test_full_tmpfs_sqlite_itself_reports_enospc(tmp_path):
    """No reserve: SQLite's own write fails with SQLITE_FULL; stored scans stay, the next save works."""
    rng = random.Random(1)
    with small_filesystem(tmp_path / "fs", "2m") as fs:
        filler = fs / "filler"
        fill_file(filler, 256 * 1024)
        state = fs / "state"
        store = Store(state, StoreSettings(retention=RetentionPolicy(min_free_bytes=0)))
        try:
            stored, message = fill_until_full(store, rng, with_images=False)
            assert len(stored) >= 5
            assert "disk full" in message and str(state) in message and "refused" in message, message
            assert "database or disk is full" in message, f"not SQLite's own error: {message}"
            check_refused_then_recovers(store, state, stored, filler.unlink, rng)
        finally:
            store.close()


def test_full_tmpfs_with_kept_images_leaves_no_stray_file(tmp_path):
    """Frames fill the disk: the failing save's files are removed whether the image or SQLite failed."""
    rng = random.Random(2)
    with small_filesystem(tmp_path / "fs", "2m") as fs:
        filler = fs / "filler"
        fill_file(filler, 256 * 1024)
        state = fs / "state"
        settings = StoreSettings(images=ImagePolicy(keep="all"), retention=RetentionPolicy(min_free_bytes=0))
        store = Store(state, settings)
        try:
            stored, first = fill_until_full(store, rng, with_images=True)
            assert "disk full" in first and str(state) in first, first
            check_intact(store, state, stored)
            # The last frames may have failed in the image write; go on without frames until SQLite fails too.
            more, second = fill_until_full(store, rng, with_images=False)
            stored |= more
            assert "database or disk is full" in second or "No space left" in second, second
            check_refused_then_recovers(store, state, stored, filler.unlink, rng)
            sid, digest = save(store, rng, 30_000, frame(rng, 48, 64))  # a frame fits again
            stored[sid] = digest
            assert store.get_scan(sid).image_path
            check_intact(store, state, stored)
        finally:
            store.close()


def test_default_reserve_refuses_long_before_the_disk_is_full(tmp_path):
    """With the default 64 MiB reserve the store stops early, while the filesystem still has room."""
    rng = random.Random(3)
    reserve = RetentionPolicy().min_free_bytes
    with small_filesystem(tmp_path / "fs", f"{reserve // 1024 + 1536}k") as fs:
        filler = fs / "filler"
        fill_file(filler, 1024 * 1024)  # leaves about 512 KiB above the reserve
        state = fs / "state"
        store = Store(state, StoreSettings(images=ImagePolicy(keep="all")))
        try:
            stored, message = fill_until_full(store, rng, with_images=True)
            assert len(stored) >= 2
            assert "nearly full" in message and "reserve" in message and str(state) in message, message
            free = os.statvfs(fs).f_bavail * os.statvfs(fs).f_frsize
            assert reserve - 1024 * 1024 < free < reserve, "the refusal came when the reserve was reached"
            check_refused_then_recovers(store, state, stored, filler.unlink, rng)
        finally:
            store.close()


# ---- full disk without a mount: the same error codes, produced by SQLite and by the kernel -------


def test_sqlite_full_from_max_page_count(tmp_path):
    """SQLite's genuine SQLITE_FULL (a page limit on the store's own connection) takes the full-disk path."""
    rng = random.Random(4)
    state = tmp_path / "state"
    store = Store(state, StoreSettings(retention=RetentionPolicy(min_free_bytes=0)))
    try:
        stored = dict(save(store, rng, i) for i in range(5))
        (pages,) = store.conn.execute("PRAGMA page_count").fetchone()
        store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        more, message = fill_until_full(store, rng, with_images=False)
        stored |= more
        assert "disk full" in message and "database or disk is full" in message, message

        def raise_limit() -> None:
            store.conn.execute("PRAGMA max_page_count = 1073741823")

        check_refused_then_recovers(store, state, stored, raise_limit, rng)
    finally:
        store.close()


def test_sqlite_full_after_the_frame_was_written_removes_the_frame(tmp_path):
    """SQLITE_FULL in the outbox insert, after the frame's files were written: they are removed again."""
    rng = random.Random(6)
    state = tmp_path / "state"
    settings = StoreSettings(images=ImagePolicy(keep="all"), retention=RetentionPolicy(min_free_bytes=0))
    store = Store(state, settings)
    try:
        stored = dict(save(store, rng, i, frame(rng, 48, 64)) for i in range(3))
        (pages,) = store.conn.execute("PRAGMA page_count").fetchone()
        store.conn.execute(f"PRAGMA max_page_count = {pages + 8}")
        planned = plan_scan(rng, 8, 0, with_image=False, old=False)
        built = []

        def big_message(info: ScanInfo) -> list[tuple[str, dict]]:
            built.append(info.scan_id)  # called inside the transaction, after the frame is on disk
            return [("edge-ocr/big", {"pad": "x" * 200_000})]  # needs about 50 overflow pages

        with pytest.raises(StoreFullError, match="database or disk is full"):
            store.save_scan(
                planned.result,
                fingerprint=planned.fingerprint,
                image=frame(rng, 48, 64),
                messages=big_message,
            )
        assert built, "the page limit was hit before the frame was written: the test proves nothing"
        assert not list((state / "images").rglob(f"{built[0]}.*")), (
            "the frame of the failed save is still there"
        )
        check_intact(store, state, stored)
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        sid, digest = save(store, rng, 9, frame(rng, 48, 64))
        assert sid == built[0] and not store.disk_full
        stored[sid] = digest
        check_intact(store, state, stored)
    finally:
        store.close()


@pytest.mark.parametrize("failing", ["jpg", "thumb.jpg"])
def test_enospc_while_writing_a_frame(tmp_path, failing):
    """The kernel's ENOSPC (a write to /dev/full) in the frame or its thumbnail: no row, no file left."""
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is missing: no way to get a real ENOSPC without mounting a filesystem")
    rng = random.Random(5)
    state = tmp_path / "state"
    settings = StoreSettings(images=ImagePolicy(keep="all"), retention=RetentionPolicy(min_free_bytes=0))
    store = Store(state, settings)
    try:
        stored = dict(save(store, rng, i, frame(rng, 48, 64)) for i in range(3))
        next_id = max(stored) + 1  # SQLite gives max(rowid) + 1 to a new scan
        folder = state / "images" / f"{next_id // 1000:06d}"
        folder.mkdir(parents=True, exist_ok=True)
        trap = folder / f"{next_id}.{failing}.tmp"
        trap.symlink_to("/dev/full")  # the store writes its temporary file here: the kernel says ENOSPC
        with pytest.raises(StoreFullError) as caught:
            save(store, rng, 100, frame(rng, 48, 64))
        assert "No space left on device" in str(caught.value)
        assert not trap.is_symlink(), "the temporary file was left behind"
        assert store.disk_full and store.status().disk_full
        check_intact(store, state, stored)
        sid, digest = save(store, rng, 101, frame(rng, 48, 64))  # the trap is gone: space is back
        assert sid == next_id and store.get_scan(sid).image_path
        stored[sid] = digest
        assert not store.disk_full and not store.status().disk_full
        check_intact(store, state, stored)
    finally:
        store.close()


def test_is_disk_full_recognises_both_sources():
    """The classifier the store uses: errno ENOSPC/EDQUOT and SQLite's SQLITE_FULL; nothing else."""
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.Error) as caught:
        conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,)] * 10)
    assert is_disk_full(caught.value)
    with pytest.raises(sqlite3.Error) as other:
        conn.execute("INSERT INTO missing VALUES (1)")
    assert not is_disk_full(other.value)


# ---- one writer, several readers -----------------------------------------------------------------


def test_readers_never_block_the_writer_nor_see_a_partial_scan(tmp_path):
    """A writer process stores continuously while this process and a reader process search and load."""
    state, ack = tmp_path / "state", tmp_path / "ack.log"
    writer = start_child(str(state), "--ack", str(ack), "--seed", "11", "--duration", "8")
    reader = None
    try:
        wait_ready(writer)
        time.sleep(0.2)  # a few scans first, so a read-only open finds the schema
        acked_before = len(parse_acks(ack))
        reader = start_child(str(state), "--read-for", "3", "--report", str(tmp_path / "reader.json"))
        here = read_loop(state, 3.0)
        _, reader_err = reader.communicate(timeout=60)
        assert reader.returncode == 0, reader_err
        acked_during = len(parse_acks(ack)) - acked_before
    finally:
        writer.kill()
        writer.communicate()
        if reader is not None and reader.poll() is None:
            reader.kill()
    there = json.loads((tmp_path / "reader.json").read_text())
    for report in (here, there):
        assert report["errors"] == [], report["errors"][:5]
        assert report["iterations"] >= 20 and report["scans_loaded"] > 0
        assert report["count_drops"] == [], "a reader saw the scan count go down"
        assert report["last_count"] > report["first_count"], "the readers never saw the writer's new scans"
        assert report["incomplete"] == [], "a reader saw a scan without all its lines and codes"
    assert acked_during >= 100, f"the writer stored only {acked_during} scans while being read"
    assert writer.returncode == -signal.SIGKILL, "the writer stopped by itself (an error?)"
