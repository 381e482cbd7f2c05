"""The store-and-forward publisher against a real mosquitto: replay, crashes, auth, TLS, caps, will, commands.

Every test runs a real broker on 127.0.0.1 (tests/broker.py) and a real SQLite store. The publisher runs as
`python -m edge_ocr publish` where a test must kill it, and in-process elsewhere (faster to start).
"""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_ocr.config import MqttSection
from edge_ocr.publish import publisher as publisher_module
from edge_ocr.publish.messages import message_builder
from edge_ocr.publish.publisher import Publisher
from edge_ocr.store import Store
from tests.broker import Broker, Recorder, TlsFiles, broker_available, make_tls_files, publish
from tests.publish_helpers import (
    DEVICE,
    PREFIX,
    TOPICS,
    Producer,
    PublisherProcess,
    ean,
    make_result,
    mqtt_settings,
    open_store,
    outbox,
    qr,
    store_results,
    unsent,
    wait_until,
    write_config,
)

UNAVAILABLE = broker_available()
pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")

CLIENT_ID = f"edge-ocr-{DEVICE}"
SCAN = TOPICS.scan
DEVICE_TOPICS = f"{PREFIX}/{DEVICE}/#"
# mosquitto's own limit on QoS 1 messages in flight to one subscriber: what a restart may redeliver.
BROKER_INFLIGHT = 20


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Brokers, recorders, publishers and child processes a test opens are closed even when it fails."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """One CA, server, client and rogue-CA set for the module (key generation is the slow part)."""
    pytest.importorskip("cryptography")
    return make_tls_files(tmp_path_factory.mktemp("tls"))


def new_broker(stack: contextlib.ExitStack, **kw: Any) -> Broker:
    """A broker closed (killed, folder removed) when the test ends; not started yet."""
    broker = Broker(**kw)
    stack.callback(broker.close)
    return broker


def queueing_broker(stack: contextlib.ExitStack) -> Broker:
    """Persistence on, and no cap on a subscriber's queue (mosquitto drops QoS 1 beyond 1000 by default)."""
    return new_broker(
        stack,
        persistence=True,
        extra_config=["max_queued_messages 0", f"max_inflight_messages {BROKER_INFLIGHT}"],
    )


def recorder(stack: contextlib.ExitStack, broker: Broker, topics: str | list[str], **kw: Any) -> Recorder:
    """A started recorder, stopped when the test ends."""
    rec = Recorder.for_broker(broker, topics, **kw).start()
    stack.callback(rec.stop)
    return rec


def in_process(
    stack: contextlib.ExitStack,
    store: Store,
    settings: MqttSection,
    commands: dict[str, Callable[[bytes], None]] | None = None,
    open_store: Callable[[], Store] | None = None,
) -> Publisher:
    """A started in-process publisher, stopped when the test ends."""
    pub = Publisher(store, settings, DEVICE, commands=commands, open_store=open_store)
    pub.start()
    stack.callback(pub.stop)
    return pub


def child(stack: contextlib.ExitStack, cfg: Path, log: Path) -> PublisherProcess:
    """A started `edge-ocr publish` child, killed when the test ends."""
    pub = PublisherProcess(cfg, log).start()
    stack.callback(pub.close)
    return pub


def commanded_publisher(stack: contextlib.ExitStack, broker: Broker, state: Path) -> tuple[Publisher, Any]:
    """An in-process publisher subscribed to its commands, and a connected client to send them."""
    from tests.broker import mqtt_client

    pub = in_process(stack, new_store(stack, state), mqtt_settings(broker))
    assert wait_until(lambda: f"{CLIENT_ID} 1 {PREFIX}/{DEVICE}/cmd/+" in broker.log_text(), 10)
    client = mqtt_client(broker)
    client.connect(broker.host, broker.port, keepalive=10)
    client.loop_start()
    stack.callback(client.loop_stop)
    stack.callback(client.disconnect)
    return pub, client


def new_store(stack: contextlib.ExitStack, state: Path, **retention: Any) -> Store:
    """A store closed when the test ends."""
    store = open_store(state, **retention)
    stack.callback(store.close)
    return store


def seqs(rec: Recorder, topic: str = SCAN) -> list[int]:
    """Sequence numbers in arrival order."""
    return [p["seq"] for p in rec.payloads_json(topic)]


