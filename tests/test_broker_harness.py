"""The MQTT test harness (tests/broker.py) on a real mosquitto: if these fail, trust no MQTT test."""

from __future__ import annotations

import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import (
    HOST,
    MOSQUITTO_ENV,
    SETUP_HINT,
    Broker,
    BrokerError,
    MqttConnectError,
    Recorder,
    TlsFiles,
    broker_available,
    find_tool,
    make_tls_files,
    mosquitto_password_line,
    port_is_free,
    publish,
    write_password_file,
)

REPO = Path(__file__).resolve().parent.parent
UNAVAILABLE = broker_available()
needs_broker = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")
# mosquitto 2.0 answers a bad password with "Not authorized" (3.1.1 code 5 / MQTT 5 code 135);
# other brokers (and the spec's intent) use "Bad user name or password" (3.1.1 code 4 / MQTT 5 code 134).
BAD_CREDENTIALS = {"Bad user name or password", "Not authorized"}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """One CA, server, client and rogue-CA set for the module: key generation is the slow part."""
    pytest.importorskip("cryptography")
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def brokers() -> Iterator[list[Broker]]:
    """Brokers a test appends here are closed even when it fails halfway."""
    made: list[Broker] = []
    yield made
    for broker in made:
        broker.close()


def listening_addresses(port: int) -> list[str]:
    """Local addresses with a TCP socket listening on port (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: TCP_LISTEN
                found.append(address)
    return found


@needs_broker
def test_anonymous_broker_records_messages_and_binds_loopback_only(brokers: list[Broker]) -> None:
    """A message published on the loopback listener reaches the recorder with payload, qos and retain."""
    broker = Broker().start()
    brokers.append(broker)
    assert broker.running
    assert listening_addresses(broker.port) == ["0100007F"]  # 127.0.0.1, no IPv6, no wildcard
    assert "listener" in broker.conf_path.read_text()
    with Recorder.for_broker(broker, ["edge-ocr/#"]) as rec:
        publish(broker, "edge-ocr/scans/1", '{"id": 1, "text": "ABC"}')
        publish(broker, "edge-ocr/status", b"online", retain=True)
        publish(broker, "other/topic", b"ignored")
        assert rec.wait_count(2, timeout=5)
        assert rec.payloads_json("edge-ocr/scans/+") == [{"id": 1, "text": "ABC"}]
        status = rec.messages("edge-ocr/status")
        assert [(m.payload, m.qos) for m in status] == [(b"online", 1)]
        assert not rec.messages("other/#")
        rec.clear()
        assert rec.messages() == []
    # A new subscription gets the retained message, flagged as retained.
    with Recorder.for_broker(broker, "edge-ocr/status") as late:
        assert late.wait_count(1, timeout=5)
        assert late.messages()[0].retain
    assert "New client connected" in broker.log_text()


@needs_broker
def test_restart_keeps_port_and_recorder_reconnects(brokers: list[Broker]) -> None:
    """After restart() the broker is on the same port and the recorder is back without any help."""
    broker = Broker().start()
    brokers.append(broker)
    port = broker.port
    with Recorder.for_broker(broker, "t/#") as rec:
        publish(broker, "t/before", b"1")
        assert rec.wait_count(1, timeout=5)
        connects = rec.connects
        broker.restart()
        assert broker.port == port and broker.running
        # No persistence: the broker forgot the session, so the recorder must subscribe again.
        assert rec.wait_connects(connects + 1, timeout=10)
        assert rec.session_present is False
        publish(broker, "t/after", b"2")
        assert rec.wait_count(1, "t/after", timeout=5)


@needs_broker
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_persistent_session_gets_qos1_sent_while_offline(brokers: list[Broker], protocol: str) -> None:
    """QoS 1 messages for a disconnected persistent subscriber arrive on reconnect, also across a restart."""
    broker = Broker(persistence=True).start()
    brokers.append(broker)
    rec = Recorder.for_broker(broker, "q/#", client_id=f"harness-{protocol}", protocol=protocol)  # type: ignore[arg-type]
    rec.start()
    assert rec.session_present is False
    rec.stop()

    publish(broker, "q/offline", b"while away")
    rec.start()
    try:
        assert rec.session_present is True
        assert rec.wait_count(1, "q/offline", timeout=5)
    finally:
        rec.stop()

    publish(broker, "q/offline2", b"then the broker restarted")
    broker.stop()  # SIGTERM: mosquitto writes mosquitto.db on the way out
    assert broker.db_path.is_file()
    broker.start()
    rec.start()
    try:
        assert rec.session_present is True
        assert rec.wait_count(1, "q/offline2", timeout=5)
        assert [m.qos for m in rec.messages("q/offline2")] == [1]
    finally:
        rec.stop()


@needs_broker
def test_kill_frees_port_and_saved_queue_survives(brokers: list[Broker]) -> None:
    """After SIGKILL the port is free for restart(), and what save() wrote before the kill is still there."""
    broker = Broker(persistence=True).start()
    brokers.append(broker)
    port, pid = broker.port, broker.pid
    rec = Recorder.for_broker(broker, "k/#", client_id="harness-kill").start()
    rec.stop()
    publish(broker, "k/1", b"queued")
    assert broker.save()
    broker.kill()
    assert not broker.running
    assert pid is not None and not Path(f"/proc/{pid}").exists()
    assert port_is_free(port)
    broker.restart()
    assert broker.port == port and broker.running
    with rec:
        assert rec.wait_count(1, "k/1", timeout=5)


@needs_broker
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_password_broker_rejects_wrong_password(brokers: list[Broker], protocol: str) -> None:
    """Wrong or missing credentials are refused with CONNACK; the right ones connect and receive."""
    broker = Broker(auth="password", users={"device": "s3cret", "ops": "other"}).start()
    brokers.append(broker)
    for username, password in (("device", "wrong"), ("nobody", "s3cret"), (None, None)):
        rec = Recorder.for_broker(broker, "p/#", protocol=protocol, username=username, password=password)  # type: ignore[arg-type]
        with pytest.raises(MqttConnectError) as refused:
            rec.start(timeout=5)
        assert str(refused.value.reason) in BAD_CREDENTIALS
    with Recorder.for_broker(broker, "p/#", protocol=protocol, username="device", password="s3cret") as rec:  # type: ignore[arg-type]
        publish(broker, "p/1", b"ok", username="ops", password="other")
        assert rec.wait_count(1, timeout=5)


def test_password_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    """The fallback hash (used without mosquitto_passwd) equals the tool's own for the same salt."""
    if find_tool("mosquitto_passwd") is None:
        pytest.skip(f"mosquitto_passwd is not installed: {SETUP_HINT}")
    path = write_password_file(tmp_path / "passwords", {"device": "s3cret"})
    line = path.read_text().strip()
    salt = base64.b64decode(line.split("$")[3])
    assert mosquitto_password_line("device", "s3cret", salt) == line


