"""The store on real SQLite files: round trips, search, outbox, images, retention, migrations."""

import ast
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from edge_ocr.errors import ConfigError, StoreError, StoreFullError
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import ImagePolicy, RetentionPolicy, Store, StoreSettings, retention
from edge_ocr.store.schema import SCHEMA_VERSION, migrate, schema_version
from edge_ocr.store.search import fts_query, search

BOX = ((10.0, 10.0), (200.0, 10.0), (200.0, 40.0), (10.0, 40.0))
DAY = 86_400_000


def result(*lines: str, codes: tuple[bytes, ...] = (), source: str = "cam0") -> PageResult:
    return PageResult(
        source,
        1,
        640,
        480,
        [TextLine(t, 0.93, BOX) for t in lines],
        {"total": 12.5},
        codes=[
            Code("QRCode", c, c.decode("utf-8", "replace"), BOX, readers=("zxing", "zbar")) for c in codes
        ],
    )


def scan_message(info):
    return [(f"edge_ocr/{info.device}/scan", {"scan_id": info.scan_id, "text": info.result.text})]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "state", StoreSettings(device="dock-7")) as s:
        yield s


def test_a_scan_round_trips_with_lines_codes_and_bytes(store):
    binary = bytes(range(256))
    original = result("PUMP STATION 3", "SN 4471-AX2", codes=(b"https://x.example/1", binary))
    scan_id = store.save_scan(original, captured_ms=1_700_000_000_000, fingerprint="abc123")
    stored = store.get_scan(scan_id)
    assert (
        stored.captured_ms == 1_700_000_000_000
        and stored.device == "dock-7"
        and stored.fingerprint == "abc123"
    )
    assert stored.result.lines == original.lines
    assert [c.data for c in stored.result.codes] == [b"https://x.example/1", binary]
    assert stored.result.codes[0].readers == ("zxing", "zbar")
    assert stored.result.to_dict()["codes"] == original.to_dict()["codes"]
    assert store.get_scan(scan_id + 1) is None


def test_scans_by_ids_keeps_the_asked_order_across_batches_and_skips_missing(store):
    """Export of many ids: batched reads (one query for lines and one for codes per batch) must still
    give every scan its own lines and codes, in the order asked."""
    ids = [
        store.save_scan(result(f"LINE {i}", f"SECOND {i}", codes=(f"CODE {i}".encode(),) * (i % 2)))
        for i in range(5)
    ]
    asked = [ids[3], ids[0], 999_999, ids[4], ids[1], ids[2]]
    got = store.scans_by_ids(asked, batch=2)
    assert [s.id for s in got] == [ids[3], ids[0], ids[4], ids[1], ids[2]]
    for scan in got:
        i = ids.index(scan.id)
        assert [line.text for line in scan.result.lines] == [f"LINE {i}", f"SECOND {i}"]
        assert [c.data for c in scan.result.codes] == [f"CODE {i}".encode()] * (i % 2)


def test_outbox_rows_are_written_with_the_scan_in_order_with_sequence_numbers(store):
    ids = [store.save_scan(result(f"LINE {i}"), messages=scan_message) for i in range(5)]
    rows = store.pending(limit=10)
    assert [r.scan_id for r in rows] == ids
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert len({r.message_id for r in rows}) == 5
    payload = json.loads(rows[2].payload)
    assert payload["message_id"] == rows[2].message_id and payload["seq"] == 3 and payload["text"] == "LINE 2"
    store.mark_sent([rows[0].id, rows[1].id])
    assert [r.seq for r in store.pending()] == [3, 4, 5]
    assert store.status().outbox_unsent == 3 and store.status().outbox_sent == 2


def test_marking_scattered_acknowledgements_touches_only_those_rows(store):
    """Acknowledgements are marked as runs of consecutive ids; a gap (a message still unacknowledged)
    must stay unsent."""
    for i in range(8):
        store.save_scan(result(f"LINE {i}"), messages=scan_message)
    ids = [r.id for r in store.pending()]
    store.mark_sent([ids[5], ids[0], ids[1], ids[3], ids[6], ids[1]])
    assert [r.id for r in store.pending()] == [ids[2], ids[4], ids[7]]
    assert store.status().outbox_sent == 5


