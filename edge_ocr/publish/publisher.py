"""Store-and-forward publisher: drains the outbox in order over MQTT (QoS 1), marking a row sent only
after its PUBACK; reconnects with backoff and jitter; status with a last will; stats; commands.

One thread owns the paho client and runs its network loop, so no callback races the drain. Every
connection uses a fresh client: whatever was in flight when a connection died is simply read from
the outbox again (a duplicate at most, never a loss).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge_ocr.backoff import Backoff, OutageLog
from edge_ocr.config import MqttSection
from edge_ocr.publish.connection import Connection
from edge_ocr.publish.discovery import discovery_messages
from edge_ocr.publish.messages import iso_ms
from edge_ocr.publish.topics import Topics
from edge_ocr.store import Store, now_ms

log = logging.getLogger("edge_ocr.publish")

COMMANDS = ("scan", "stats")  # the allow-list; anything else is rejected and logged
MAX_COMMAND_NAME = 64  # longer names are cut in the log and in cmd_result (a topic level may be 64 kB)
REJECT_LOG_S = 60.0  # rejected commands: one warning, then at most one summary line per this interval
# CONNACK refusals that mean the username/password (mosquitto answers a wrong password "Not authorized")
BAD_CREDENTIALS = ("Bad user name or password", "Not authorized")
IDLE_WAIT_S = 0.2  # network loop wait when there is nothing to send
ACK_WAIT_S = 0.05  # network loop wait while messages are in flight (select returns on the PUBACK)
READ_AHEAD = 8  # rows read from the store at once, in in-flight windows
GOODBYE_S = 2.0  # on a clean stop, the longest time spent sending what is stored
SETTLE_S = 0.1  # longest time an acknowledged row waits to be marked sent
SETTLE_BATCH = 512  # or this many acknowledgements, whichever comes first


@dataclass
class PublisherStats:
    """Counters for stats and status lines."""

    connected: bool = False
    published: int = 0
    acknowledged: int = 0
    connects: int = 0
    failures: int = 0
    last_error: str | None = None
    commands_rejected: int = 0
    inflight_peak: int = 0  # the most messages awaiting PUBACK at once, on any connection
    replies_dropped: int = 0  # held control messages dropped while the broker gave no room (oldest first)


def reopen(store: Store) -> Callable[[], Store]:
    """Opens `store`'s database again: the marker's own connection, so no drain read waits on its writes."""
    return lambda: Store(store.state_dir, store.settings)


class Publisher:
    """Runs in its own threads, started by `start()` (the constructor starts none); `wake()` after storing
    makes it drain at once. `open_store` opens the acknowledgement marker's own connection to the store
    (default: the same database as `store`)."""

    def __init__(
        self,
        store: Store,
        settings: MqttSection,
        device: str,
        password: str | None = None,
        stats_extra: Callable[[], dict] | None = None,
        commands: dict[str, Callable[[bytes], None]] | None = None,
        open_store: Callable[[], Store] | None = None,
    ) -> None:
        self.store = store
        self._open_store = open_store or reopen(store)
        self.settings = settings
        self.device = device
        self.topics = Topics(settings.topic_prefix, device)
        self._password = password
        self.stats_extra = stats_extra
        self.handlers = dict(commands or {})
        self.handlers.setdefault("stats", lambda _payload: self._stats_due.set())
        self.stats = PublisherStats()
        self.backoff = Backoff(settings.backoff_min_s, settings.backoff_max_s)
        self.outage = OutageLog(log)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._stats_due = threading.Event()
        self._reject_quiet_until = 0.0  # rejected-command warnings are rate-limited
        self._rejects_unlogged = 0
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self._marks: queue.Queue[list[int] | None] = queue.Queue()
        self._unmarked = 0  # acknowledged rows handed to the marker thread and not yet recorded
        self._unmarked_lock = threading.Lock()
        self._marker: threading.Thread | None = None
        self._started = False

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the acknowledgement marker, then the publishing thread (whose settling waits on it).
        Once only: a stopped or started publisher is not started again."""
        if self._started or self._stop.is_set():
            what = "already started" if self._started else "stopped"
            raise RuntimeError(f"Publisher.start(): {what}; a publisher starts once (make a new one)")
        self._started = True
        marker = threading.Thread(target=self._mark_loop, name="mqtt-acks", daemon=True)
        marker.start()
        self._marker = marker  # set once running, so stop() never joins a thread that never started
        thread = threading.Thread(target=self.run, name="mqtt-publisher", daemon=True)
        thread.start()
        self._thread = thread

    def stop(self, timeout: float = 5.0) -> None:
        """Publish `offline`, disconnect cleanly and end the threads; safe before or after a failed start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._marker is not None:
            self._marks.put(None)  # after the last acknowledgements of the final connection
            self._marker.join(timeout)

    def wake(self) -> None:
        """New rows are in the outbox."""
        self._wake.set()

    @property
    def port(self) -> int:
        """The configured port, or the protocol default."""
        return self.settings.port or (8883 if self.settings.tls else 1883)

    # ---- the loop --------------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, drain, keep the connection; on any failure wait (backoff, jitter) and start over."""
        while not self._stop.is_set():
            try:
                error = self._session()
            except Exception as exc:  # e.g. the store failing: never let the thread die silently
                log.exception("publisher error")
                error = f"publisher error: {exc}"
            if self._stop.is_set():
                break
            self.stats.connected = False
            self.stats.failures += 1
            self.stats.last_error = error
            self.outage.failed(error)
            self._stop.wait(self.backoff.next_delay())

    def _session(self) -> str:
        """One connection from connect to loss; returns why it ended."""
        try:
            client = self._new_client()
        except (ssl.SSLError, OSError, ValueError) as exc:  # tls_set reads the files on every attempt
            what = "TLS (ca_file, cert_file, key_file)" if self.settings.tls else "the MQTT client"
            return f"cannot set up {what}: {exc}"
        conn = Connection(client, now_ms(), self.settings.inflight)
        self._conn = conn
        try:
            conn.client.connect(self.settings.host, self.port, self.settings.keepalive_s)
        except ssl.SSLError as exc:
            detail = getattr(exc, "verify_message", None)  # e.g. "unable to get local issuer certificate"
            reason = f"{exc.reason or exc}{f' ({detail})' if detail else ''}"
            return f"TLS error with {self.settings.host}:{self.port}: {reason}"
        except (OSError, ValueError) as exc:
            return (
                f"cannot connect to {self.settings.host}:{self.port}: {getattr(exc, 'strerror', None) or exc}"
            )
        try:
            return self._connected_loop(conn)
        finally:
            self._close(conn)
            self.stats.replies_dropped += conn.dropped

    def _connected_loop(self, conn: Connection) -> str:
        deadline = time.monotonic() + max(10.0, self.settings.keepalive_s)
        while not conn.connack:
            rc = conn.net.turn(0.1)
            if conn.refused or rc != mqtt.MQTT_ERR_SUCCESS:
                return conn.refused or f"connection lost before CONNACK ({mqtt.error_string(rc)})"
            if time.monotonic() > deadline or self._stop.is_set():
                return "no CONNACK from the broker"
        self._on_ready(conn)
        next_stats = time.monotonic() + self.settings.stats_interval_s
        while not self._stop.is_set():
            self._drain(conn)
            self.stats.inflight_peak = max(self.stats.inflight_peak, conn.peak)
            # Block in select until the broker answers (it returns as soon as a PUBACK arrives):
            # spinning with a zero timeout would steal the CPU a local broker needs.
            more = bool(conn.queue or conn.held) and self._room(conn) > 0
            busy = bool(conn.inflight or conn.control) or more
            rc = conn.net.turn(0.0 if more else ACK_WAIT_S if busy else IDLE_WAIT_S)
            self._settle(conn)
            if conn.failed_acks:
                return "broker refused messages: " + "; ".join(e for _, e in conn.failed_acks[:3])
            if rc != mqtt.MQTT_ERR_SUCCESS or conn.lost:
                return conn.lost or f"connection lost ({mqtt.error_string(rc)})"
            if self._stats_due.is_set() or time.monotonic() >= next_stats:
                self._stats_due.clear()
                self.publish_stats(conn)
                next_stats = time.monotonic() + self.settings.stats_interval_s
            if not busy and not self._wake.is_set():
                continue
            self._wake.clear()
        self._goodbye(conn)
        return "stopped"

    def _on_ready(self, conn: Connection) -> None:
        backlog = self.store.outbox_depth()
        self.outage.recovered(backlog)
        self.backoff.reset()
        self.stats.connected = True
        self.stats.connects += 1
        client = conn.client
        client.subscribe(self.topics.cmd_filter, qos=1)  # before `online`: a controller may react to it
        conn.publish_control(self.topics.status, b"online", retain=True)
        if self.settings.ha_discovery:
            for topic, payload in discovery_messages(self.settings, self.topics, self.device):
                conn.publish_control(topic, json.dumps(payload), retain=True)
        log.info("connected to %s:%d as %s", self.settings.host, self.port, self.device)

    def _room(self, conn: Connection) -> int:
        """How many rows may go out now. Rows on the wire plus rows acknowledged but not yet recorded
        stay within SETTLE_BATCH, which is what a kill can make the publisher send twice: a marker
        thread that falls behind (a busy disk or CPU) holds the drain back instead of letting the
        unrecorded rows pile up."""
        with self._unmarked_lock:
            unrecorded = self._unmarked
        return min(conn.room(), SETTLE_BATCH - len(conn.inflight) - len(conn.acked) - unrecorded)

    def _drain(self, conn: Connection) -> None:
        """Hand rows to paho in order until the in-flight window is full (reading ahead in batches, so
        the store is asked once per several windows, not once per acknowledgement)."""
        conn.flush_control()
        room = self._room(conn)
        if room <= 0:
            return
        if len(conn.queue) < room:
            rows = self.store.pending(limit=READ_AHEAD * self.settings.inflight, after_id=conn.last_id)
            if rows:
                conn.queue.extend(rows)
                conn.last_id = rows[-1].id
        if not conn.queue:
            return
        tails = _tails(iso_ms(now_ms()))  # once per batch: formatting a time per message is measurable
        publish, inflight, since_ms = conn.client.publish, conn.inflight, conn.since_ms
        sent = 0
        while conn.queue and sent < room:
            row = conn.queue.popleft()
            sent += 1
            replayed = row.attempts > 0 or row.created_ms < since_ms
            info = publish(row.topic, _with_tail(row.payload, tails[replayed]), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                conn.lost = f"publish failed ({mqtt.error_string(info.rc)})"
                sent -= 1
                break
            inflight[info.mid] = row
        self.stats.published += sent
        conn.note_peak()

    def _settle(self, conn: Connection, force: bool = False) -> None:
        """Record acknowledged rows as sent: one fsynced transaction per batch (a full window, or every
        SETTLE_S, or when nothing is in flight); a crash before it only means a duplicate later."""
        if not conn.acked:
            return
        now = time.monotonic()
        due = force or not conn.inflight or len(conn.acked) >= SETTLE_BATCH
        if due or now - conn.settled_at >= SETTLE_S:
            ids, conn.acked = conn.acked, []
            with self._unmarked_lock:
                self._unmarked += len(ids)
            self._marks.put(ids)  # written by the marker thread (SQLite releases the GIL meanwhile)
            if force:
                self._marks.join()
            conn.settled_at = now
            self.stats.acknowledged += len(ids)

    def _mark_loop(self) -> None:
        """Records acknowledgements beside the network loop, on a connection of its own: in WAL mode the
        drain's reads of the outbox then never wait for these writes."""
        marks: Store | None = None
        try:
            while True:
                ids = self._marks.get()
                try:
                    if ids is None:
                        return
                    if marks is None:
                        marks = self._open_store()
                    marks.mark_sent(ids)
                except Exception as exc:  # rows stay unsent: sent again later, never lost
                    log.warning("could not record %d acknowledgements: %s", len(ids or []), exc)
                finally:
                    with self._unmarked_lock:
                        self._unmarked -= len(ids or [])
                    self._marks.task_done()
        finally:
            if marks is not None:
                marks.close()

    def _close(self, conn: Connection) -> None:
        """A connection ended: settle what was acknowledged, count attempts for what was not."""
        try:
            self._settle(conn, force=True)
            unacked = [row.id for row in conn.inflight.values()]
            failed = dict(conn.failed_acks)
            if unacked:
                self.store.record_attempt(unacked, failed.get(unacked[0]) or "connection lost before PUBACK")
        except Exception as exc:  # the store may be full or closing; rows stay unsent either way
            log.warning("could not record publish attempts: %s", exc)
        with contextlib.suppress(Exception):
            conn.client.disconnect()
            conn.client.loop_write()  # packets are queued until a turn writes them
        with contextlib.suppress(Exception):
            sock = conn.client.socket()
            if sock is not None:
                sock.close()
        self._conn = None

    def _goodbye(self, conn: Connection) -> None:
        """Clean stop: send what is stored (the daemon saves the frame in hand just before) and wait for
        its PUBACKs, for up to GOODBYE_S; then retained offline, then disconnect. Whatever is left stays
        in the outbox for the next start."""
        end = time.monotonic() + GOODBYE_S
        while time.monotonic() < end:
            self._drain(conn)
            if not (conn.inflight or conn.control or conn.queue or conn.held):
                break
            if conn.net.turn(0.05) != mqtt.MQTT_ERR_SUCCESS:
                return
            self._settle(conn)
        # The window is empty now (or the wait is over): sent directly, to wait for its PUBACK.
        info = conn.client.publish(self.topics.status, b"offline", qos=1, retain=True)
        end = time.monotonic() + 1.0
        while not info.is_published() and time.monotonic() < end:
            if conn.net.turn(0.05) != mqtt.MQTT_ERR_SUCCESS:
                break
        self._settle(conn, force=True)

    # ---- client and callbacks --------------------------------------------------------------------

    def _new_client(self) -> mqtt.Client:
        s = self.settings
        v5 = s.protocol == "5"
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.client_id or f"edge-ocr-{self.device}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        paho_log = logging.getLogger("edge_ocr.publish.paho")
        if paho_log.isEnabledFor(logging.DEBUG):  # paho logs every packet: only when asked for
            client.enable_logger(paho_log)
        client.max_queued_messages_set(0)
        client.will_set(self.topics.status, b"offline", qos=1, retain=True)
        if s.username:
            client.username_pw_set(s.username, self._password)
        if s.tls:
            client.tls_set(
                ca_certs=s.ca_file or None,
                certfile=s.cert_file or None,
                keyfile=s.key_file or None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        conn = self._conn
        if conn is None:
            return
        if reason_code.is_failure and str(reason_code) in BAD_CREDENTIALS:
            user = f"user {self.settings.username!r}" if self.settings.username else "no username set"
            conn.refused = (
                f"broker refused the credentials ({user}): {reason_code};"
                " check [mqtt] username and password_file / password_credential"
            )
        elif reason_code.is_failure:
            conn.refused = f"broker refused the connection: {reason_code}"
        else:
            conn.connack = True
            window = conn.window
            if conn.limit_window(getattr(properties, "ReceiveMaximum", None)):
                log.info(
                    "the broker's Receive Maximum is %d: at most %d messages in flight (inflight = %d)",
                    conn.window,
                    conn.window,
                    window,
                )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._conn is not None and not self._stop.is_set():
            # Only a DISCONNECT packet comes from the broker; a keep-alive timeout or a dead socket
            # is noticed on this side.
            by_broker = getattr(flags, "is_disconnect_packet_from_server", False)
            self._conn.lost = (
                f"{'disconnected by the broker' if by_broker else 'connection lost'}: {reason_code}"
            )

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        conn = self._conn
        if conn is None:
            return
        row = conn.inflight.pop(mid, None)
        if row is None:
            if mid in conn.control:
                conn.control.discard(mid)
                if reason_code.is_failure:  # a snapshot, not stored: logged, not retried
                    log.warning("broker refused a status/stats/command message: %s", reason_code)
            return
        if reason_code.is_failure:
            conn.failed_acks.append((row.id, f"{row.topic}: {reason_code}"))
            conn.inflight[mid] = row  # still unsent: counted as an attempt when the connection closes
        else:
            conn.acked.append(row.id)

    def _on_message(self, client, userdata, message) -> None:
        raw = message.topic.rsplit("/", 1)[-1]
        name = raw if len(raw) <= MAX_COMMAND_NAME else raw[:MAX_COMMAND_NAME] + "…"
        conn = self._conn
        if message.retain:
            log.warning("ignored retained command %r (commands must not be retained)", name)
            return
        handler = self.handlers.get(raw) if raw in COMMANDS else None
        if handler is None:
            self.stats.commands_rejected += 1
            reason = "not available here" if raw in COMMANDS else "not allowed"
            self._log_rejected(name, reason)
            self._command_result(conn, name, False, reason)
            return
        try:
            handler(message.payload)
        except Exception as exc:
            log.exception("command %r failed", name)
            self._command_result(conn, name, False, str(exc))
            return
        log.info("command %r accepted", name)
        self._command_result(conn, name, True, None)

    def _log_rejected(self, name: str, reason: str) -> None:
        """The first rejected command is logged; a flood after it becomes one line per REJECT_LOG_S."""
        now = time.monotonic()
        if now < self._reject_quiet_until:
            self._rejects_unlogged += 1
            return
        more = (
            f" ({self._rejects_unlogged} more rejected since the last line)" if self._rejects_unlogged else ""
        )
        log.warning("rejected command %r: %s (allowed: %s)%s", name, reason, ", ".join(COMMANDS), more)
        self._rejects_unlogged = 0
        self._reject_quiet_until = now + REJECT_LOG_S

    def _command_result(self, conn: Connection | None, name: str, accepted: bool, reason: str | None) -> None:
        if conn is not None:
            body = {"command": name, "accepted": accepted, "reason": reason, "at": iso_ms(now_ms())}
            conn.publish_control(self.topics.cmd_result, json.dumps(body))

    # ---- stats -------------------------------------------------------------------------------------

    def stats_payload(self) -> dict:
        """Outbox depth, oldest unsent age, disk, counters, and whatever the daemon adds (fps, drops)."""
        st = self.store.status()
        now = now_ms()
        body = {
            "device": self.device,
            "at": iso_ms(now),
            "outbox_depth": st.outbox_unsent,
            "oldest_unsent_age_s": round((now - st.oldest_unsent_ms) / 1000, 1)
            if st.oldest_unsent_ms
            else 0.0,
            "disk_free_bytes": st.disk_free_bytes,
            "disk_full": st.disk_full,
            "scans_stored": st.scans,
            "drops": {k: v for k, v in st.counters.items() if "drop" in k or "deleted" in k},
            "published": self.stats.published,
            "acknowledged": self.stats.acknowledged,
            "connects": self.stats.connects,
            "commands_rejected": self.stats.commands_rejected,
            "replies_dropped": self.stats.replies_dropped + (self._conn.dropped if self._conn else 0),
        }
        if self.stats_extra is not None:
            body.update(self.stats_extra())
        return body

    def publish_stats(self, conn: Connection) -> None:
        """Stats are a snapshot: published directly (QoS 1, not stored), never replayed."""
        try:
            conn.publish_control(self.topics.stats, json.dumps(self.stats_payload()))
        except Exception as exc:
            log.warning("could not publish stats: %s", exc)


def _tails(published_at: str) -> tuple[bytes, bytes]:
    """What closes a payload: its publish time and whether it is a replay (stored before this
    connection came up, or already tried once); indexed by that flag."""
    head = f', "published_at": "{published_at}", "replayed": '
    return (f"{head}false}}".encode(), f"{head}true}}".encode())


def _with_tail(body: bytes, tail: bytes) -> bytes:
    """The stored JSON object with the tail's fields spliced in before its closing brace, rather than
    decoding and re-encoding it: the drain rate depends on it."""
    if body[:1] == b"{" and body[-1:] == b"}" and len(body) > 2:  # as the store writes it (json.dumps)
        return b"".join((memoryview(body)[:-1], tail))
    return body  # not a JSON object (never written by edge_ocr): sent as stored
