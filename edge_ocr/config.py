"""The one TOML configuration file: typed sections with defaults; unknown keys and bad values are refused
with the file, section and key named (and a suggestion for a likely typo)."""

from __future__ import annotations

import difflib
import socket
import sys
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path

from edge_ocr.codes.scanner import CodeOptions
from edge_ocr.errors import ConfigError
from edge_ocr.store.settings import ImagePolicy, RetentionPolicy, StoreSettings

# [source] kinds; sources/factory.py maps each to its class
SOURCE_KINDS = ("picamera2", "v4l2", "gstreamer", "url", "video", "images", "inbox")
LIVE_KINDS = ("picamera2", "v4l2", "gstreamer", "url")  # frames that are not read in time are dropped
DOCUMENT_KINDS = ("inbox", "images")  # every page is read: no gate, nothing dropped

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (Jetson JetPack 6)
    import tomli as tomllib


@dataclass(frozen=True)
class DeviceSection:
    """Who this device is and where it keeps its state."""

    id: str = ""  # default: the host name
    state_dir: str = ""  # default: $STATE_DIRECTORY (systemd), /var/lib/edge-ocr, ~/.local/state/edge-ocr


@dataclass(frozen=True)
class OcrSection:
    """Text reading (see README, "Reading options")."""

    enabled: bool = True
    pack: str = ""
    variant: str = ""
    threads: int = 2
    runtime: str = "auto"
    min_confidence: float = 0.5
    allow: str = ""
    roi: list[float] = field(default_factory=list)  # [x, y, w, h], pixels or fractions
    classify: bool = True
    detect_rotation: bool = True
    max_side: int = 1792
    second_opinion: str = "auto"  # auto (the pack's choice) | none | PACK[/VARIANT]
    second_opinion_below: float = 0.98


@dataclass(frozen=True)
class CodesSection:
    """Barcode and QR reading (see README, "Barcodes and QR codes")."""

    enabled: bool = True
    # Defaults are the scanner's own, so the two can never disagree.
    readers: list[str] = field(default_factory=lambda: list(CodeOptions.readers))
    retry: list[str] = field(default_factory=lambda: list(CodeOptions.retry_steps))
    budget_ms: float = CodeOptions.retry_budget_ms
    zbar_density: int = CodeOptions.zbar_density


@dataclass(frozen=True)
class StoreSection:
    """Local store: kept images, retention, outbox policy, disk reserve."""

    # Defaults are the store's own (ImagePolicy, RetentionPolicy), in the units an operator writes.
    images: str = ImagePolicy.keep  # none | results | all
    image_quality: int = ImagePolicy.quality
    thumb_px: int = ImagePolicy.thumb_px
    max_age_days: float = RetentionPolicy.max_age_days or 0.0  # 0: keep forever
    max_mb: float = 0.0  # 0: no size cap
    outbox_policy: str = RetentionPolicy.outbox  # keep | drop-oldest
    outbox_max_unsent: int = RetentionPolicy.outbox_max_unsent
    min_free_mb: float = RetentionPolicy.min_free_bytes / 1048576