def test_sequence_numbers_continue_after_reopening(tmp_path):
    with Store(tmp_path) as s:
        s.save_scan(result("A"), messages=scan_message)
    with Store(tmp_path) as s:
        s.save_scan(result("B"), messages=scan_message)
        assert [r.seq for r in s.pending()] == [1, 2]


def test_a_failing_message_builder_leaves_nothing_behind(store):
    def broken(info):
        raise RuntimeError("builder bug")

    with pytest.raises(RuntimeError):
        store.save_scan(result("GHOST LINE"), messages=broken)
    assert store.status().scans == 0 and store.status().lines == 0
    assert search(store, "ghost") == []


def test_search_words_phrases_prefixes_and_filters(store):
    store.save_scan(result("PUMP STATION 3", "SERVICE 2026-11", source="cam0"), captured_ms=1_000 * DAY)
    store.save_scan(result("PUMP ROOM", "VALVE 4471-AX2", source="cam1"), captured_ms=1_001 * DAY)
    store.save_scan(result("Café Größe", codes=(b"https://assets.example/00417",)), captured_ms=1_002 * DAY)
    assert [h.text for h in search(store, "pump")] == ["PUMP ROOM", "PUMP STATION 3"]  # newest first
    assert [h.text for h in search(store, "pump station")] == ["PUMP STATION 3"]  # all words, one line
    assert search(store, '"station pump"') == []  # a phrase keeps its order
    assert [h.text for h in search(store, "4471-AX2")] == ["VALVE 4471-AX2"]
    assert [h.text for h in search(store, "serv*")] == ["SERVICE 2026-11"]
    assert [h.text for h in search(store, "cafe grosse")] == [] and search(store, "cafe")[
        0
    ].text == "Café Größe"
    assert [h.kind for h in search(store, "assets")] == ["code"]
    assert search(store, "assets", kinds=("text",)) == []
    assert [h.source for h in search(store, "pump", source="cam1")] == ["cam1"]
    assert [h.text for h in search(store, "pump", since_ms=1_000 * DAY + 1)] == ["PUMP ROOM"]
    assert [h.text for h in search(store, "pump", until_ms=1_001 * DAY)] == ["PUMP STATION 3"]
    assert len(search(store, "pump", limit=1)) == 1
    hit = search(store, "valve")[0]
    assert hit.highlighted == "\x02VALVE\x03 4471-AX2"


def test_query_syntax_is_quoted_not_interpreted():
    assert fts_query('pump "station 3" 0041* OR') == '"pump" "station 3" "0041"*'
    assert fts_query("NEAR(a b) col:x -y") == '"NEAR(a" "b)" "col:x" "-y"'
    with pytest.raises(StoreError):
        fts_query('   ""  ')


def test_images_kept_by_policy_and_deleted_with_their_scan(tmp_path):
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    settings = StoreSettings(images=ImagePolicy(keep="results", quality=80, thumb_px=64))
    with Store(tmp_path, settings) as s:
        with_text = s.save_scan(result("KEEP ME"), image=frame, captured_ms=1 * DAY)
        empty = s.save_scan(result(), image=frame, captured_ms=2 * DAY)
        kept = s.get_scan(with_text)
        assert s.get_scan(empty).image_path is None
        image, thumb = tmp_path / kept.image_path, tmp_path / kept.thumb_path
        assert image.read_bytes()[:2] == b"\xff\xd8" and thumb.stat().st_size < image.stat().st_size
        assert s.status().image_bytes == image.stat().st_size + thumb.stat().st_size
        s.settings = StoreSettings(retention=RetentionPolicy(max_age_days=1))
        done = s.enforce_retention(now=3 * DAY + 1)
        assert done["scans_deleted_age"] == 2 and not image.exists() and not thumb.exists()
        assert s.counters()["images_deleted"] == 1


def test_age_cap_deletes_oldest_and_counts(store):
    for day in range(10):
        store.save_scan(result(f"DAY {day}"), captured_ms=day * DAY, messages=scan_message)
    store.settings = StoreSettings(retention=RetentionPolicy(max_age_days=3.5))
    done = store.enforce_retention(now=10 * DAY)
    assert done["scans_deleted_age"] == 7  # days 0..6 are older than 10 - 3.5 days
    assert [h.text for h in search(store, "day", limit=50)] == [f"DAY {d}" for d in (9, 8, 7)]
    assert store.counters()["scans_deleted_age"] == 7
    # unsent outbox rows outlive their scans under the default "keep" policy
    assert store.status().outbox_unsent == 10
    assert store.pending(limit=1)[0].scan_id is None


