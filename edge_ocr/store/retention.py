"""Retention: age and size caps (oldest first), sent-row cleanup, the outbox cap; every deletion counted.

Works through the store's public API only (RetentionStore below, which Store satisfies), so this
module does not import db.py: db.py imports it.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from edge_ocr.store import images as image_files
from edge_ocr.store.settings import StoreSettings


class RetentionStore(Protocol):
    """What retention needs of a store (edge_ocr.store.db.Store)."""

    settings: StoreSettings
    state_dir: Path

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction, committed on leaving the block."""
        ...

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """All rows of one read statement."""
        ...

    def count(self, conn: sqlite3.Connection, name: str, n: int) -> None:
        """Add to a named counter inside the caller's transaction."""
        ...

    def db_bytes(self) -> int:
        """Bytes the database and its WAL occupy."""
        ...

    def release_pages(self) -> None:
        """Give freed pages back to the filesystem and checkpoint the WAL."""
        ...


BATCH = 500  # scans per delete transaction: keeps each write short so readers and the publisher go on


def _delete_oldest(store: RetentionStore, where: str, params: tuple, limit: int, counter: str) -> int:
    """Delete up to `limit` oldest scans matching `where` (with their lines, codes and images)."""
    with store.write() as conn:
        rows = conn.execute(
            f"SELECT id, image_path, thumb_path FROM scans WHERE {where} ORDER BY captured_ms, id LIMIT ?",
            (*params, limit),
        ).fetchall()
        if not rows:
            return 0
        ids = [(r[0],) for r in rows]
        conn.executemany("DELETE FROM lines WHERE scan_id = ?", ids)
        conn.executemany("DELETE FROM codes WHERE scan_id = ?", ids)
        conn.executemany("DELETE FROM scans WHERE id = ?", ids)
        store.count(conn, counter, len(rows))
        files = [p for r in rows for p in r[1:] if p]
        store.count(conn, "images_deleted", sum(1 for r in rows if r[1]))
    image_files.delete(store.state_dir, *files)  # after the commit: a crash leaves a stray file, not a hole
    return len(rows)


def enforce(store: RetentionStore, now_ms: int) -> dict[str, int]:
    """Apply every cap once; returns what was deleted or dropped in this pass."""
    policy = store.settings.retention
    done = {"scans_deleted_age": 0, "scans_deleted_size": 0, "outbox_sent_deleted": 0, "outbox_dropped": 0}
    if policy.max_age_days is not None:
        cutoff = now_ms - int(policy.max_age_days * 86_400_000)
        while n := _delete_oldest(store, "captured_ms < ?", (cutoff,), BATCH, "scans_deleted_age"):
            done["scans_deleted_age"] += n
    with store.write() as conn:
        cutoff = now_ms - int(policy.keep_sent_s * 1000)
        done["outbox_sent_deleted"] = conn.execute(
            "DELETE FROM outbox WHERE sent_ms IS NOT NULL AND sent_ms < ?", (cutoff,)
        ).rowcount
        store.count(conn, "outbox_sent_deleted", done["outbox_sent_deleted"])
        if policy.outbox == "drop-oldest":
            (unsent,) = conn.execute("SELECT count(*) FROM outbox WHERE sent_ms IS NULL").fetchone()
            excess = unsent - policy.outbox_max_unsent
            if excess > 0:
                done["outbox_dropped"] = conn.execute(
                    "DELETE FROM outbox WHERE id IN"
                    " (SELECT id FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT ?)",
                    (excess,),
                ).rowcount
                store.count(conn, "outbox_dropped", done["outbox_dropped"])
    if policy.max_bytes is not None:
        done["scans_deleted_size"] = _enforce_size(store, policy.max_bytes)
    if any(done.values()):
        store.release_pages()
    return done


def _enforce_size(store: RetentionStore, max_bytes: int) -> int:
    """Delete the oldest scans until database + images fit under max_bytes."""
    deleted = 0
    for _ in range(1000):  # bounded: each round deletes at least one scan or stops
        (scans, image_bytes) = store.query("SELECT count(*), coalesce(sum(image_bytes), 0) FROM scans")[0]
        used = store.db_bytes() + image_bytes
        if used <= max_bytes or scans == 0:
            break
        per_scan = used / scans
        n = min(BATCH, max(1, math.ceil((used - max_bytes) / per_scan)))
        deleted += _delete_oldest(store, "1 = 1", (), n, "scans_deleted_size")
        store.release_pages()
    return deleted
