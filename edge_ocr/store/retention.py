"""Retention: age and size caps (oldest first), sent-row cleanup, the outbox cap; every deletion counted."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from edge_ocr.store import images as image_files

if TYPE_CHECKING:
    from edge_ocr.store.db import Store

BATCH = 500  # scans per delete transaction: keeps each write short so readers and the publisher go on


def _delete_oldest(store: Store, where: str, params: tuple, limit: int, counter: str) -> int:
    """Delete up to `limit` oldest scans matching `where` (with their lines, codes and images)."""
    with store._write() as conn:
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


def _release_pages(store: Store) -> None:
    """Hand freed pages back to the filesystem (auto_vacuum = INCREMENTAL) and fold the WAL in
    (best effort: a checkpoint cannot pass a reader that is still looking at older pages)."""
    with store._lock:
        store.conn.execute("PRAGMA incremental_vacuum")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def enforce(store: Store, now_ms: int) -> dict[str, int]:
    """Apply every cap once; returns what was deleted or dropped in this pass."""
    policy = store.settings.retention
    done = {"scans_deleted_age": 0, "scans_deleted_size": 0, "outbox_sent_deleted": 0, "outbox_dropped": 0}
    if policy.max_age_days is not None:
        cutoff = now_ms - int(policy.max_age_days * 86_400_000)
        while n := _delete_oldest(store, "captured_ms < ?", (cutoff,), BATCH, "scans_deleted_age"):
            done["scans_deleted_age"] += n
    with store._write() as conn:
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
        _release_pages(store)
    return done


def _enforce_size(store: Store, max_bytes: int) -> int:
    """Delete the oldest scans until database + images fit under max_bytes."""
    deleted = 0
    for _ in range(1000):  # bounded: each round deletes at least one scan or stops
        (scans, image_bytes) = store._read("SELECT count(*), coalesce(sum(image_bytes), 0) FROM scans")[0]
        used = store.db_bytes() + image_bytes
        if used <= max_bytes or scans == 0:
            break
        per_scan = used / scans
        n = min(BATCH, max(1, math.ceil((used - max_bytes) / per_scan)))
        deleted += _delete_oldest(store, "1 = 1", (), n, "scans_deleted_size")
        _release_pages(store)
    return deleted