@dataclass(frozen=True)
class MqttSection:
    """The site broker: where, how securely, and what to publish."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 0  # 0: 1883, or 8883 with TLS
    protocol: str = "5"  # "5" or "3.1.1"
    client_id: str = ""  # default: edge-ocr-<device id>
    keepalive_s: int = 30
    topic_prefix: str = "edge_ocr"
    username: str = ""
    password_file: str = ""  # a file holding the password (first line)
    password_credential: str = ""  # a systemd credential name (LoadCredential=NAME:...)
    tls: bool = False
    ca_file: str = ""  # empty: the system's trusted CAs
    cert_file: str = ""  # client certificate (optional)
    key_file: str = ""
    inflight: int = 64  # QoS 1 messages awaiting PUBACK at once (capped by the broker's Receive Maximum)
    backoff_min_s: float = 1.0
    backoff_max_s: float = 60.0
    stats_interval_s: float = 60.0
    publish_codes: bool = True  # also one message per code on <prefix>/<device>/code
    ha_discovery: bool = False
    ha_prefix: str = "homeassistant"


@dataclass(frozen=True)
class SourceSection:
    """Where frames come from (see README, "Frame sources")."""

    kind: str = "video"  # picamera2 | v4l2 | gstreamer | url | video | images | inbox
    device: str = "/dev/video0"  # v4l2: a /dev/videoN path or an index
    pipeline: str = ""  # gstreamer: a pipeline ending in appsink
    url: str = ""  # url: rtsp://... or http(s)://... (a camera on the site network)
    path: str = ""  # video: a file; images: a folder or glob; inbox: the watched folder
    width: int = 0  # requested capture size (0: the source's default)
    height: int = 0
    fps: float = 0.0  # requested frame rate (0: default)
    realtime: bool = True  # video: pace frames at the file's rate (false: as fast as possible)
    loop: bool = False  # video/images: start again at the end
    stall_s: float = 10.0  # no frame for this long: the source is reopened
    reopen_min_s: float = 1.0  # reopen backoff
    reopen_max_s: float = 30.0
    inbox_done: str = ""  # default: <path>/done
    inbox_failed: str = ""  # default: <path>/failed
    inbox_poll_s: float = 1.0
    # picamera2 (Raspberry Pi CSI cameras)
    still: bool = False  # still configuration: full sensor resolution, slower; else a video configuration
    exposure_us: int = 0  # 0: automatic
    autofocus: str = "continuous"  # continuous | auto (triggered per frame) | manual
    lens_position: float = 0.0  # manual focus, dioptres


@dataclass(frozen=True)
class GateSection:
    """Which frames reach inference (see README, "The frame gate")."""

    trigger: str = "continuous"  # continuous | interval | scene-change | command | gpio
    interval_s: float = 5.0  # trigger = interval
    gpio_pin: int = 17  # trigger = gpio (BCM numbering, a button to ground)
    min_sharpness: float = 60.0  # variance of the Laplacian below this: too blurred, skipped (0: off)
    change_threshold: float = 6.0  # mean absolute difference (0-255, on a 64x64 grey thumbnail) below
    # this against the last processed frame: unchanged, skipped (0: off)
    repeat_window_s: float = 30.0  # the same text/codes within this window: stored once, counted
    max_fps: float = 0.0  # at most this many frames per second to inference (0: as fast as it goes)


@dataclass(frozen=True)
class ServiceSection:
    """The daemon's own behaviour."""

    queue_size: int = 2  # frames waiting for inference; when full the oldest is dropped and counted
    watchdog_stall_s: float = 60.0  # no progress for this long: stop sending WATCHDOG=1
    status_interval_s: float = 5.0  # STATUS= line and status file refresh
    log_level: str = "info"


@dataclass(frozen=True)
class Config:
    """The whole file."""

    device: DeviceSection = field(default_factory=DeviceSection)
    ocr: OcrSection = field(default_factory=OcrSection)
    codes: CodesSection = field(default_factory=CodesSection)
    store: StoreSection = field(default_factory=StoreSection)
    mqtt: MqttSection = field(default_factory=MqttSection)
    source: SourceSection = field(default_factory=SourceSection)
    gate: GateSection = field(default_factory=GateSection)
    service: ServiceSection = field(default_factory=ServiceSection)
    origin: str = "defaults"  # the file it came from (not a key)

    @property
    def device_id(self) -> str:
        """The configured id, or the host name."""
        return self.device.id or socket.gethostname().split(".")[0] or "edge-ocr"


SECTIONS: dict[str, type] = {k: v for k, v in typing.get_type_hints(Config).items() if k != "origin"}


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _check(value, tp, where: str):
    """Value converted to the field's type, or ConfigError naming the key."""
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list of {_type_name(item)}, got {value!r}")
        return [_check(v, item, where) for v in value]
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{where}: unsupported type")  # not used by the sections above
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {tp}")


