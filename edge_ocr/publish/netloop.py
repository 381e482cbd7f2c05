"""paho's external-event-loop API driven by one select() per turn: the publisher's thread is the only one
that touches the client, so paho's wake-up socket pair (one extra syscall per publish in `loop()`) is
never created."""

from __future__ import annotations

import select
import time

import paho.mqtt.client as mqtt

MISC_EVERY_S = 0.5  # keepalive pings and their timeouts are checked this often


class NetLoop:
    """One client's network turns: wait for the socket, read every packet there, write what is queued."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self._misc_at = 0.0

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
        if rc == mqtt.MQTT_ERR_SUCCESS and client.want_write():
            rc = client.loop_write()
        now = time.monotonic()
        if rc == mqtt.MQTT_ERR_SUCCESS and now >= self._misc_at:
            self._misc_at = now + MISC_EVERY_S
            rc = client.loop_misc()
        return rc
