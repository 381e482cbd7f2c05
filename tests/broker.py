"""Test support: a real mosquitto broker on a loopback port, TLS test certificates, and an MQTT recorder.

Not a test module and holds no pytest fixtures (conftest files build those on top of it):

    with Broker(persistence=True) as broker, Recorder.for_broker(broker, ["edge-ocr/#"]) as rec:
        publish(...)                           # code under test, pointed at broker.host / broker.port
        assert rec.wait_count(1, "edge-ocr/scans/#", timeout=5)
        broker.restart()                       # same port, same persistence; rec reconnects by itself

The broker is the Debian package `mosquitto` (2.0), never a mock; `scripts/setup.sh test` installs it.
Every broker listens on 127.0.0.1 only, and any broker still running when the interpreter exits is killed.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

HOST = "127.0.0.1"
SETUP_HINT = "run `scripts/setup.sh test` (it installs the Debian package `mosquitto`)"
MOSQUITTO_ENV = "EDGE_OCR_MOSQUITTO"
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class BrokerError(RuntimeError):
    """Raised when mosquitto is missing or will not start, so a test fails with the broker's own words."""


def find_tool(name: str) -> str | None:
    """Look in PATH and the sbin folders, since Debian puts mosquitto in /usr/sbin, often not on PATH.

    EDGE_OCR_MOSQUITTO=/path/to/mosquitto picks another build; mosquitto_passwd is then looked for beside it.
    """
    override = os.environ.get(MOSQUITTO_ENV)
    if override:
        candidate = Path(override) if name == "mosquitto" else Path(override).with_name(name)
        return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return found
    for folder in _SBIN_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def mosquitto_binary() -> str:
    """Return the broker's path, or fail with the setup step to take, so a missing package is obvious."""
    found = find_tool("mosquitto")
    if found is None:
        override = os.environ.get(MOSQUITTO_ENV)
        where = f" ({MOSQUITTO_ENV}={override} is not an executable)" if override else ""
        raise BrokerError(f"the `mosquitto` broker is not installed{where}: {SETUP_HINT}")
    return found


def broker_available() -> str | None:
    """Return why broker tests cannot run (for pytest.skip), or None when they can."""
    if find_tool("mosquitto") is None:
        return f"mosquitto is not installed: {SETUP_HINT}"
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        return "paho-mqtt is not installed: run `scripts/setup.sh test` (or pip install 'paho-mqtt>=2.1')"
    return None