def test_size_cap_deletes_oldest_until_it_fits(tmp_path):
    with Store(tmp_path, StoreSettings(retention=RetentionPolicy(max_age_days=None))) as s:
        for i in range(1500):
            s.save_scan(result(*(f"SERIAL {i}-{j} LOT {j * 7}" for j in range(10))), captured_ms=i)
        before = s.db_bytes()
        cap = 1024 * 1024 + (before - 1024 * 1024) // 2
        s.settings = StoreSettings(retention=RetentionPolicy(max_age_days=None, max_bytes=cap))
        done = s.enforce_retention(now=1500)
        assert done["scans_deleted_size"] > 0 and s.db_bytes() <= cap
        remaining = s.status().scans
        assert remaining + done["scans_deleted_size"] == 1500
        # the oldest went: the newest scan is still there, the first is not
        assert search(s, '"SERIAL 1499-0"') and not search(s, '"SERIAL 0-0"')
        assert (tmp_path / "edge_ocr.db").stat().st_size < before + 64 * 1024


def test_outbox_drop_oldest_policy_counts_drops(store):
    for i in range(12):
        store.save_scan(result(f"M {i}"), messages=scan_message)
    store.settings = StoreSettings(retention=RetentionPolicy(outbox="drop-oldest", outbox_max_unsent=5))
    done = store.enforce_retention()
    assert done["outbox_dropped"] == 7
    assert [r.seq for r in store.pending()] == [8, 9, 10, 11, 12]
    assert store.status().counters["outbox_dropped"] == 7


def test_sent_rows_are_cleaned_after_keep_sent(store):
    store.save_scan(result("X"), messages=scan_message)
    store.mark_sent([store.pending()[0].id], sent_ms=1_000)
    assert store.enforce_retention(now=1_000 + 3_600_001)["outbox_sent_deleted"] == 1


