"""The one table of frame-source kinds (settings class, factory, live or document) and of gate triggers.

Each `[source] kind` has its own settings class: a key that belongs to another kind is an error that
names the kind. Factories are named as "module:Class" and imported only when a source is made, so
reading the configuration never imports OpenCV or picamera2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from edge_ocr.config.rules import setting
from edge_ocr.config.sections import Problems, Section


def _nonempty(what: str):
    def check(value: str) -> str | None:
        """Required (not empty)."""
        return f"is empty ({what})" if not value.strip() else None

    return check


def _pipeline(value: str) -> str | None:
    """Required; ends in appsink."""
    if not value.strip():
        return "is empty (a GStreamer pipeline ending in appsink)"
    return None if "appsink" in value else "must end in appsink (OpenCV reads frames from it)"


def _url(value: str) -> str | None:
    """Required; rtsp, rtsps, http or https with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("rtsp", "rtsps", "http", "https") or not parts.hostname:
        return "expected rtsp://HOST/... or http(s)://HOST/..."
    return None


@dataclass(frozen=True)
class SourceBase(Section):
    """Keys every kind has: reopening a source that failed or stalled."""

    LIVE: ClassVar[bool] = False  # frames that are not read in time are dropped (else: waited for)
    DOCUMENT: ClassVar[bool] = False  # every page is read and kept: no gate, nothing dropped

    kind: str = "video"
    stall_s: float = setting(10.0, above=0.0, hi=3600.0)  # no frame for this long: reopened
    reopen_min_s: float = setting(1.0, above=0.0, hi=3600.0)
    reopen_max_s: float = setting(30.0, above=0.0, hi=86_400.0)

    @property
    def live(self) -> bool:
        """Drop the oldest frame rather than wait, when inference falls behind."""
        return self.LIVE

    @property
    def document(self) -> bool:
        """Pages kept one by one, empty or repeated; no frame gate."""
        return self.DOCUMENT

    def problems(self) -> Problems:
        """Backoff bounds in order."""
        if self.reopen_min_s > self.reopen_max_s:
            yield "reopen_min_s", f"{self.reopen_min_s:g} is above reopen_max_s ({self.reopen_max_s:g})"


@dataclass(frozen=True)
class CameraBase(SourceBase):
    """A capture size and rate requested from a camera (0: its default)."""

    LIVE: ClassVar[bool] = True
    width: int = setting(0, lo=0, hi=16384)
    height: int = setting(0, lo=0, hi=16384)
    fps: float = setting(0.0, lo=0.0, hi=1000.0)


@dataclass(frozen=True)
class PiCameraSettings(CameraBase):
    """A Raspberry Pi CSI camera through picamera2."""

    kind: str = "picamera2"
    still: bool = setting(False)  # still configuration: full resolution, slower
    exposure_us: int = setting(0, lo=0, hi=100_000_000)  # 0: automatic
    autofocus: str = setting("continuous", choices=("continuous", "auto", "manual"))
    lens_position: float = setting(0.0, lo=0.0, hi=32.0)  # manual focus, dioptres


@dataclass(frozen=True)
class V4l2Settings(CameraBase):
    """A USB or other V4L2 camera through OpenCV."""

    kind: str = "v4l2"
    device: str = setting("/dev/video0", check=_nonempty("a /dev/videoN path or an index"))


@dataclass(frozen=True)
class GstreamerSettings(SourceBase):
    """A GStreamer pipeline ending in appsink (e.g. a Jetson CSI camera)."""

    LIVE: ClassVar[bool] = True
    kind: str = "gstreamer"
    pipeline: str = setting("", check=_pipeline)


@dataclass(frozen=True)
class UrlSettings(SourceBase):
    """An RTSP or HTTP stream from a camera on the site network."""

    LIVE: ClassVar[bool] = True
    kind: str = "url"
    url: str = setting("", check=_url)


@dataclass(frozen=True)
class VideoSettings(SourceBase):
    """A video file, at its own rate or as fast as possible ("" = the bundled sample footage)."""

    kind: str = "video"
    path: str = setting("")
    fps: float = setting(0.0, lo=0.0, hi=1000.0)  # 0: the file's own rate
    realtime: bool = setting(True)
    loop: bool = setting(False)

    @property
    def live(self) -> bool:
        """Played in real time it behaves like a camera."""
        return self.realtime


@dataclass(frozen=True)
class ImagesSettings(SourceBase):
    """A folder or glob of images and PDFs."""

    DOCUMENT: ClassVar[bool] = True
    kind: str = "images"
    path: str = setting("", check=_nonempty("a folder or a glob of images"))
    loop: bool = setting(False)

    @property
    def document(self) -> bool:
        """Read once: a document set; looped: a scene."""
        return not self.loop


@dataclass(frozen=True)
class InboxSettings(SourceBase):
    """A watched folder: complete files are read, then moved to done/ or failed/."""

    DOCUMENT: ClassVar[bool] = True
    kind: str = "inbox"
    path: str = setting("", check=_nonempty("the watched folder"))
    inbox_done: str = setting("")  # "" = <path>/done
    inbox_failed: str = setting("")  # "" = <path>/failed
    inbox_poll_s: float = setting(1.0, lo=0.05, hi=3600.0)
    inbox_settle_s: float = setting(1.0, lo=0.0, hi=3600.0)  # unchanged this long (and no writer): taken


SourceSettings = (
    PiCameraSettings
    | V4l2Settings
    | GstreamerSettings
    | UrlSettings
    | VideoSettings
    | ImagesSettings
    | InboxSettings
)


@dataclass(frozen=True)
class SourceKind:
    """One row of the table: a kind's name, its settings, and the class that reads it."""

    name: str
    settings: type
    factory: str  # "module:Class", imported when the source is made


SOURCE_KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        SourceKind("picamera2", PiCameraSettings, "edge_ocr.sources.picamera:PiCameraSource"),
        SourceKind("v4l2", V4l2Settings, "edge_ocr.sources.opencv:OpenCVSource"),
        SourceKind("gstreamer", GstreamerSettings, "edge_ocr.sources.opencv:OpenCVSource"),
        SourceKind("url", UrlSettings, "edge_ocr.sources.opencv:OpenCVSource"),
        SourceKind("video", VideoSettings, "edge_ocr.sources.opencv:OpenCVSource"),
        SourceKind("images", ImagesSettings, "edge_ocr.sources.images:ImagesSource"),
        SourceKind("inbox", InboxSettings, "edge_ocr.sources.inbox:InboxSource"),
    )
}
DEFAULT_SOURCE_KIND = "video"

# [gate] trigger -> the keys that only it uses (a key of another trigger in the file is an error)
TRIGGERS: dict[str, tuple[str, ...]] = {
    "continuous": (),
    "interval": ("interval_s",),
    "scene-change": (),
    "command": (),  # cmd/scan over MQTT
    "gpio": ("gpio_pin",),
}
