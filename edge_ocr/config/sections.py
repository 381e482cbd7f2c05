"""The configuration file's sections: each default is defined here once, with the rules its value obeys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edge_ocr.codes.names import DEFAULT_BUDGET_MS, DEFAULT_RETRY, DEFAULT_ZBAR_DENSITY, READERS, RETRY_STEPS
from edge_ocr.config.rules import setting, shown
from edge_ocr.ocr import defaults
from edge_ocr.ocr.allowlist import parse_allowlist
from edge_ocr.store.settings import IMAGE_MODES, OUTBOX_POLICIES, ImagePolicy, RetentionPolicy

RUNTIMES = ("auto", *defaults.INTERPRETERS)
LOG_LEVELS = ("debug", "info", "warning", "error")
Problems = Iterator[tuple[str, str]]  # (key, what is wrong) from a section's cross-field check


def _device_id(value: str) -> str | None:
    """at most 64 printable characters, no spaces, '/', '+' or '#'."""
    bad = [c for c in value if c in "/+#" or not c.isprintable() or c.isspace()]
    if bad or len(value) > 64:
        return f"{shown(value)} must be at most 64 printable characters without spaces, '/', '+' or '#'"
    return None


def _allow(value: str) -> str | None:
    """ranges like 0-9A-Z, at least one letter or digit, all in the pack's dictionary."""
    try:
        chars = parse_allowlist(value)
    except ValueError as exc:
        return str(exc)
    if value and not any(c.isalnum() for c in chars):
        return f"{shown(value)} has no letter or digit: nothing useful would be read"
    return None


def _roi(value: list[float]) -> str | None:
    """4 numbers inside the frame; fractions when all <= 1, else pixels (w, h >= 16)."""
    if not value:
        return None
    if len(value) != 4:
        return f"expected [x, y, w, h] (4 numbers), got {len(value)}"
    x, y, w, h = value
    if min(x, y) < 0 or w <= 0 or h <= 0:
        return "x and y must be >= 0, w and h > 0"
    if max(value) <= 1.0:
        if x + w > 1.0 + 1e-9 or y + h > 1.0 + 1e-9:
            return (
                "as fractions of the frame (all <= 1) the region must lie inside it: x + w <= 1, y + h <= 1"
            )
        return None
    if w < 16 or h < 16:
        return (
            f"a region of {w:g} x {h:g} pixels is too small to hold text "
            "(fractions of the frame need every value <= 1)"
        )
    return None


def _second_opinion(value: str) -> str | None:
    """auto, none, or a pack name with an optional /variant from the manifest."""
    if not value or value.count("/") > 1 or value.startswith("/") or value.endswith("/"):
        return f"{shown(value)}: expected auto, none, or PACK[/VARIANT]"
    return None


def _unique(value: list[str]) -> str | None:
    """each entry once."""
    dup = sorted({v for v in value if value.count(v) > 1})
    return f"listed twice: {', '.join(dup)}" if dup else None


def _readers(value: list[str]) -> str | None:
    """at least one, each once."""
    return "at least one reader is needed (zxing, zbar)" if not value else _unique(value)


def _topic_prefix(value: str) -> str | None:
    """no '+', '#', leading or trailing '/'."""
    if not value or any(c in value for c in "+#\x00") or value.startswith("/") or value.endswith("/"):
        return f"{shown(value)} is not a valid topic prefix (no '+', '#', leading or trailing '/')"
    return None


def _host(value: str) -> str | None:
    """a host name or address."""
    if not value or len(value) > 253 or any(c.isspace() or not c.isprintable() for c in value):
        return f"{shown(value)} is not a host name or address"
    return None


def _max_mb(value: float) -> str | None:
    """0, or at least 1."""
    return "must be 0 (no cap) or at least 1" if 0 < value < 1 else None


class Section:
    """What every section offers the parser besides its fields."""

    def problems(self) -> Problems:
        """Rules between keys of the section, as (key, what is wrong)."""
        return iter(())


@dataclass(frozen=True)
class DeviceSection(Section):
    """Who this device is and where it keeps its state."""

    id: str = setting("", check=_device_id, doc="default: the host name")
    state_dir: str = setting("", doc="default: $STATE_DIRECTORY, /var/lib/edge-ocr, ~/.local/state/edge-ocr")


@dataclass(frozen=True)
class OcrSection(Section):
    """Text reading (see README, "Reading options")."""

    enabled: bool = setting(True)
    pack: str = setting("", doc="checked against the model manifest")
    variant: str = setting("")
    threads: int = setting(defaults.THREADS, lo=1, hi=64)
    runtime: str = setting(defaults.RUNTIME, choices=RUNTIMES)
    min_confidence: float = setting(defaults.MIN_CONFIDENCE, lo=0.0, hi=1.0)
    allow: str = setting("", check=_allow)
    roi: list[float] = setting([], check=_roi)  # [x, y, w, h], pixels or fractions
    classify: bool = setting(True)
    detect_rotation: bool = setting(True)
    max_side: int = setting(defaults.MAX_SIDE, lo=320, hi=8192)
    second_opinion: str = setting(defaults.SECOND_OPINION, check=_second_opinion)
    second_opinion_below: float = setting(defaults.SECOND_OPINION_BELOW, lo=0.0, hi=1.0)
    memory: str = setting(defaults.MEMORY, choices=defaults.MEMORY_CHOICES)