def test_retention_uses_only_the_public_store_api():
    """db.py imports retention.py, never the reverse; retention reaches no private Store member."""
    source = Path(retention.__file__).read_text()
    nodes = list(ast.walk(ast.parse(source)))
    imported = {n.module for n in nodes if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    assert "edge_ocr.store.db" not in imported and not re.search(r"store\._|\.conn\b", source)


def test_operator_outbox_drop_and_retry(store):
    for i in range(4):
        store.save_scan(result(f"M {i}"), captured_ms=i, messages=scan_message)
    rows = store.pending()
    store.record_attempt([rows[0].id], "broker refused")
    assert store.retry_outbox() == 4
    with store.write() as conn:
        conn.execute("UPDATE outbox SET created_ms = id * 1000")
    assert store.drop_outbox(before_ms=2500) == 2
    assert store.counters()["outbox_dropped_by_operator"] == 2


def test_migration_from_version_1_keeps_data(tmp_path):
    conn = sqlite3.connect(tmp_path / "edge_ocr.db", isolation_level=None)
    migrate(conn, target=1)
    conn.execute(
        "INSERT INTO scans (captured_ms, device, source, status) VALUES (5, 'old-device', 'cam0', 'ok')"
    )
    conn.execute(
        "INSERT INTO lines (scan_id, seq, text, confidence, polygon) VALUES (1, 0, 'LEGACY LINE', 0.9, ?)",
        (json.dumps(BOX),),
    )
    conn.close()
    with Store(tmp_path) as s:
        assert schema_version(s.conn) == SCHEMA_VERSION
        old = s.get_scan(1)
        assert old.device == "old-device" and old.seen_count == 1
        assert [h.text for h in search(s, "legacy")] == ["LEGACY LINE"]


def test_migration_to_separate_payloads_keeps_unsent_messages(tmp_path):
    """Version 4 kept payloads in the outbox rows; after migrating they are still sent, byte for byte."""
    conn = sqlite3.connect(tmp_path / "edge_ocr.db", isolation_level=None)
    migrate(conn, target=4)
    bodies = [json.dumps({"message_id": f"m{i}", "seq": i, "text": f"OLD {i}"}).encode() for i in (1, 2, 3)]
    for i, body in enumerate(bodies, 1):
        conn.execute(
            "INSERT INTO outbox (message_id, seq, topic, payload, created_ms, sent_ms) VALUES (?,?,?,?,?,?)",
            (f"m{i}", i, "edge_ocr/old/scan", body, 1000 + i, 2000 if i == 1 else None),
        )
    conn.close()
    with Store(tmp_path) as s:
        assert schema_version(s.conn) == SCHEMA_VERSION
        assert [(r.message_id, r.payload) for r in s.pending()] == [("m2", bodies[1]), ("m3", bodies[2])]
        assert s.drop_outbox(before_ms=1003) == 1
        assert [r.message_id for r in s.pending()] == ["m3"]
        # deleting an outbox row deletes its payload: nothing is left behind to fill the disk
        assert s.conn.execute("SELECT id FROM outbox_payloads ORDER BY id").fetchall() == [(1,), (3,)]


def test_outbox_payloads_leave_with_their_rows(store):
    """Sent-row cleanup and the operator's drop delete payloads too (a trigger, so no path can forget)."""
    for i in range(5):
        store.save_scan(result(f"LINE {i}"), messages=scan_message)

    def payloads() -> int:
        return store.conn.execute("SELECT count(*) FROM outbox_payloads").fetchone()[0]

    assert payloads() == 5
    ids = [r.id for r in store.pending()]
    store.mark_sent(ids[:2], sent_ms=1)
    store.enforce_retention()  # sent long ago: deleted
    assert payloads() == 3
    assert store.drop_outbox(before_ms=10**15) == 3
    assert payloads() == 0 and store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_an_sqlite_library_too_old_for_the_migrations_is_named(tmp_path, monkeypatch):
    """A system SQLite older than 3.35 (no DROP COLUMN) is refused before any migration starts."""
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(StoreError, match=r"SQLite 3\.31\.1 is too old .* 3\.35\.0 or newer"):
        Store(tmp_path)
    assert not list(tmp_path.glob("*.db")) or schema_version(sqlite3.connect(tmp_path / "edge_ocr.db")) == 0


def test_a_newer_schema_is_refused_clearly(tmp_path):
    conn = sqlite3.connect(tmp_path / "edge_ocr.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this edge_ocr knows"):
        Store(tmp_path)


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    (tmp_path / "edge_ocr.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"edge_ocr\.db"):
        Store(tmp_path)


def test_readonly_open_of_a_missing_store_says_so(tmp_path):
    with pytest.raises(StoreError, match="nothing has been scanned"):
        Store(tmp_path / "none", readonly=True)


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match=r"store\.images\.keep"):
        StoreSettings(images=ImagePolicy(keep="some")).validate()
    with pytest.raises(ConfigError, match="outbox"):
        StoreSettings(retention=RetentionPolicy(outbox="maybe")).validate()
    with pytest.raises(ConfigError, match="device id"):
        StoreSettings(device="a/b").validate()


def test_repeat_bumps_seen_count(store):
    scan_id = store.save_scan(result("SAME LABEL"), captured_ms=10)
    store.bump_seen(scan_id, seen_ms=99)
    stored = store.get_scan(scan_id)
    assert (stored.seen_count, stored.last_seen_ms) == (2, 99)


def test_scan_ids_are_never_reused_after_the_newest_is_deleted(store):
    store.save_scan(result("NEW"), captured_ms=10 * DAY)
    old = store.save_scan(result("OLD BUT LAST"), captured_ms=1 * DAY)
    store.settings = StoreSettings(retention=RetentionPolicy(max_age_days=5))
    assert store.enforce_retention(now=10 * DAY)["scans_deleted_age"] == 1
    assert store.save_scan(result("NEXT")) == old + 1
    assert store.get_scan(old) is None


def test_another_process_sees_the_reserve_refusal_in_status(tmp_path):
    with Store(tmp_path) as writer:
        writer.save_scan(result("X"))
    huge = StoreSettings(retention=RetentionPolicy(min_free_bytes=1 << 62))
    with Store(tmp_path, huge) as full, pytest.raises(StoreFullError, match="new scans are refused"):
        full.save_scan(result("Y"))
    with Store(tmp_path, huge, readonly=True) as reader:
        assert reader.status().disk_full and reader.status().scans == 1