def last_status(rec: Recorder) -> str | None:
    """The latest status payload the recorder saw."""
    got = rec.messages(TOPICS.status)
    return got[-1].payload.decode() if got else None


def retained_status(broker: Broker) -> Recorder:
    """What a newcomer sees on the status topic: a fresh subscription gets only the retained message."""
    with Recorder.for_broker(broker, TOPICS.status, persistent=False) as fresh:
        assert fresh.wait_count(1, timeout=5), "no retained status"
        time.sleep(0.2)  # nothing else may follow the retained message
        return fresh


def results(rec: Recorder, command: str) -> list[dict]:
    """cmd_result payloads about one command."""
    return [p for p in rec.payloads_json(TOPICS.cmd_result) if p["command"] == command]


def offline_broker_with_subscriber(stack: contextlib.ExitStack) -> tuple[Broker, Recorder]:
    """A persistent broker that already knows the recorder's session, then stopped: the broker is "absent"
    while results pile up, yet nothing published after it comes back can slip past the recorder."""
    broker = queueing_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS, client_id="rec-replay")
    broker.stop()
    return broker, rec


def quiet(rec: Recorder, still_s: float = 0.3, timeout: float = 10.0) -> bool:
    """Wait until nothing has reached the recorder for still_s: the broker has passed on all it holds."""
    last, since = -1, time.monotonic()
    deadline = since + timeout
    while time.monotonic() < deadline:
        count = len(rec.messages())
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= still_s:
            return True
        time.sleep(0.02)
    return False


def publishes(got: list[dict]) -> dict[str, list[str]]:
    """message_id -> the published_at of every copy (the publisher stamps each publish anew)."""
    out: dict[str, list[str]] = {}
    for p in got:
        out.setdefault(p["message_id"], []).append(p["published_at"])
    return out


# ---- 1. replay after an outage ------------------------------------------------------------------------