@needs_broker
def test_tls_broker_trusts_ca_and_rejects_rogue_ca(brokers: list[Broker], tls_files: TlsFiles) -> None:
    """A client trusting the test CA connects over TLS; one trusting only the rogue CA fails verification."""
    broker = Broker(tls=tls_files).start()
    brokers.append(broker)
    assert broker.url.startswith("mqtts://")
    with Recorder.for_broker(broker, "s/#") as rec:
        publish(broker, "s/1", b"secure")
        assert rec.wait_count(1, timeout=5)
    with Recorder("localhost", broker.port, "s/#", tls=tls_files):  # the DNS name in the SAN works too
        pass
    with pytest.raises(ssl.SSLCertVerificationError):
        Recorder.for_broker(broker, "s/#", ca_certs=tls_files.rogue_ca).start(timeout=5)


@needs_broker
def test_tls_broker_requiring_client_certificates(brokers: list[Broker], tls_files: TlsFiles) -> None:
    """With require_certificate, a client with the CA-signed certificate connects; one without is cut off."""
    broker = Broker(tls=tls_files, require_certificate=True).start()
    brokers.append(broker)
    with Recorder.for_broker(broker, "c/#") as rec:
        assert rec.connected
    # TLS 1.3 reports the missing certificate after the client's handshake: a closed connection, no CONNACK.
    with pytest.raises((ConnectionError, ssl.SSLError)):
        Recorder.for_broker(broker, "c/#", client_cert=False).start(timeout=5)


@needs_broker
def test_start_failure_raises_with_mosquitto_log(brokers: list[Broker]) -> None:
    """A broker that cannot bind its port fails start() with mosquitto's own explanation."""
    with socket.socket() as squatter:
        squatter.bind((HOST, 0))
        squatter.listen()
        broker = Broker(port=squatter.getsockname()[1])
        brokers.append(broker)
        with pytest.raises(BrokerError, match=r"(?i)address already in use"):
            broker.start()
        assert not broker.running


def test_missing_mosquitto_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the binary, the error and the skip reason both name scripts/setup.sh test."""
    monkeypatch.setenv(MOSQUITTO_ENV, str(tmp_path / "no-such-mosquitto"))
    reason = broker_available()
    assert reason is not None and "scripts/setup.sh test" in reason
    with pytest.raises(BrokerError, match=re.escape("scripts/setup.sh test")):
        Broker()


@needs_broker
def test_forgotten_broker_is_killed_at_exit() -> None:
    """A process that exits without stopping its broker leaves no mosquitto behind (atexit)."""
    code = "from tests.broker import Broker; b = Broker().start(); print(b.pid, flush=True)"
    env = {k: v for k, v in os.environ.items() if k != MOSQUITTO_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()
