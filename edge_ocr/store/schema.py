"""The store's schema as numbered migrations; `PRAGMA user_version` records how far a file has come."""

from __future__ import annotations

import sqlite3

# MIGRATIONS[i] takes a database from version i to version i + 1, in one transaction.
MIGRATIONS: list[str] = [
    # 1: scans, their lines and codes, the outbox, counters, full-text search kept by triggers
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        captured_ms INTEGER NOT NULL,
        device TEXT NOT NULL,
        source TEXT NOT NULL,
        page INTEGER NOT NULL DEFAULT 1,
        width INTEGER NOT NULL DEFAULT 0,
        height INTEGER NOT NULL DEFAULT 0,
        fingerprint TEXT,
        image_path TEXT,
        thumb_path TEXT,
        image_bytes INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        error TEXT,
        text_origin TEXT,
        rotation INTEGER NOT NULL DEFAULT 0,
        timings TEXT
    );
    CREATE INDEX scans_time ON scans(captured_ms);
    CREATE TABLE lines (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        text TEXT NOT NULL,
        confidence REAL NOT NULL,
        polygon TEXT NOT NULL
    );
    CREATE INDEX lines_scan ON lines(scan_id);
    CREATE TABLE codes (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        symbology TEXT NOT NULL,
        text TEXT,
        data BLOB NOT NULL,
        polygon TEXT NOT NULL,
        orientation INTEGER NOT NULL DEFAULT 0,
        readers TEXT NOT NULL DEFAULT '',
        content_type TEXT NOT NULL DEFAULT 'text',
        eci_data BLOB,
        step TEXT NOT NULL DEFAULT 'direct'
    );
    CREATE INDEX codes_scan ON codes(scan_id);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        seq INTEGER NOT NULL,
        scan_id INTEGER REFERENCES scans(id) ON DELETE SET NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        sent_ms INTEGER
    );
    CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_ms IS NULL;
    CREATE VIRTUAL TABLE lines_fts USING fts5(
        text, content='lines', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE codes_fts USING fts5(
        text, content='codes', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER lines_fts_insert AFTER INSERT ON lines BEGIN
        INSERT INTO lines_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER lines_fts_delete AFTER DELETE ON lines BEGIN
        INSERT INTO lines_fts(lines_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TRIGGER codes_fts_insert AFTER INSERT ON codes WHEN new.text IS NOT NULL BEGIN
        INSERT INTO codes_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER codes_fts_delete AFTER DELETE ON codes WHEN old.text IS NOT NULL BEGIN
        INSERT INTO codes_fts(codes_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    """,
    # 2: repeat suppression (the daemon stores a repeated reading once, with a count and last-seen
    # time) and the publisher's last error per outbox row
    """
    ALTER TABLE scans ADD COLUMN seen_count INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE scans ADD COLUMN last_seen_ms INTEGER;
    ALTER TABLE outbox ADD COLUMN last_error TEXT;
    CREATE INDEX scans_source_time ON scans(source, captured_ms);
    """,
    # 3: sent-row cleanup and "oldest unsent" without scanning the outbox; code rows without text in
    # the FTS index too (FTS5 takes NULL; conditional triggers made its full integrity check fail);
    # scan ids never reused (an unsent payload or `show ID` must not point at a newer scan)
    """
    CREATE INDEX outbox_sent ON outbox(sent_ms) WHERE sent_ms IS NOT NULL;
    DROP TRIGGER codes_fts_insert;
    DROP TRIGGER codes_fts_delete;
    CREATE TRIGGER codes_fts_insert AFTER INSERT ON codes BEGIN
        INSERT INTO codes_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER codes_fts_delete AFTER DELETE ON codes BEGIN
        INSERT INTO codes_fts(codes_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    INSERT INTO codes_fts(codes_fts) VALUES ('rebuild');
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'next_scan_id', CAST(coalesce(max(id), 0) + 1 AS TEXT) FROM scans;
    """,
    # 4: the daemon asks "was this inbox file (page) stored already?" after a restart
    """
    CREATE INDEX scans_fingerprint ON scans(fingerprint, page) WHERE fingerprint IS NOT NULL;
    """,
    # 5: payloads in a table of their own, so marking a row sent rewrites a few dozen bytes instead of
    # the whole 2 KB message (less CPU beside the drain, and far fewer bytes written to the SD card)
    """
    CREATE TABLE outbox_payloads (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
    INSERT INTO outbox_payloads (id, payload) SELECT id, payload FROM outbox;
    ALTER TABLE outbox DROP COLUMN payload;
    CREATE TRIGGER outbox_payloads_delete AFTER DELETE ON outbox BEGIN
        DELETE FROM outbox_payloads WHERE id = old.id;
    END;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
MIN_SQLITE = (3, 35, 0)  # ALTER TABLE ... DROP COLUMN (Ubuntu 22.04 / JetPack 6 has 3.37, Bookworm 3.40)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the file (0 for a new, empty database)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply the missing migrations up to `target`, each in its own transaction; the versions applied."""
    from edge_ocr.errors import StoreError

    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {current}, newer than this edge_ocr knows ({SCHEMA_VERSION}); "
            "upgrade edge_ocr or point it at another state directory"
        )
    if current < target and sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StoreError(
            f"SQLite {sqlite3.sqlite_version} is too old for the store's migrations (DROP COLUMN needs"
            f" {'.'.join(map(str, MIN_SQLITE))} or newer); every supported OS ships a newer one"
        )
    if current == 0:
        # Must precede the first table: lets retention hand freed pages back to the filesystem.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    applied = []
    for version in range(current, target):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version + 1)
    return applied


def _statements(script: str) -> list[str]:
    """Split a migration into statements (triggers hold semicolons inside BEGIN ... END)."""
    out, buf = [], ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