def test_backlog_stored_while_broker_absent_arrives_in_order(
    stack: contextlib.ExitStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """1,000 results stored with no broker reach it in order once it starts, all flagged as replayed."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker, rec = offline_broker_with_subscriber(stack)
    store = new_store(stack, tmp_path / "state")
    pub = in_process(stack, store, mqtt_settings(broker))
    assert wait_until(lambda: pub.stats.failures >= 1, 5), "the publisher never tried the absent broker"
    store_results(store, 0, 1000)
    pub.wake()
    assert store.status().outbox_unsent == 1000
    assert pub.stats.acknowledged == 0

    broker.start()
    assert rec.wait_count(1000, SCAN, timeout=30), f"only {len(rec.messages(SCAN))} of 1000 arrived"
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5), "acknowledged rows not marked sent"
    assert 1 < pub.stats.inflight_peak <= 16  # the window was used, and never overrun
    time.sleep(0.3)  # a stray duplicate would show up now
    got = rec.payloads_json(SCAN)
    assert [p["seq"] for p in got] == list(range(1, 1001))
    for p in got:
        assert p["text"] == f"result {p['seq'] - 1}"
        assert p["replayed"] is True
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["captured_at"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", p["published_at"])
        assert p["published_at"] >= p["captured_at"]
        assert p["device"] == DEVICE
    assert len({p["message_id"] for p in got}) == 1000
    assert all(m.qos == 1 for m in rec.messages(SCAN))
    assert any("broker unavailable: cannot connect" in r.getMessage() for r in caplog.records)
    assert any("1000 messages to send" in r.getMessage() for r in caplog.records)


# ---- 2. a stream through broker restarts and publisher kills ----------------------------------------------


@pytest.mark.slow
def test_stream_survives_broker_restarts_and_publisher_kills(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """5,000 results stored at a steady rate while the broker restarts 10 times (2 of them SIGKILL) and the
    publisher is SIGKILLed twice: every message arrives, seq has no gap, duplicates stay within the
    windows that could have been in flight at each disruption."""
    inflight, total, rate = 16, 5000, 250.0
    broker = queueing_broker(stack).start()
    rec = recorder(stack, broker, SCAN, client_id="rec-stream")
    state = tmp_path / "state"
    open_store(state).close()
    cfg = write_config(tmp_path / "publish.toml", mqtt_settings(broker, inflight=inflight), state)
    pub = child(stack, cfg, tmp_path / "publisher.log")
    producer = Producer(state, total, rate)
    producer.start()

    # T: SIGTERM + restart (mosquitto saves its state on the way out); K: SIGKILL after save(); P: kill the
    # publisher. A broker SIGKILL loses whatever it acknowledged after its last save, which is mosquitto's
    # durability, not the publisher's; so the publisher is frozen first, the broker passes on what it
    # holds, saves, and only then dies: anything unacknowledged at that point must come from the outbox.
    plan = "TTPTKTTPTKTT"
    step = total / rate / (len(plan) + 1)
    began = time.monotonic()
    for n, event in enumerate(plan, 1):
        time.sleep(max(0.0, began + n * step - time.monotonic()))
        if event == "T":
            broker.restart()
        elif event == "K":
            pub.signal(signal.SIGSTOP)
            assert quiet(rec), "the broker never finished passing on what it holds"
            assert broker.save(), "mosquitto did not write its persistence file"
            broker.kill()
            broker.start()
            pub.signal(signal.SIGCONT)
        else:
            pub.kill()
            pub.start()
    producer.join(60)
    assert producer.error is None, producer.error
    assert producer.stored == total

    assert wait_until(lambda: unsent(state) == 0, 30), f"{unsent(state)} rows never acknowledged"
    rows = outbox(state)
    assert wait_until(lambda: len(set(seqs(rec))) >= len(rows), 15), "messages missing at the subscriber"
    time.sleep(0.5)
    got = rec.payloads_json(SCAN)
    expected = {mid: seq for _, mid, seq, _, _, _ in rows}
    assert len(expected) == total
    received = {p["message_id"]: p["seq"] for p in got}
    assert received == expected, "a message id missing, or arrived with another seq"
    assert sorted(set(received.values())) == list(range(1, total + 1))
    firsts = list(dict.fromkeys(p["seq"] for p in got))
    assert firsts == sorted(firsts), "a message first arrived after a later one: the drain lost its order"

    # Two kinds of duplicate: the publisher sending a row again (a new publish, so a new published_at) and
    # the broker redelivering one it had sent (the same payload). The publisher may resend, at a kill, its
    # window on the wire plus the rows acknowledged but not yet recorded (marks are batched: at most
    # SETTLE_BATCH, or SETTLE_S apart); at a broker restart only its window (it records every PUBACK it
    # got before reconnecting). The broker redelivers at most its window towards the subscriber.
    restarts = plan.count("T") + plan.count("K")
    resends = sum(len(set(v)) - 1 for v in publishes(got).values())
    redeliveries = len(got) - total - resends
    resend_bound = plan.count("P") * (inflight + publisher_module.SETTLE_BATCH) + restarts * inflight
    assert resends <= resend_bound, f"the publisher sent {resends} rows again (at most {resend_bound})"
    assert redeliveries <= restarts * BROKER_INFLIGHT, f"{redeliveries} redeliveries by the broker"
    code, took = pub.terminate()
    assert code == 0 and took < 5
    print(f"stream: {total} messages, {resends} resent by the publisher, {redeliveries} redelivered")


# ---- 3. refused credentials and untrusted certificates ----------------------------------------------------


def connection_attempts(broker: Broker) -> int:
    """How many TCP connections the broker has seen (mosquitto logs one line per connection)."""
    return broker.log_text().count("New connection from")


def test_wrong_password_is_logged_retried_with_backoff_and_nothing_lost(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """A refused password: a clear error naming the credentials, paced retries, the outbox untouched; with
    the password file fixed and the publisher restarted (it reads the file at start) everything arrives."""
    right, wrong = "right-horse-battery-7", "wrong-staple-9"
    broker = new_broker(stack, auth="password", users={"device": right, "ops": "ops-pass"}).start()
    rec = recorder(stack, broker, DEVICE_TOPICS, username="ops", password="ops-pass")
    state = tmp_path / "state"
    with open_store(state) as store:
        store_results(store, 0, 20)
    password_file = tmp_path / "mqtt-password"
    password_file.write_text(wrong + "\n")
    settings = mqtt_settings(
        broker, username="device", password_file=str(password_file), backoff_min_s=0.5, backoff_max_s=30.0
    )
    cfg = write_config(tmp_path / "publish.toml", settings, state)
    pub = child(stack, cfg, tmp_path / "publisher.log")

    assert wait_until(lambda: "broker unavailable" in pub.log(), 10), pub.log()
    before = connection_attempts(broker)
    time.sleep(5)
    attempts = connection_attempts(broker) - before
    assert 2 <= attempts < 15, f"{attempts} connection attempts in 5 s"
    error = next(line for line in pub.log().splitlines() if "broker unavailable" in line)
    assert "refused the credentials" in error and "'device'" in error and "Not authorized" in error, error
    assert unsent(state) == 20
    assert all(sent is None for _, _, _, _, sent, _ in outbox(state))
    assert rec.messages(SCAN) == []

    password_file.write_text(right + "\n")
    code, _ = pub.terminate()
    assert code == 0
    pub.start()
    assert rec.wait_count(20, SCAN, timeout=15), pub.log()
    assert seqs(rec) == list(range(1, 21))
    assert wait_until(lambda: unsent(state) == 0, 5)
    for secret in (right, wrong):
        assert secret not in pub.log()
        assert secret not in broker.log_text()


def test_untrusted_broker_certificate_is_logged_retried_and_nothing_lost(
    stack: contextlib.ExitStack, tmp_path: Path, tls_files: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    """Trusting the wrong CA: a clear TLS error, paced retries, nothing sent; with the right CA, delivery."""
    caplog.set_level(logging.DEBUG, logger="edge_ocr.publish")
    broker = new_broker(stack, tls=tls_files).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    store = new_store(stack, tmp_path / "state")
    store_results(store, 0, 10)
    rogue = mqtt_settings(
        broker, tls=True, ca_file=str(tls_files.rogue_ca), backoff_min_s=0.5, backoff_max_s=30.0
    )
    pub = in_process(stack, store, rogue)
    assert wait_until(lambda: pub.stats.failures >= 1, 10)
    # Counted by the publisher: mosquitto does not log every handshake a client aborts.
    before = pub.stats.failures
    time.sleep(6)  # backoff 0.5 s doubling to 30 s, full jitter: 3 to 6 attempts expected, never dozens
    attempts = pub.stats.failures - before
    assert 2 <= attempts < 18, f"{attempts} TLS attempts in 6 s"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    # "TLS error with HOST:PORT: CERTIFICATE_VERIFY_FAILED (self-signed certificate in certificate chain)"
    pattern = r"TLS error .*CERTIFICATE_VERIFY_FAILED \(.*certificate.*\)"
    assert any(re.search(pattern, w) for w in warnings), warnings
    assert store.status().outbox_unsent == 10 and store.status().outbox_sent == 0
    assert rec.messages(SCAN) == []
    pub.stop()

    in_process(stack, store, mqtt_settings(broker, tls=True, ca_file=str(tls_files.ca)))
    assert rec.wait_count(10, SCAN, timeout=10)
    assert seqs(rec) == list(range(1, 11))
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)


def test_bad_client_key_is_logged_retried_and_picked_up_once_fixed(
    stack: contextlib.ExitStack, tmp_path: Path, tls_files: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    """A client key that does not match its certificate: logged, retried, the publisher thread stays alive;
    the files are read on every attempt, so fixing the key file on disk is enough."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker = new_broker(stack, tls=tls_files, require_certificate=True).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    store = new_store(stack, tmp_path / "state")
    store_results(store, 0, 5)
    key = tmp_path / "client.key"
    key.write_bytes(tls_files.server_key.read_bytes())  # some other key: the certificate does not match
    settings = mqtt_settings(
        broker, tls=True, ca_file=str(tls_files.ca), cert_file=str(tls_files.client_cert), key_file=str(key)
    )
    pub = in_process(stack, store, settings)
    assert wait_until(lambda: pub.stats.failures >= 3, 10), caplog.text
    assert "cannot set up TLS" in caplog.text and "KEY_VALUES_MISMATCH" in caplog.text, caplog.text
    assert store.status().outbox_unsent == 5 and rec.messages(SCAN) == []

    key.write_bytes(tls_files.client_key.read_bytes())
    assert rec.wait_count(5, SCAN, timeout=10), caplog.text
    assert seqs(rec) == list(range(1, 6))
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)


