"""The systemd notify protocol (READY, WATCHDOG, STATUS, STOPPING) over $NOTIFY_SOCKET; a no-op
when not run by systemd. Written out (a datagram per message) so it needs no C extension."""

from __future__ import annotations

import contextlib
import os
import socket


class Notifier:
    """Sends sd_notify messages when NOTIFY_SOCKET is set."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    @property
    def enabled(self) -> bool:
        """True under systemd (Type=notify)."""
        return self._sock is not None

    def send(self, **fields: str | int) -> None:
        """One message, e.g. send(READY=1, STATUS="...")."""
        if self._sock is None:
            return
        text = "\n".join(f"{k}={v}" for k, v in fields.items())
        with contextlib.suppress(OSError):  # systemd gone or socket full: nothing useful to do
            self._sock.sendto(text.encode(), self.address)

    def ready(self, status: str) -> None:
        """Models loaded and the source open."""
        self.send(READY=1, STATUS=status)

    def watchdog(self) -> None:
        """The pipeline made progress."""
        self.send(WATCHDOG=1)

    def status(self, text: str) -> None:
        """A one-line health summary (systemctl status shows it)."""
        self.send(STATUS=text)

    def stopping(self) -> None:
        """A clean stop has begun."""
        self.send(STOPPING=1, STATUS="stopping")

    def close(self) -> None:
        """Release the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
