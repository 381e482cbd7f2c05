"""OpenCV sources: USB cameras (V4L2), GStreamer pipelines, network streams, and video files."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from edge_ocr.config.kinds import SourceSettings
from edge_ocr.sources.base import EndOfSource, Frame, SourceError, as_bgr, now_ms
from edge_ocr.sources.grabber import LatestFrameGrabber

log = logging.getLogger(__name__)

THREADED_KINDS = ("v4l2", "gstreamer", "url")  # read on a capture thread (config.LIVE_KINDS less picamera2)
DEFAULT_VIDEO_FPS = 25.0  # a file that does not say its rate


def redact(url: str) -> str:
    """The URL without its password, fit for logs, status and stored source names."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def source_name(settings: SourceSettings) -> str:
    """A short, password-free name such as "v4l2:/dev/video0" or "video:clip.avi"."""
    kind = settings.kind
    if kind == "v4l2":
        return f"v4l2:{settings.device}"
    if kind == "gstreamer":
        first = settings.pipeline.split("!", 1)[0].strip().split(" ", 1)[0]
        return f"gstreamer:{first or '?'}"
    if kind == "url":
        return f"url:{redact(settings.url)}"
    return f"{kind}:{settings.path}"


class OpenCVSource:
    """v4l2, gstreamer, url and video sources through cv2.VideoCapture.

    Live kinds (v4l2, gstreamer, url) capture on a small thread that keeps only the newest frame, so
    a busy daemon never makes the camera queue up stale frames; read(timeout) waits for the next new
    one. A video file is read on the caller's thread, paced at its own frame rate (`realtime`, or
    `fps` when set) or as fast as possible, looping or ending with EndOfSource.

    On a Jetson, a CSI camera is a GStreamer pipeline (needs OpenCV built with GStreamer, such as
    JetPack's python3-opencv; pip's opencv-python-headless has none):

        nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1
        ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR
        ! appsink drop=1 max-buffers=1
    """

    def __init__(self, settings: SourceSettings, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0):
        if settings.kind not in (*THREADED_KINDS, "video"):
            raise ValueError(f"OpenCVSource cannot read kind {settings.kind!r}")
        self.settings = settings
        self.kind = settings.kind
        self.name = source_name(settings)
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self._grabber: LatestFrameGrabber | None = None
        self._video: cv2.VideoCapture | None = None
        self._period = 0.0
        self._due = 0.0
        self._index = 0
        self._pass_frames = 0

    # ---- open / close ----------------------------------------------------------------------------

    def open(self) -> None:
        """Open the device, pipeline, stream or file; SourceError says what is wrong."""
        self.close()
        if self.kind == "video":
            self._video = self._open_video()
            self._index = 0
            self._due = time.monotonic()
            return
        cap = {"v4l2": self._open_v4l2, "gstreamer": self._open_gstreamer, "url": self._open_url}[self.kind]()
        self._grabber = LatestFrameGrabber(self.name, self._capture_fn(cap), cap.release)
        self._grabber.start()

    def close(self) -> None:
        """Stop capturing and release the device or file (safe to call twice)."""
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None
        if self._video is not None:
            self._video.release()
            self._video = None

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        """Nothing to file away for a camera or a video."""

    def _capture_fn(self, cap: cv2.VideoCapture):
        def capture(want: bool) -> np.ndarray | None:
            if not cap.grab():
                raise SourceError("no more frames (camera unplugged, or the stream ended)")
            if not want:
                return None
            ok, image = cap.retrieve()
            if not ok or image is None:
                raise SourceError("a frame could not be decoded")
            return as_bgr(image)

        return capture

    def _opened(self, cap: cv2.VideoCapture, why: str) -> cv2.VideoCapture:
        """The capture, or SourceError(why) with the capture released."""
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.name}: {why}")
        return cap

    def _open_v4l2(self) -> cv2.VideoCapture:
        device = self.settings.device.strip()
        target: int | str = int(device) if device.isdigit() else device
        path = f"/dev/video{target}" if isinstance(target, int) else target
        if not os.path.exists(path):
            raise SourceError(
                f"{self.name}: {path} does not exist (camera unplugged? "
                "`v4l2-ctl --list-devices` lists the cameras)"
            )
        cap = self._opened(
            cv2.VideoCapture(target, cv2.CAP_V4L2),
            f"cannot open {path}: in use by another program, no permission (add the user "
            "to the 'video' group), or not a capture device",
        )
        s = self.settings
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, s.width), (cv2.CAP_PROP_FRAME_HEIGHT, s.height)):
            if value:
                cap.set(prop, value)
        if s.fps:
            cap.set(cv2.CAP_PROP_FPS, s.fps)
        got = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if (s.width and got[0] != s.width) or (s.height and got[1] != s.height):
            log.warning("%s: asked for %dx%d, the camera gives %dx%d", self.name, s.width, s.height, *got)
        return cap

    def _open_gstreamer(self) -> cv2.VideoCapture:
        pipeline = self.settings.pipeline.strip()
        if not pipeline:
            raise SourceError(f"{self.name}: [source] pipeline is empty (a GStreamer pipeline to appsink)")
        if "appsink" not in pipeline:
            raise SourceError(f"{self.name}: the pipeline must end in appsink (OpenCV reads frames from it)")
        if not cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
            raise SourceError(
                f"{self.name}: this OpenCV build has no GStreamer support (pip's opencv-python-headless "
                "has none; on a Jetson use JetPack's python3-opencv, in a venv made with "
                "--system-site-packages)"
            )
        return self._opened(
            cv2.VideoCapture(pipeline, cv2.CAP_GSTREAMER),
            "the pipeline did not start (try it with gst-launch-1.0, appsink replaced by fakesink)",
        )

    def _open_url(self) -> cv2.VideoCapture:
        url = self.settings.url.strip()
        if "://" not in url:
            raise SourceError(f"{self.name}: [source] url must be like rtsp://host/path or http://host/path")
        if url.startswith("rtsp"):
            # RTSP over TCP: no smeared frames from lost UDP packets on Wi-Fi. Set the variable to override.
            os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout_s * 1000),
        ]
        return self._opened(
            cv2.VideoCapture(url, cv2.CAP_FFMPEG, params),
            f"cannot open the stream within {self.open_timeout_s:g} s (camera off, wrong "
            "address or credentials, or no network)",
        )

    def _open_video(self) -> cv2.VideoCapture:
        path = self.settings.path
        if not path:
            raise SourceError(f"{self.name}: [source] path is empty (the video file to read)")
        if not Path(path).is_file():
            raise SourceError(f"{self.name}: {path} does not exist")
        cap = self._opened(cv2.VideoCapture(path), f"cannot decode {path} (not a video, or an unknown codec)")
        rate = self.settings.fps or cap.get(cv2.CAP_PROP_FPS)
        self._period = 1.0 / (rate if 0 < rate <= 1000 else DEFAULT_VIDEO_FPS)
        self._pass_frames = 0
        return cap

    # ---- read ------------------------------------------------------------------------------------

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame, or None when none came within the timeout."""
        if self._grabber is not None:
            got = self._grabber.read(timeout_s)
            if got is None:
                return None
            image, number, captured_ms = got
            return Frame(image, self.name, number, captured_ms)
        if self._video is None:
            raise SourceError(f"{self.name}: not open")
        return self._read_video(timeout_s)

    def _read_video(self, timeout_s: float) -> Frame | None:
        if self.settings.realtime:
            wait = self._due - time.monotonic()
            if wait > timeout_s:
                time.sleep(max(0.0, timeout_s))
                return None
            if wait > 0:
                time.sleep(wait)
        ok, image = self._video.read()
        if not ok:
            if self._pass_frames == 0:
                raise SourceError(f"{self.name}: no frame could be decoded from {self.settings.path}")
            if not self.settings.loop:
                raise EndOfSource(self.name)
            self._video.release()
            self._video = None
            self._video = self._open_video()  # reopened, not rewound: a replaced file is read anew
            ok, image = self._video.read()
            if not ok:
                raise SourceError(f"{self.name}: no frame could be decoded from {self.settings.path}")
        self._pass_frames += 1
        # The next frame is due one period later; after a pause the schedule restarts (no burst).
        self._due = max(self._due + self._period, time.monotonic())
        frame = Frame(as_bgr(image), self.name, self._index, now_ms())
        self._index += 1
        return frame