@dataclass(frozen=True)
class CodesSection(Section):
    """Barcode and QR reading (see README, "Barcodes and QR codes")."""

    enabled: bool = setting(True)
    readers: list[str] = setting(list(READERS), choices=READERS, check=_readers)
    retry: list[str] = setting(list(DEFAULT_RETRY), choices=RETRY_STEPS, check=_unique)
    budget_ms: float = setting(DEFAULT_BUDGET_MS, lo=0.0, hi=60_000.0)
    zbar_density: int = setting(DEFAULT_ZBAR_DENSITY, lo=1, hi=8)


@dataclass(frozen=True)
class StoreSection(Section):
    """Local store: kept images, retention, outbox policy, disk reserve (the store's own defaults)."""

    images: str = setting(ImagePolicy.keep, choices=IMAGE_MODES)
    image_quality: int = setting(ImagePolicy.quality, lo=1, hi=100)
    thumb_px: int = setting(ImagePolicy.thumb_px, lo=16, hi=4096)
    max_age_days: float = setting(RetentionPolicy.max_age_days or 0.0, lo=0.0, hi=36_500.0)  # 0: forever
    max_mb: float = setting(0.0, lo=0.0, hi=1e9, check=_max_mb)  # 0: no size cap
    outbox_policy: str = setting(RetentionPolicy.outbox, choices=OUTBOX_POLICIES)
    outbox_max_unsent: int = setting(RetentionPolicy.outbox_max_unsent, lo=1, hi=1_000_000_000)
    min_free_mb: float = setting(RetentionPolicy.min_free_bytes / 1048576, lo=0.0, hi=1e9)


@dataclass(frozen=True)
class MqttSection(Section):
    """The site broker: where, how securely, and what to publish."""

    enabled: bool = setting(False)
    host: str = setting("127.0.0.1", check=_host)
    port: int = setting(0, lo=0, hi=65535)  # 0: 1883, or 8883 with TLS
    protocol: str = setting("5", choices=("5", "3.1.1"))
    client_id: str = setting("")  # default: edge-ocr-<device id>
    keepalive_s: int = setting(30, lo=1, hi=65535)
    topic_prefix: str = setting("edge_ocr", check=_topic_prefix)
    username: str = setting("")
    password_file: str = setting("")  # a file holding the password (first line)
    password_credential: str = setting("")  # a systemd credential name (LoadCredential=NAME:...)
    tls: bool = setting(False)
    ca_file: str = setting("")  # empty: the system's trusted CAs
    cert_file: str = setting("")  # client certificate (optional)
    key_file: str = setting("")
    inflight: int = setting(64, lo=1, hi=65535)
    backoff_min_s: float = setting(1.0, above=0.0, hi=3600.0)
    backoff_max_s: float = setting(60.0, above=0.0, hi=86_400.0)
    stats_interval_s: float = setting(60.0, lo=1.0, hi=86_400.0)
    publish_codes: bool = setting(True)  # also one message per code on <prefix>/<device>/code
    ha_discovery: bool = setting(False)
    ha_prefix: str = setting("homeassistant", check=_topic_prefix)

    def problems(self) -> Problems:
        """Settings that only make sense together."""
        if self.backoff_min_s > self.backoff_max_s:
            yield "backoff_min_s", f"{self.backoff_min_s:g} is above backoff_max_s ({self.backoff_max_s:g})"
        if self.password_file and self.password_credential:
            yield "password_credential", "set password_file or password_credential, not both"
        if (self.cert_file == "") != (self.key_file == ""):
            yield "cert_file" if not self.cert_file else "key_file", "cert_file and key_file go together"


@dataclass(frozen=True)
class GateSection(Section):
    """Which frames reach inference (see README, "The frame gate")."""

    trigger: str = setting("continuous")  # choices and per-trigger keys: config.kinds.TRIGGERS
    interval_s: float = setting(5.0, above=0.0, hi=86_400.0)  # trigger = interval
    gpio_pin: int = setting(17, lo=0, hi=53)  # trigger = gpio (BCM numbering, a button to ground)
    min_sharpness: float = setting(60.0, lo=0.0, hi=1e6)  # variance of the Laplacian; 0: off
    change_threshold: float = setting(6.0, lo=0.0, hi=255.0)  # mean grey difference; 0: off
    repeat_window_s: float = setting(30.0, lo=0.0, hi=86_400.0)
    max_fps: float = setting(0.0, lo=0.0, hi=1000.0)  # 0: as fast as it goes


@dataclass(frozen=True)
class ServiceSection(Section):
    """The daemon's own behaviour."""

    queue_size: int = setting(2, lo=1, hi=1000)
    watchdog_stall_s: float = setting(60.0, above=0.0, hi=86_400.0)
    status_interval_s: float = setting(5.0, above=0.0, hi=3600.0)
    log_level: str = setting("info", choices=LOG_LEVELS)
