"""Fuzzing with hypothesis (issue 12 item 7): mutated images and PDFs, configs, search queries and MQTT
commands. Inputs are read by a child process (tests/fuzz/worker.py) under an address-space limit with a
time limit per input, so a bomb or a hang fails the one example instead of this machine.

Every input must end as read or refused with a message naming it; any other exception, a crash, a hang
or a peak above the bound fails. `benchmarks/fuzz.py --minutes N` runs the same generators for longer.
Set FUZZ_EXAMPLES to scale the number of examples (default 1: the short run of `make test`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (test extra) drives the fuzz suite")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzz.checks import check_config, check_image, check_search  # noqa: E402
from tests.fuzz.client import FuzzWorker  # noqa: E402
from tests.fuzz.inputs import FORMATS, OPS, Mutation, mutate  # noqa: E402
from tests.fuzz.strategies import config_tables, queries  # noqa: E402

SCALE = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))
SHORT_PAGES = 3  # the short run's many-page files: a 1500 px blank page costs ~1 s on a busy 2-core machine


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        print_blob=True,
    )


@pytest.fixture(scope="module")
def worker():
    w = FuzzWorker().start()
    yield w
    w.close()


mutations = st.builds(
    Mutation,
    op=st.sampled_from(OPS),
    offset=st.integers(0, 1 << 20),
    value=st.integers(0, (1 << 32) - 1),
    length=st.integers(1, 4096),
)


# ---- images and PDFs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_images_are_read_or_refused_by_name_within_bounds(fmt, worker, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"fuzz-{fmt}")

    @fuzz_settings(12)
    @given(m=mutations)
    def check(m: Mutation) -> None:
        path = folder / f"input.{fmt}"
        path.write_bytes(mutate(fmt, m, max_pages=SHORT_PAGES))
        check_image(worker.call({"kind": "image", "path": str(path)}), path, m.describe())

    check()


# ---- configuration -----------------------------------------------------------------------------------


def test_fuzzed_configs_load_or_name_the_file(worker, tmp_path):
    from tests.fuzz.inputs import toml_document

    @fuzz_settings(150)
    @given(table=config_tables())
    def check(table: dict) -> None:
        path = tmp_path / "config.toml"
        path.write_text(toml_document(table), encoding="utf-8", errors="surrogatepass")
        check_config(worker.call({"kind": "config", "path": str(path)}), path)

    check()


def test_byte_flipped_example_config_is_read_or_refused_by_name(worker, tmp_path):
    example = (Path(__file__).resolve().parents[1] / "edge_ocr" / "config.example.toml").read_bytes()

    @fuzz_settings(100)
    @given(offset=st.integers(0, len(example) - 1), value=st.integers(0, 255), cut=st.booleans())
    def check(offset: int, value: int, cut: bool) -> None:
        data = bytearray(example)
        if cut:
            del data[offset:]
        else:
            data[offset] = value
        path = tmp_path / "config.toml"
        path.write_bytes(bytes(data))
        check_config(worker.call({"kind": "config", "path": str(path)}), path)

    check()


# ---- search queries ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def searchable(tmp_path_factory) -> Path:
    """A store with a few scans (text lines and a code) for the queries to run against."""
    from tests.publish_helpers import make_result, open_store, qr

    state = tmp_path_factory.mktemp("search-state")
    with open_store(state) as store:
        for i in range(20):
            store.save_scan(make_result(i, [qr(f"TAG-{i} 4471-AX2")] if i % 3 == 0 else None), captured_ms=i)
    return state


def test_fuzzed_search_queries_answer_or_say_why(worker, searchable):
    @fuzz_settings(200)
    @given(query=queries())
    def check(query: str) -> None:
        reply = worker.call({"kind": "search", "state": str(searchable), "query": query}, timeout_s=30)
        check_search(reply, query)

    check()
    with contextlib.closing(sqlite3.connect(searchable / "edge_ocr.db")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM scans").fetchone() == (20,)


# ---- MQTT commands -----------------------------------------------------------------------------------


def test_fuzzed_commands_are_each_answered_and_logged_within_bounds(tmp_path, caplog):
    """Random command names (up to 300 characters of the text a broker accepts in a topic level: mosquitto
    disconnects a client that sends control characters or noncharacters there) and payloads
    (up to 64 kB of bytes), on a real broker to the real publisher: each gets one cmd_result naming it
    (cut to 64 characters), only `stats` is accepted, and the log does not grow with the flood."""
    from tests.broker import Broker, Recorder, broker_available
    from tests.publish_helpers import DEVICE, PREFIX, TOPICS
    from tests.test_publish import commanded_publisher

    if broker_available() is not None:
        pytest.skip(broker_available())
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    names = st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"), blacklist_characters="/+#"),
        min_size=0,
        max_size=300,
    )
    with contextlib.ExitStack() as stack:
        broker = Broker()
        stack.callback(broker.close)
        broker.start()
        rec = Recorder.for_broker(broker, [TOPICS.cmd_result]).start()
        stack.callback(rec.stop)
        pub, client = commanded_publisher(stack, broker, tmp_path / "state")
        sent = [0]

        @fuzz_settings(60)
        @given(
            name=names | st.sampled_from(["stats", "scan", "", "stats ", "STATS"]),
            payload=st.binary(max_size=65536),
        )
        def check(name: str, payload: bytes) -> None:
            info = client.publish(f"{PREFIX}/{DEVICE}/cmd/{name}", payload, qos=1)
            info.wait_for_publish(10)
            sent[0] += 1
            assert rec.wait_count(sent[0], TOPICS.cmd_result, timeout=20), (name, sent[0])
            got = rec.payloads_json(TOPICS.cmd_result)[-1]
            expected = name if len(name) <= 64 else name[:64] + "…"
            assert got["command"] == expected, (got, name)
            assert got["accepted"] == (name == "stats"), got
            if not got["accepted"]:
                assert got["reason"] in ("not allowed", "not available here"), got

        check()
        assert pub.stats.commands_rejected == sum(
            1 for p in rec.payloads_json(TOPICS.cmd_result) if not p["accepted"]
        )
        # One warning line for the first rejection, then one a minute: a flood does not fill the journal.
        assert caplog.text.count("rejected command") <= 2, caplog.text.count("rejected command")
        assert max((len(r.getMessage()) for r in caplog.records), default=0) < 1000


# ---- what the fuzzer found, kept as plain regression tests ---------------------------------------------


def test_found_tiff_with_a_spliced_ifd_is_an_image_error_naming_the_file(tmp_path):
    """Pillow raised TypeError("Missing dimensions") while seeking the second page: it escaped the
    reader as an unexpected exception (scan showed a bare TypeError)."""
    from edge_ocr.documents import iter_file_pages
    from edge_ocr.errors import ImageError

    path = tmp_path / "spliced.tiff"
    path.write_bytes(mutate("tiff", Mutation("splice", offset=140, value=0, length=1)))
    with pytest.raises(
        ImageError, match=r"spliced\.tiff.*cannot decode image.*Missing dimensions \(TypeError\)"
    ):
        list(iter_file_pages(path))


@pytest.mark.parametrize(
    ("query", "hits"),
    [("\x00", None), ("result\x00 7", 1), ("result OR OR 7", 20), ("a" * 10000 + " OR OR (", 0)],
)
def test_found_queries_with_nul_or_doubled_operators_answer_or_say_why_briefly(searchable, query, hits):
    """A NUL ended SQLite's copy of the FTS expression ("unterminated string", shown with the database's
    path); "OR OR" was a syntax error; the message repeated a 10,000-character query whole."""
    from edge_ocr.errors import StoreError
    from edge_ocr.store import Store
    from edge_ocr.store.search import search

    with Store(searchable, readonly=True) as store:
        if hits is None:
            with pytest.raises(StoreError, match=r"^search: the query has no words$"):
                search(store, query)
        else:
            assert len(search(store, query, limit=50)) == hits


def test_found_a_long_config_value_is_not_echoed_whole(tmp_path):
    """A 5,000-character string where a list or number belongs was repeated whole in the message."""
    from edge_ocr.config import load
    from edge_ocr.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(f'[codes]\nreaders = "{"x" * 5000}"\nzbar_density = "{"y" * 5000}"\n')
    with pytest.raises(ConfigError) as got:
        load(path)
    lines = str(got.value).splitlines()
    assert len(lines) == 2 and all(len(line) < 250 for line in lines), lines
    assert (
        "[codes] readers: expected a list of strings, got 'xxx" in lines[0]
        and "(5002 characters)" in lines[0]
    )