# ---- 4. the outbox cap ---------------------------------------------------------------------------------


def test_drop_oldest_cap_sends_only_the_newest_and_reports_the_drops(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """drop-oldest with a cap of N and the broker down: exactly the newest N arrive; stats count the drops."""
    cap, total = 100, 300
    broker, rec = offline_broker_with_subscriber(stack)
    store = new_store(stack, tmp_path / "state", outbox="drop-oldest", outbox_max_unsent=cap)
    pub = in_process(stack, store, mqtt_settings(broker))
    store_results(store, 0, total)
    store.enforce_retention()
    assert store.status().outbox_unsent == cap
    assert store.counters()["outbox_dropped"] == total - cap

    broker.start()
    assert rec.wait_count(cap, SCAN, timeout=15)
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)
    publish(broker, f"{PREFIX}/{DEVICE}/cmd/stats", b"")
    assert rec.wait_count(1, TOPICS.stats, timeout=5)
    time.sleep(0.3)
    assert seqs(rec) == list(range(total - cap + 1, total + 1))
    stats = rec.payloads_json(TOPICS.stats)[-1]
    assert stats["drops"]["outbox_dropped"] == total - cap
    assert stats["outbox_depth"] == 0
    assert stats["acknowledged"] == pub.stats.acknowledged >= cap