def free_port() -> int:
    """Ask the kernel for an unused loopback port, so parallel brokers never collide on a fixed number."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_accepts(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """Tell whether something listens on the port, which is how start() knows the broker is up."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int, host: str = HOST) -> bool:
    """Tell whether the port could be bound again (with SO_REUSEADDR, as mosquitto binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


# --- TLS material ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS broker, a client that trusts it, and a CA it does not trust (for failure tests)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_ca: Path


def make_tls_files(dir: Path | str, hostname: str = HOST) -> TlsFiles:
    """Write a CA, a server and a client certificate it signs, and an unrelated rogue CA (30 days)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out = Path(dir)
    out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edge_ocr tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
        return path

    def write_cert(cert: x509.Certificate, path: Path) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def make_ca(common: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(name(common))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key

    def make_leaf(
        common: str,
        ca_cert: x509.Certificate,
        ca_key: ec.EllipticCurvePrivateKey,
        usage: x509.ObjectIdentifier,
        san: list[x509.GeneralName] | None,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    san: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
    try:
        extra: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        extra = x509.DNSName(hostname)
    if extra not in san:
        san.append(extra)

    ca_cert, ca_key = make_ca("edge_ocr test CA")
    server_cert, server_key = make_leaf(hostname, ca_cert, ca_key, ExtendedKeyUsageOID.SERVER_AUTH, san)
    client_usage = ExtendedKeyUsageOID.CLIENT_AUTH
    client_cert, client_key = make_leaf("edge-ocr-client", ca_cert, ca_key, client_usage, None)
    rogue_cert, _ = make_ca("edge_ocr rogue CA")
    return TlsFiles(
        ca=write_cert(ca_cert, out / "ca.crt"),
        server_cert=write_cert(server_cert, out / "server.crt"),
        server_key=write_key(server_key, out / "server.key"),
        client_cert=write_cert(client_cert, out / "client.crt"),
        client_key=write_key(client_key, out / "client.key"),
        rogue_ca=write_cert(rogue_cert, out / "rogue-ca.crt"),
    )


# --- password file --------------------------------------------------------------------------------


def mosquitto_password_line(user: str, password: str, salt: bytes | None = None) -> str:
    """Hash as mosquitto_passwd 2.0 does ($7$: PBKDF2-SHA512, 101 rounds), for hosts without the tool."""
    salt = os.urandom(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    return f"{user}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def write_password_file(path: Path, users: Mapping[str, str]) -> Path:
    """Write users with `mosquitto_passwd -b` when installed, else with the same hash computed here."""
    tool = find_tool("mosquitto_passwd")
    path.unlink(missing_ok=True)
    if tool is None:
        path.write_text("".join(mosquitto_password_line(u, p) + "\n" for u, p in users.items()))
    else:
        for i, (user, password) in enumerate(users.items()):
            args = [tool, "-b", *(["-c"] if i == 0 else []), str(path), user, password]
            done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
            if done.returncode != 0:
                raise BrokerError(f"mosquitto_passwd failed for {user!r}: {done.stderr or done.stdout}")
    path.chmod(0o600)
    return path


# --- the broker -----------------------------------------------------------------------------------

_LIVE: weakref.WeakSet[Broker] = weakref.WeakSet()


def _kill_all() -> None:
    """Kill brokers a test forgot, so no mosquitto outlives the test run."""
    for broker in list(_LIVE):
        broker.close()


atexit.register(_kill_all)


class Broker:
    """A mosquitto process on its own loopback port, config and persistence folder; restarts keep the port."""

    def __init__(
        self,
        *,
        auth: Literal["anonymous", "password"] = "anonymous",
        users: Mapping[str, str] | None = None,
        tls: TlsFiles | None = None,
        require_certificate: bool = False,
        persistence: bool = False,
        port: int | None = None,
        workdir: Path | str | None = None,
        extra_config: Iterable[str] = (),
        start_timeout: float = 10.0,
    ) -> None:
        """Write the config now (start() runs it); workdir defaults to a temp folder removed by close()."""
        if auth not in ("anonymous", "password"):
            raise ValueError(f"auth must be 'anonymous' or 'password', not {auth!r}")
        if auth == "password" and not users:
            raise ValueError("auth='password' needs users={'name': 'password', ...}")
        if require_certificate and tls is None:
            raise ValueError("require_certificate needs tls=TlsFiles")
        self.binary = mosquitto_binary()
        self.host = HOST
        self.port = port if port is not None else free_port()
        self.auth = auth
        self.users = dict(users or {})
        self.tls = tls
        self.require_certificate = require_certificate
        self.persistence = persistence
        self.start_timeout = start_timeout
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="edge-ocr-mosquitto-")) if workdir is None else Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf_path = self.dir / "mosquitto.conf"
        self.log_path = self.dir / "mosquitto.log"
        self.db_path = self.dir / "mosquitto.db"
        self.password_path = self.dir / "passwords" if auth == "password" else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        if self.password_path is not None:
            write_password_file(self.password_path, self.users)
        self.conf_path.write_text(self._config(list(extra_config)))
        _LIVE.add(self)

    def _config(self, extra: list[str]) -> str:
        """Render mosquitto.conf: one 127.0.0.1 listener; stderr logging, which start() sends to a file."""
        lines = [
            "# written by tests/broker.py",
            "per_listener_settings false",
            # As root, mosquitto drops to user `mosquitto`, which cannot write our temp folder or read
            # our keys; `user root` keeps it as root. For any other user the setting has no effect.
            *(["user root"] if os.geteuid() == 0 else []),
            f"listener {self.port} {HOST}",
            f"allow_anonymous {'true' if self.auth == 'anonymous' else 'false'}",
        ]
        if self.password_path is not None:
            lines.append(f"password_file {self.password_path}")
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
                f"require_certificate {'true' if self.require_certificate else 'false'}",
            ]
        if self.persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.dir}/",
                f"persistence_file {self.db_path.name}",
                "autosave_interval 1",
            ]
        else:
            lines.append("persistence false")
        lines += [
            "log_dest stderr",
            *(f"log_type {kind}" for kind in ("error", "warning", "notice", "information", "subscribe")),
            "connection_messages true",
            "log_timestamp true",
            "log_timestamp_format %H:%M:%S",
            *extra,
        ]
        return "\n".join(lines) + "\n"

    @property
    def running(self) -> bool:
        """True while the mosquitto process is alive (it may still be opening its port)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The current process id, for tests that signal the broker themselves."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def url(self) -> str:
        """mqtt:// or mqtts:// address, handy for code under test that takes a URL."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def start(self) -> Broker:
        """Run mosquitto and wait until its port accepts TCP; on failure raise with its log."""
        with self._lock:
            if self.running:
                return self
            if not Path(self.binary).exists():
                raise BrokerError(f"{self.binary} disappeared: {SETUP_HINT}")
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            with self.log_path.open("ab") as log:
                log.write(f"--- broker.py: starting mosquitto on {HOST}:{self.port}\n".encode())
                log.flush()
                self._proc = subprocess.Popen(
                    [self.binary, "-c", str(self.conf_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.dir,
                )
            deadline = time.monotonic() + self.start_timeout
            while True:
                if self._proc.poll() is not None:
                    code = self._proc.returncode
                    self._proc = None
                    raise BrokerError(
                        f"mosquitto exited with {code} before listening on {HOST}:{self.port}:\n"
                        + self._log_since(offset)
                    )
                # The port alone could be another process's; mosquitto logs "running" once it listens.
                if " running" in self._log_since(offset) and port_accepts(self.port):
                    return self
                if time.monotonic() > deadline:
                    self.kill()
                    raise BrokerError(
                        f"mosquitto did not listen on {HOST}:{self.port} within {self.start_timeout}s:\n"
                        + self._log_since(offset)
                    )
                time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: mosquitto saves its persistence file on the way out; SIGKILL if it hangs."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self._proc = None

    def kill(self) -> None:
        """SIGKILL, like a power cut: only what the last autosave (every second) wrote survives."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            self._proc = None

    def restart(self) -> Broker:
        """Stop (if running) and start again on the same port, config and persistence file."""
        with self._lock:
            self.stop()
            return self.start()

    def save(self, timeout: float = 5.0) -> bool:
        """Make a running broker write its persistence file now (SIGUSR1) and wait until the file changes.

        Autosave (interval 1 s) lands 0.3-2 s after a change, so a test about to kill() calls this instead.
        """
        if not self.persistence:
            raise ValueError("save() needs a broker made with persistence=True")
        if self._proc is None or not self.running:
            return False

        def stamp() -> int:
            try:
                return self.db_path.stat().st_mtime_ns
            except FileNotFoundError:
                return 0

        before = stamp()
        self._proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stamp() != before:
                time.sleep(0.05)  # the file is written in place of a temp file; let the rename finish
                return True
            time.sleep(0.01)
        return False

    def log_text(self) -> str:
        """Everything mosquitto logged across all starts of this broker."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _log_since(self, offset: int) -> str:
        """The log written since byte offset, i.e. by the latest start()."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        """Kill the process if any and remove the temp folder this broker made."""
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        _LIVE.discard(self)

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self.close()

    def __repr__(self) -> str:
        return f"Broker({self.url}, auth={self.auth}, persistence={self.persistence}, running={self.running})"


# --- the recorder ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message as the recorder saw it; `received_at` is time.time(), `monotonic` is time.monotonic()."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    received_at: float
    monotonic: float

    def json(self) -> Any:
        """The payload decoded as JSON (UTF-8)."""
        return json.loads(self.payload.decode("utf-8"))


class MqttConnectError(ConnectionError):
    """The broker answered CONNACK with a failure; `reason` is paho's ReasonCode (str() gives its name)."""

    def __init__(self, reason: Any) -> None:
        super().__init__(f"broker refused the connection: {reason}")
        self.reason = reason


class Recorder:
    """A paho-mqtt 2.x subscriber with a persistent session that records every message it gets."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: Iterable[str] | str = ("#",),
        *,
        client_id: str | None = None,
        qos: int = 1,
        persistent: bool = True,
        protocol: Literal["3.1.1", "5"] = "3.1.1",
        session_expiry: int = 3600,
        username: str | None = None,
        password: str | None = None,
        tls: TlsFiles | None = None,
        ca_certs: Path | str | None = None,
        client_cert: bool = False,
        keepalive: int = 5,
        reconnect_delay: tuple[float, float] = (0.1, 0.5),
    ) -> None:
        """Remember the settings; start() connects. ca_certs overrides tls.ca (e.g. tls.rogue_ca)."""
        self.host = host
        self.port = port
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.client_id = client_id or f"recorder-{uuid.uuid4().hex[:12]}"
        self.qos = qos
        self.persistent = persistent
        self.protocol = protocol
        self.session_expiry = session_expiry
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_certs = Path(ca_certs) if ca_certs is not None else (tls.ca if tls else None)
        self.client_cert = client_cert
        self.keepalive = keepalive
        self.reconnect_delay = reconnect_delay
        self._cond = threading.Condition()
        self._messages: list[Received] = []
        self._connects = 0
        self._connected = False
        self._ready = False
        self._session_present: bool | None = None
        self._subscribed_in_this_start = False
        self._suback: list[Any] | None = None
        self._refused: Any = None
        self._lost: Any = None
        self._client: Any = None

    @classmethod
    def for_broker(
        cls,
        broker: Broker,
        topics: Iterable[str] | str = ("#",),
        *,
        client_cert: bool | None = None,
        **kw: Any,
    ) -> Recorder:
        """A recorder for this broker: its port, its CA, a client certificate when the broker demands one."""
        kw.setdefault("tls", broker.tls)
        if client_cert is None:
            client_cert = broker.require_certificate
        return cls(broker.host, broker.port, topics, client_cert=client_cert, **kw)

    # connection

    def _make_client(self) -> Any:
        """Build a paho client with a fixed id, so the broker keeps its session between connections."""
        import paho.mqtt.client as mqtt

        if self.protocol == "5":
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
            )
        else:
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                clean_session=not self.persistent,
                protocol=mqtt.MQTTv311,
            )
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.ca_certs is not None:
            certfile = keyfile = None
            if self.client_cert:
                if self.tls is None:
                    raise ValueError("client_cert=True needs tls=TlsFiles")
                certfile, keyfile = str(self.tls.client_cert), str(self.tls.client_key)
            client.tls_set(ca_certs=str(self.ca_certs), certfile=certfile, keyfile=keyfile)
        client.reconnect_delay_set(*self.reconnect_delay)  # floats work, whatever the int hint says
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def start(self, timeout: float = 10.0) -> Recorder:
        """Connect, subscribe and start the network thread; raise ssl/OS errors or MqttConnectError."""
        if self._client is not None:
            return self
        with self._cond:
            self._refused = None
            self._lost = None
            self._suback = None
            self._subscribed_in_this_start = False
        client = self._make_client()
        kwargs: dict[str, Any] = {"keepalive": self.keepalive}
        if self.protocol == "5":
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self.session_expiry if self.persistent else 0
            kwargs |= {"clean_start": not self.persistent, "properties": props}
        client.connect(self.host, self.port, **kwargs)  # TCP + TLS handshake happen here, synchronously
        self._client = client
        client.loop_start()

        def settled() -> bool:
            return self._refused is not None or self._lost is not None or self._suback is not None

        ok = self._wait(settled, timeout)
        refused, lost = self._refused, self._lost
        if refused is not None or lost is not None or not ok:
            self.stop()
            if refused is not None:
                raise MqttConnectError(refused)
            if lost is not None:
                # e.g. TLS 1.3 with require_certificate: the handshake "succeeds", then the broker hangs up.
                raise ConnectionError(f"{self.host}:{self.port} closed the connection before CONNACK: {lost}")
            raise TimeoutError(f"no CONNACK/SUBACK from {self.host}:{self.port} within {timeout}s")
        failed = [rc for rc in self._suback or [] if getattr(rc, "is_failure", False)]
        if failed:
            self.stop()
            raise MqttConnectError(f"subscription refused: {failed}")
        return self

    def stop(self) -> None:
        """Disconnect cleanly; the broker keeps a persistent session and queues QoS 1 messages for it."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.disconnect()
        finally:
            client.loop_stop()
        with self._cond:
            self._connected = False
            self._ready = False
            self._cond.notify_all()

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # paho callbacks (network thread)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        """Subscribe on the first connect, and on reconnects only when the broker lost our session."""
        with self._cond:
            if reason.is_failure:
                self._refused = reason
                self._cond.notify_all()
                return
            self._connects += 1
            self._connected = True
            self._session_present = bool(flags.session_present)
            # Re-subscribing to a kept session would make the broker resend retained messages.
            must_subscribe = not self._subscribed_in_this_start or not flags.session_present
            self._subscribed_in_this_start = True
            self._ready = not must_subscribe
            self._cond.notify_all()
        if must_subscribe:
            client.subscribe([(topic, self.qos) for topic in self.topics])

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        """Note the drop; one before any CONNACK of this start() means the broker hung up on us."""
        with self._cond:
            if not self._subscribed_in_this_start and self._refused is None:
                self._lost = reason
            self._connected = False
            self._ready = False
            self._cond.notify_all()

    def _on_subscribe(
        self, client: Any, userdata: Any, mid: int, reasons: list[Any], properties: Any
    ) -> None:
        """Keep the SUBACK codes: start() waits for them and fails on a refused filter."""
        with self._cond:
            self._suback = list(reasons)
            self._ready = True
            self._cond.notify_all()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        """Record before returning: paho sends the PUBACK only after this callback."""
        item = Received(
            topic=msg.topic,
            payload=bytes(msg.payload),
            qos=int(msg.qos),
            retain=bool(msg.retain),
            dup=bool(msg.dup),
            received_at=time.time(),
            monotonic=time.monotonic(),
        )
        with self._cond:
            self._messages.append(item)
            self._cond.notify_all()

    # state and queries

    @property
    def connected(self) -> bool:
        """True between a successful CONNACK and the next disconnect."""
        with self._cond:
            return self._connected

    @property
    def connects(self) -> int:
        """How many successful CONNACKs so far (1 after start, +1 per automatic reconnect)."""
        with self._cond:
            return self._connects

    @property
    def session_present(self) -> bool | None:
        """The session-present flag of the latest CONNACK: True when the broker kept our session."""
        with self._cond:
            return self._session_present

    def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait on the shared condition, which every callback notifies."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    @property
    def ready(self) -> bool:
        """Connected and subscribed: either the broker kept our session or the new SUBACK has arrived."""
        with self._cond:
            return self._ready

    def wait_connects(self, n: int, timeout: float = 10.0) -> bool:
        """Wait for the n-th successful connect and its subscriptions (e.g. connects + 1 after a restart)."""
        return self._wait(lambda: self._connects >= n and self._ready, timeout)

    def messages(self, topic_filter: str | None = None) -> list[Received]:
        """A copy of the messages so far, in arrival order, optionally only those matching an MQTT filter."""
        from paho.mqtt.client import topic_matches_sub

        with self._cond:
            items = list(self._messages)
        if topic_filter is None:
            return items
        return [m for m in items if topic_matches_sub(topic_filter, m.topic)]

    def payloads_json(self, topic_filter: str | None = None) -> list[Any]:
        """Payloads decoded as JSON, for assertions on what the publisher sent."""
        return [m.json() for m in self.messages(topic_filter)]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> bool:
        """Wait until predicate(all messages so far) is true; False on timeout rather than an exception."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(list(self._messages)), timeout)

    def wait_count(self, n: int, topic_filter: str | None = None, timeout: float = 10.0) -> bool:
        """Wait until at least n messages matching the filter have arrived."""
        from paho.mqtt.client import topic_matches_sub

        def enough(items: list[Received]) -> bool:
            if topic_filter is None:
                return len(items) >= n
            return sum(1 for m in items if topic_matches_sub(topic_filter, m.topic)) >= n

        return self.wait_for(enough, timeout)

    def clear(self) -> None:
        """Forget the messages recorded so far (the connection and session are untouched)."""
        with self._cond:
            self._messages.clear()


def mqtt_client(
    broker: Broker,
    *,
    client_id: str = "",
    protocol: Literal["3.1.1", "5"] = "3.1.1",
    username: str | None = None,
    password: str | None = None,
    ca_certs: Path | str | None = None,
    client_cert: bool | None = None,
) -> Any:
    """An unconnected paho 2.x client set up for this broker: its CA, its client cert if it requires one."""
    import paho.mqtt.client as mqtt

    version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version)
    if username is not None:
        client.username_pw_set(username, password)
    tls = broker.tls
    if ca_certs is None and tls is not None:
        ca_certs = tls.ca
    if ca_certs is not None:
        use_cert = broker.require_certificate if client_cert is None else client_cert
        if use_cert and tls is None:
            raise ValueError("client_cert=True needs a broker with tls=TlsFiles")
        client.tls_set(
            ca_certs=str(ca_certs),
            certfile=str(tls.client_cert) if use_cert and tls else None,
            keyfile=str(tls.client_key) if use_cert and tls else None,
        )
    return client


def publish(
    broker: Broker,
    topic: str,
    payload: bytes | str,
    *,
    qos: int = 1,
    retain: bool = False,
    timeout: float = 10.0,
    **client_kw: Any,
) -> None:
    """Publish one message and wait for the broker's PUBACK, so the test knows the broker holds it."""
    client = mqtt_client(broker, **client_kw)
    client.connect(broker.host, broker.port, keepalive=10)
    client.loop_start()
    try:
        info = client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"{topic}: no acknowledgement from {broker.url} within {timeout}s")
    finally:
        client.disconnect()
        client.loop_stop()