def _unknown(name: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
    return ConfigError(f"{where}: unknown key {name!r}{hint}")


def _section(cls: type, data: dict, where: str):
    hints = typing.get_type_hints(cls)
    known = [f.name for f in fields(cls)]
    values = {}
    for key, value in data.items():
        if key not in hints:
            raise _unknown(key, known, where)
        values[key] = _check(value, hints[key], f"{where} key {key!r}")
    return cls(**values)


def parse(data: dict, source: str = "<config>") -> Config:
    """A Config from parsed TOML; every section optional."""
    sections = {}
    for name, value in data.items():
        if name not in SECTIONS:
            raise _unknown(name, list(SECTIONS), f"{source}: top level")
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: [{name}] must be a table (a [{name}] section)")
        sections[name] = _section(SECTIONS[name], value, f"{source}: [{name}]")
    config = Config(**sections, origin=source)
    validate(config)
    return config


def load(path: Path) -> Config:
    """Read and validate a TOML file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(data, str(path))


def validate(config: Config) -> None:
    """Cross-field and range checks, named by key."""
    src = config.origin
    m = config.mqtt
    if m.protocol not in ("5", "3.1.1"):
        raise ConfigError(f'{src}: [mqtt] key \'protocol\': expected "5" or "3.1.1", got {m.protocol!r}')
    if not 0 <= m.port <= 65535:
        raise ConfigError(f"{src}: [mqtt] key 'port': {m.port} is not a port number")
    if m.inflight < 1:
        raise ConfigError(f"{src}: [mqtt] key 'inflight' must be at least 1")
    if not 0 < m.backoff_min_s <= m.backoff_max_s:
        raise ConfigError(f"{src}: [mqtt] keys 'backoff_min_s'/'backoff_max_s': need 0 < min <= max")
    if m.password_file and m.password_credential:
        raise ConfigError(f"{src}: [mqtt] set 'password_file' or 'password_credential', not both")
    if (m.cert_file == "") != (m.key_file == ""):
        raise ConfigError(f"{src}: [mqtt] 'cert_file' and 'key_file' go together")
    for key in ("topic_prefix", "ha_prefix"):
        value = getattr(m, key)
        if not value or any(c in value for c in "+#") or value.startswith("/") or value.endswith("/"):
            raise ConfigError(f"{src}: [mqtt] key {key!r}: {value!r} is not a valid topic prefix")
    try:  # the store's own checks (image modes, ranges, outbox policy, device id), named by file
        store_settings(config).validate()
    except ConfigError as exc:
        raise ConfigError(f"{src}: {exc}") from None
    if config.source.kind not in SOURCE_KINDS:
        raise ConfigError(
            f"{src}: [source] key 'kind': {config.source.kind!r} is not one of {', '.join(SOURCE_KINDS)}"
        )
    if config.source.stall_s <= 0 or not 0 < config.source.reopen_min_s <= config.source.reopen_max_s:
        raise ConfigError(f"{src}: [source] stall_s and reopen_min_s/reopen_max_s must be > 0 (min <= max)")
    triggers = ("continuous", "interval", "scene-change", "command", "gpio")
    if config.gate.trigger not in triggers:
        raise ConfigError(
            f"{src}: [gate] key 'trigger': {config.gate.trigger!r} is not one of {', '.join(triggers)}"
        )
    if config.service.queue_size < 1:
        raise ConfigError(f"{src}: [service] key 'queue_size' must be at least 1")
    if config.service.log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"{src}: [service] key 'log_level': expected debug, info, warning or error")


def store_settings(config: Config) -> StoreSettings:
    """The store's settings from the [device] and [store] sections."""
    s = config.store
    return StoreSettings(
        device=config.device_id,
        images=ImagePolicy(keep=s.images, quality=s.image_quality, thumb_px=s.thumb_px),
        retention=RetentionPolicy(
            max_age_days=s.max_age_days or None,
            max_bytes=int(s.max_mb * 1048576) or None,
            outbox=s.outbox_policy,
            outbox_max_unsent=s.outbox_max_unsent,
            min_free_bytes=int(s.min_free_mb * 1048576),
        ),
    )


def engine_settings(config: Config):
    """The OCR engine's settings from the [ocr] section (imported lazily: codes-only devices skip it)."""
    from dataclasses import replace

    from edge_ocr.ocr.detect import DetectorSettings
    from edge_ocr.ocr.engine import EngineSettings
    from edge_ocr.ocr.pipeline import OcrOptions

    o = config.ocr
    if o.roi and len(o.roi) != 4:
        raise ConfigError(f"{config.origin}: [ocr] key 'roi': expected [x, y, w, h]")
    if not 0.0 <= o.second_opinion_below <= 1.0:
        raise ConfigError(f"{config.origin}: [ocr] key 'second_opinion_below': must be between 0 and 1")
    options = OcrOptions(
        min_confidence=o.min_confidence,
        roi=tuple(o.roi) if o.roi else None,
        allowlist=o.allow or None,
        classify=o.classify,
        detect_rotation=o.detect_rotation,
        second_opinion_below=o.second_opinion_below,
    )
    return EngineSettings(
        pack=o.pack or None,
        variant=o.variant or None,
        threads=o.threads,
        runtime=o.runtime,
        second_opinion=o.second_opinion,
        detector=replace(DetectorSettings(), max_side=o.max_side),
        options=options,
    )


def code_options(config: Config) -> CodeOptions:
    """The code scanner's options from the [codes] section."""
    c = config.codes
    return CodeOptions(tuple(c.readers), tuple(c.retry), c.budget_ms, c.zbar_density)
