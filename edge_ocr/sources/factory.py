"""One place that maps [source] kind to its class (an explicit table, not an if-chain)."""

from __future__ import annotations

from collections.abc import Callable

from edge_ocr.config import SourceSection
from edge_ocr.errors import ConfigError
from edge_ocr.sources.base import FrameSource
from edge_ocr.sources.images import ImagesSource
from edge_ocr.sources.inbox import InboxSource
from edge_ocr.sources.opencv import OpenCVSource
from edge_ocr.sources.picamera import PiCameraSource

SOURCES: dict[str, Callable[[SourceSection], FrameSource]] = {
    "picamera2": PiCameraSource,
    "v4l2": OpenCVSource,
    "gstreamer": OpenCVSource,
    "url": OpenCVSource,
    "video": OpenCVSource,
    "images": ImagesSource,
    "inbox": InboxSource,
}


def make_source(settings: SourceSection) -> FrameSource:
    """The (not yet opened) source for [source]; wrap it in ResilientSource to keep it coming back."""
    try:
        factory = SOURCES[settings.kind]
    except KeyError:
        kinds = ", ".join(SOURCES)
        raise ConfigError(f"[source] key 'kind': {settings.kind!r} is not one of {kinds}") from None
    return factory(settings)
