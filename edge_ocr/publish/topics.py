"""The device's MQTT topics, all under <prefix>/<device_id>/."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    """Topic names for one device."""

    prefix: str
    device: str

    def _t(self, leaf: str) -> str:
        return f"{self.prefix}/{self.device}/{leaf}"

    @property
    def scan(self) -> str:
        """A whole result per message."""
        return self._t("scan")

    @property
    def code(self) -> str:
        """One message per decoded code."""
        return self._t("code")

    @property
    def tag(self) -> str:
        """QR payloads ({"tag_id": ...}) for Home Assistant's tag scanner."""
        return self._t("tag")

    @property
    def status(self) -> str:
        """Retained online/offline (with a last will)."""
        return self._t("status")

    @property
    def stats(self) -> str:
        """Periodic health figures."""
        return self._t("stats")

    @property
    def cmd_filter(self) -> str:
        """What the device subscribes to for commands."""
        return self._t("cmd/+")

    @property
    def cmd_result(self) -> str:
        """Where command outcomes (accepted or rejected) are reported."""
        return self._t("cmd_result")
