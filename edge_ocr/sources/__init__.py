"""Frame sources: cameras (picamera2, V4L2, GStreamer), network streams, video files, folders, an inbox."""

from edge_ocr.sources.base import EndOfSource, Frame, FrameSource, SourceError
from edge_ocr.sources.factory import make_source
from edge_ocr.sources.images import ImagesSource
from edge_ocr.sources.inbox import InboxSource, item_fingerprint
from edge_ocr.sources.opencv import OpenCVSource
from edge_ocr.sources.picamera import PiCameraSource
from edge_ocr.sources.resilient import ResilientSource, SourceStats

__all__ = [
    "EndOfSource",
    "Frame",
    "FrameSource",
    "ImagesSource",
    "InboxSource",
    "OpenCVSource",
    "PiCameraSource",
    "ResilientSource",
    "SourceError",
    "SourceStats",
    "item_fingerprint",
    "make_source",
]