# ---- 5. status and last will ---------------------------------------------------------------------------


def test_last_will_on_freeze_and_kill_and_offline_on_clean_stop(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """Retained online while up; offline from the will when frozen (keepalive) or killed; offline from the
    publisher itself on SIGTERM, which exits 0 promptly."""
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, TOPICS.status)
    state = tmp_path / "state"
    open_store(state).close()
    cfg = write_config(tmp_path / "publish.toml", mqtt_settings(broker, keepalive_s=2), state)
    pub = child(stack, cfg, tmp_path / "publisher.log")
    assert wait_until(lambda: last_status(rec) == "online", 10), pub.log()

    pub.signal(signal.SIGSTOP)  # alive, socket open, silent: only the keepalive can tell
    frozen = time.monotonic()
    assert wait_until(lambda: last_status(rec) == "offline", 8), broker.log_text()
    # The broker gives up 1.5 x keepalive after the last packet (a ping up to 2 s before the freeze), so
    # the will comes 1-3 s later, not at once as for a closed socket; its log says why.
    assert time.monotonic() - frozen >= 0.5
    assert f"Client {CLIENT_ID} has exceeded timeout" in broker.log_text()
    pub.signal(signal.SIGCONT)
    assert wait_until(lambda: last_status(rec) == "online", 10), pub.log()

    pub.kill()
    assert wait_until(lambda: last_status(rec) == "offline", 6)
    assert f"Client {CLIENT_ID} closed its connection" in broker.log_text()
    fresh = retained_status(broker)
    assert [(m.payload, m.retain) for m in fresh.messages()] == [(b"offline", True)]

    pub.start()
    assert wait_until(lambda: last_status(rec) == "online", 10), pub.log()
    log_mark = len(broker.log_text())
    code, took = pub.terminate()
    assert code == 0 and took < 5, (code, took)
    assert wait_until(lambda: last_status(rec) == "offline", 3)
    # A clean DISCONNECT discards the will, so this offline is the publisher's own.
    assert f"Client {CLIENT_ID} disconnected." in broker.log_text()[log_mark:]
    fresh = retained_status(broker)
    assert [(m.payload, m.retain) for m in fresh.messages()] == [(b"offline", True)]
    assert [m.payload for m in rec.messages()] == [b"online", b"offline"] * 3


def test_an_idle_connection_is_kept_alive_by_pings(stack: contextlib.ExitStack, tmp_path: Path) -> None:
    """Nothing to send for several keepalive periods: the publisher's own network loop pings, so the
    broker never times it out and the connection is not re-made."""
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, TOPICS.status)
    store = new_store(stack, tmp_path / "state")
    pub = in_process(stack, store, mqtt_settings(broker, keepalive_s=2))
    assert wait_until(lambda: last_status(rec) == "online", 10)
    # mosquitto 2.0 checks keepalives every few seconds: without pings this times out within 10 s
    time.sleep(10)
    assert "exceeded timeout" not in broker.log_text()
    assert pub.stats.connects == 1 and pub.stats.connected
    store_results(store, 0, 3)
    pub.wake()
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)


# ---- 6. commands --------------------------------------------------------------------------------------


