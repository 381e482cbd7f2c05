"""paho's external-event-loop API driven by one select() per turn. The publisher's thread is the only one
that touches the client, so paho's wake-up socket pair (a syscall per publish in `loop()`) is never
created, and packets published during a turn are written together, corked, instead of one TCP segment
per message: the drain rate depends on both."""

from __future__ import annotations

import contextlib
import select
import socket

import paho.mqtt.client as mqtt

CORK = getattr(socket, "TCP_CORK", None)


class NetLoop:
    """One client's network turns: wait for the socket, read every packet there, write what is queued."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        # With a write callback set, paho queues packets instead of writing each one as it is
        # published; `turn` then writes a whole batch back to back.
        client.on_socket_register_write = _ignore
        client.on_socket_unregister_write = _ignore

    def _write(self, sock: object) -> mqtt.MQTTErrorCode:
        """Every queued packet, back to back."""
        _cork(sock, True)
        try:
            return self.client.loop_write()
        finally:
            _cork(sock, False)

    def turn(self, timeout: float) -> mqtt.MQTTErrorCode:
        """Like `client.loop(timeout)`: returns as soon as something arrives, or after timeout."""
        client = self.client
        sock = client.socket()
        if sock is None:
            return mqtt.MQTT_ERR_NO_CONN
        pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted never wake select
        if pending is not None and pending() > 0:
            timeout = 0.0
        try:
            readable = select.select([sock], [sock] if client.want_write() else [], [], timeout)[0]
        except (OSError, TypeError, ValueError):  # closed under us
            return mqtt.MQTT_ERR_CONN_LOST
        rc = mqtt.MQTT_ERR_SUCCESS
        if readable or (pending is not None and pending() > 0):
            rc = client.loop_read()
        if rc == mqtt.MQTT_ERR_SUCCESS:
            rc = client.loop_misc()  # keepalive: queues a PINGREQ when due, before the write below
        if rc == mqtt.MQTT_ERR_SUCCESS and client.want_write():
            rc = self._write(sock)
        return rc


def _cork(sock: object, on: bool) -> None:
    """Hold back partial TCP segments while a batch is written (Linux), so it leaves in few segments."""
    if CORK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, CORK, 1 if on else 0)  # type: ignore[attr-defined]


def _ignore(client: mqtt.Client, userdata: object, sock: object) -> None:
    """Write interest is checked with `want_write()` on every turn instead."""