def test_commands_allow_list_results_and_retained_commands_ignored(
    stack: contextlib.ExitStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """stats and scan run and say accepted; reboot is rejected and logged; a retained command never runs."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    cmd = f"{PREFIX}/{DEVICE}/cmd"
    publish(broker, f"{cmd}/scan", b"retained", retain=True)
    calls: list[bytes] = []

    def scan(payload: bytes) -> None:
        calls.append(payload)
        if payload == b"boom":
            raise RuntimeError("camera busy")

    store = new_store(stack, tmp_path / "state")
    in_process(stack, store, mqtt_settings(broker), commands={"scan": scan})
    # The retained command arrives with the SUBACK: once it is ignored, the subscription is live.
    assert wait_until(lambda: "ignored retained command 'scan'" in caplog.text, 10), caplog.text

    publish(broker, f"{cmd}/stats", b"")
    assert rec.wait_count(1, TOPICS.stats, timeout=5)
    assert wait_until(lambda: len(results(rec, "stats")) == 1, 5)
    assert results(rec, "stats")[0]["accepted"] is True
    stats = rec.payloads_json(TOPICS.stats)[0]
    assert stats["device"] == DEVICE and "outbox_depth" in stats and "drops" in stats

    publish(broker, f"{cmd}/reboot", b"now")
    assert wait_until(lambda: len(results(rec, "reboot")) == 1, 5)
    reboot = results(rec, "reboot")[0]
    assert reboot["accepted"] is False and reboot["reason"] == "not allowed"
    assert "rejected command 'reboot'" in caplog.text

    publish(broker, f"{cmd}/scan", b"live")
    publish(broker, f"{cmd}/scan", b"boom")
    assert wait_until(lambda: len(results(rec, "scan")) == 2, 5)
    live, boom = results(rec, "scan")
    assert live["accepted"] is True and live["reason"] is None
    assert boom["accepted"] is False and "camera busy" in boom["reason"]
    assert calls == [b"live", b"boom"]  # never b"retained"
    assert len(rec.messages(TOPICS.stats)) == 1  # stats_interval_s is an hour: only the command's
    publish(broker, f"{cmd}/scan", b"", retain=True)  # clear the retained command


def test_the_brokers_receive_maximum_bounds_the_window_with_control_messages_in_it(
    stack: contextlib.ExitStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A broker announcing Receive Maximum 4 (MQTT 5) to a publisher configured for 16: never more than 4
    messages await their PUBACK, stats and command results share those 4 slots, and everything arrives."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker = new_broker(stack, extra_config=["max_inflight_messages 4"]).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    store = new_store(stack, tmp_path / "state")
    store_results(store, 0, 400)
    calls: list[bytes] = []
    pub = in_process(
        stack,
        store,
        mqtt_settings(broker, inflight=16, stats_interval_s=0.05),
        commands={"scan": calls.append},
    )
    assert wait_until(lambda: pub.stats.connected, 10)
    for i in range(5):
        publish(broker, f"{PREFIX}/{DEVICE}/cmd/scan", str(i).encode())
    assert rec.wait_count(400, SCAN, timeout=20), f"only {len(rec.messages(SCAN))} of 400 arrived"
    assert seqs(rec) == list(range(1, 401))
    assert wait_until(lambda: len(results(rec, "scan")) == 5, 5)
    assert calls == [str(i).encode() for i in range(5)]
    assert len(rec.messages(TOPICS.stats)) >= 2
    assert pub.stats.inflight_peak == 4, pub.stats.inflight_peak
    assert "the broker's Receive Maximum is 4: at most 4 messages in flight (inflight = 16)" in caplog.text


def test_scan_command_without_handler_is_rejected(
    stack: contextlib.ExitStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With no scan handler given (the standalone publisher), scan is refused rather than silently dropped."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    in_process(stack, new_store(stack, tmp_path / "state"), mqtt_settings(broker))
    assert wait_until(lambda: last_status(rec) == "online", 10)
    assert wait_until(lambda: f"{CLIENT_ID} 1 {PREFIX}/{DEVICE}/cmd/+" in broker.log_text(), 5)
    publish(broker, f"{PREFIX}/{DEVICE}/cmd/scan", b"")
    assert wait_until(lambda: len(results(rec, "scan")) == 1, 5)
    assert results(rec, "scan")[0]["accepted"] is False


# ---- 7. protocol version -------------------------------------------------------------------------------


@pytest.mark.parametrize(("protocol", "wire"), [("3.1.1", "p2"), ("5", "p5")])
def test_protocol_selectable(stack: contextlib.ExitStack, tmp_path: Path, protocol: str, wire: str) -> None:
    """protocol = "3.1.1" (or "5") is what goes on the wire, and delivery works with it."""
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    store = new_store(stack, tmp_path / "state")
    store_results(store, 0, 25)
    in_process(stack, store, mqtt_settings(broker, protocol=protocol))
    assert rec.wait_count(25, SCAN, timeout=10)
    assert seqs(rec) == list(range(1, 26))
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)
    assert f"as {CLIENT_ID} ({wire}," in broker.log_text()


# ---- 8. Home Assistant --------------------------------------------------------------------------------


def test_home_assistant_discovery_and_tags(stack: contextlib.ExitStack, tmp_path: Path) -> None:
    """Retained discovery configs under homeassistant/ with unique ids; QR payloads on the tag topic."""
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    store = new_store(stack, tmp_path / "state")
    store.save_scan(
        make_result(0, [qr("TAG-42"), ean("4006381333931")]), messages=message_builder(TOPICS, ha_tags=True)
    )
    store.save_scan(make_result(1, [qr("TAG-43")]), messages=message_builder(TOPICS, ha_tags=False))
    in_process(stack, store, mqtt_settings(broker, ha_discovery=True))
    assert rec.wait_count(2, SCAN, timeout=10)
    assert wait_until(lambda: store.status().outbox_unsent == 0, 5)

    with Recorder.for_broker(broker, "homeassistant/#", persistent=False) as ha:
        assert ha.wait_count(4, timeout=5)
        time.sleep(0.2)
        configs = {m.topic: m.json() for m in ha.messages()}
        assert all(m.retain for m in ha.messages())
    oid = f"edge_ocr_{DEVICE}"
    sensors = [
        f"homeassistant/sensor/{oid}/{name}/config" for name in ("last_text", "last_code", "outbox_depth")
    ]
    assert set(configs) == {*sensors, f"homeassistant/tag/{oid}/config"}
    unique_ids = [configs[t]["unique_id"] for t in sensors]
    assert len(set(unique_ids)) == 3 and all(uid.startswith(oid) for uid in unique_ids)
    for topic in sensors:
        assert configs[topic]["availability_topic"] == TOPICS.status
        assert configs[topic]["device"]["identifiers"] == [oid]
    assert configs[f"homeassistant/sensor/{oid}/last_text/config"]["state_topic"] == SCAN
    assert configs[f"homeassistant/tag/{oid}/config"]["topic"] == TOPICS.tag

    tags = rec.payloads_json(TOPICS.tag)
    assert [t["tag_id"] for t in tags] == ["TAG-42"]  # not the EAN, not the scan stored without ha_tags
    assert tags[0]["device"] == DEVICE
    assert len(rec.messages(TOPICS.code)) == 3


# ---- 9. lifecycle: threads start in start() only ------------------------------------------------------

PUBLISHER_THREADS = {"mqtt-acks", "mqtt-publisher"}


def new_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    """Threads running now that were not in `before`."""
    return set(threading.enumerate()) - before


def test_the_constructor_starts_no_thread_and_stop_without_start_is_prompt(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """Constructing starts nothing; stop() before start() returns at once; a stopped publisher stays so."""
    store = new_store(stack, tmp_path / "state")
    before = set(threading.enumerate())
    pub = Publisher(store, MqttSection(enabled=True, port=1), DEVICE)
    assert new_threads(before) == set()
    began = time.monotonic()
    pub.stop()
    assert time.monotonic() - began < 0.5
    with pytest.raises(RuntimeError, match="stopped"):
        pub.start()
    assert new_threads(before) == set()


def test_start_twice_is_refused_and_acks_are_marked_on_the_injected_store(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """start() runs the two threads, a second start() is refused; the marker writes through open_store."""
    broker = new_broker(stack).start()
    store = new_store(stack, tmp_path / "state")
    store_results(store, 0, 5)
    opened: list[Store] = []

    def open_marks() -> Store:
        opened.append(open_store(tmp_path / "state"))
        return opened[-1]

    before = set(threading.enumerate())
    pub = in_process(stack, store, mqtt_settings(broker), open_store=open_marks)
    started = new_threads(before)
    assert {t.name for t in started} == PUBLISHER_THREADS
    with pytest.raises(RuntimeError, match="already started"):
        pub.start()
    assert new_threads(before) == started
    assert wait_until(lambda: store.status().outbox_unsent == 0, 10), "acknowledged rows not marked sent"
    pub.stop()
    assert not any(t.is_alive() for t in started)
    assert len(opened) == 1  # one connection for the marker, opened by the factory, closed by stop()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].conn.execute("SELECT 1")
    assert unsent(tmp_path / "state") == 0


def test_stop_after_a_start_that_failed_half_way(
    stack: contextlib.ExitStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker started, the publishing thread could not: start() raises, stop() ends the marker."""
    store = new_store(stack, tmp_path / "state")
    real_start = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        if thread.name == "mqtt-publisher":
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    before = set(threading.enumerate())
    pub = Publisher(store, MqttSection(enabled=True, port=1), DEVICE)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        pub.start()
    monkeypatch.undo()
    assert {t.name for t in new_threads(before)} == {"mqtt-acks"}
    began = time.monotonic()
    pub.stop()
    assert time.monotonic() - began < 1.0
    assert new_threads(before) == set()


def test_held_control_messages_are_bounded_oldest_dropped_first() -> None:
    """A broker that grants no room (window full, no PUBACK coming) and a flood of replies: the held
    queue stays at MAX_HELD, the oldest go first and are counted."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge_ocr.publish.connection import MAX_HELD, Connection

    conn = Connection(mqtt.Client(CallbackAPIVersion.VERSION2, client_id="held"), 0, window=1)
    conn.control.add(1)  # the one slot awaits a PUBACK that never comes
    for i in range(MAX_HELD + 500):
        conn.publish_control("edge_ocr/d/cmd_result", f"reply {i}")
    assert len(conn.held) == MAX_HELD and conn.dropped == 500
    assert conn.held[0][1] == b"reply 500" and conn.held[-1][1] == f"reply {MAX_HELD + 499}".encode()


def test_a_command_flood_logs_a_line_not_a_line_each_and_long_names_are_cut(
    stack: contextlib.ExitStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """300 unknown commands: every one answered and counted, but one warning line (the rest are summed
    into the next line, at most one a minute); a 60,000-character command name is cut to 64 + '…'."""
    caplog.set_level(logging.INFO, logger="edge_ocr.publish")
    broker = new_broker(stack).start()
    rec = recorder(stack, broker, DEVICE_TOPICS)
    pub, client = commanded_publisher(stack, broker, tmp_path / "state")
    for _ in range(300):
        client.publish(f"{PREFIX}/{DEVICE}/cmd/bogus", b"", qos=1)
    long_name = "x" * 60_000
    client.publish(f"{PREFIX}/{DEVICE}/cmd/{long_name}", b"", qos=1)
    assert wait_until(lambda: pub.stats.commands_rejected == 301, 20), pub.stats.commands_rejected
    assert wait_until(lambda: len(rec.messages(TOPICS.cmd_result)) == 301, 20)
    assert caplog.text.count("rejected command") == 1, caplog.text.count("rejected command")
    cut = [p for p in rec.payloads_json(TOPICS.cmd_result) if p["command"].startswith("xxx")]
    assert len(cut) == 1 and cut[0]["command"] == "x" * 64 + "…" and cut[0]["reason"] == "not allowed"
    assert long_name not in caplog.text


def test_a_silent_broker_is_a_lost_connection_not_a_disconnect_by_the_broker(
    stack: contextlib.ExitStack, tmp_path: Path
) -> None:
    """The broker frozen (SIGSTOP): our keep-alive notices, and says so; only a DISCONNECT packet is
    reported as "disconnected by the broker"."""
    import os

    broker = new_broker(stack).start()
    store = new_store(stack, tmp_path / "state")
    pub = in_process(stack, store, mqtt_settings(broker, keepalive_s=1))
    assert wait_until(lambda: pub.stats.connected, 10)
    pid = broker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        assert wait_until(lambda: pub.stats.last_error is not None, 20), "no keep-alive timeout noticed"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert "disconnected by the broker" not in pub.stats.last_error, pub.stats.last_error
