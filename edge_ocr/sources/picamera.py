"""Raspberry Pi CSI cameras through picamera2 (imported only here, and only when the source opens)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from edge_ocr.config.kinds import PiCameraSettings
from edge_ocr.errors import ConfigError
from edge_ocr.sources.base import Frame, SourceError, as_bgr
from edge_ocr.sources.grabber import LatestFrameGrabber

log = logging.getLogger(__name__)

NOT_INSTALLED = (
    "picamera2 is not installed: on Raspberry Pi OS run `sudo apt install python3-picamera2` "
    "(and create the venv with --system-site-packages)"
)
AF_MODES = {"manual": 0, "auto": 1, "continuous": 2}  # libcamera's AfModeEnum values


class PiCameraSource:
    """A Pi camera (Camera Module 2/3, HQ, ...) delivering BGR frames.

    Still or video configuration (`still`): a still configuration uses the full sensor resolution,
    so small print and dense codes keep their detail, but each frame is slower (lower frame rate,
    more memory per buffer, a longer exposure and processing pipeline). A video configuration
    streams continuously at a lower resolution (1280x720 unless `width`/`height` say otherwise):
    faster, less detail. Prefer video for moving items, still for documents held still.

    Pixel order: picamera2's "RGB888" arrays are [B, G, R] per pixel (libcamera names formats by
    the little-endian word), which is exactly OpenCV's BGR, so frames are used as they come; a
    4-channel format ("XRGB8888", [B, G, R, 255]) has its padding byte dropped.

    Exposure: `exposure_us` > 0 fixes ExposureTime and turns auto-exposure off (AeEnable False),
    useful under a fixed light to avoid motion blur. Focus (Camera Module 3; ignored by cameras
    without autofocus): continuous (AfMode Continuous), auto (one autofocus_cycle() before each
    capture: sharp but slow), manual (`lens_position` in dioptres: 0 is infinity, 10 is about 10 cm).
    """

    def __init__(self, settings: PiCameraSettings, camera_num: int = 0) -> None:
        if settings.autofocus not in AF_MODES:
            raise ConfigError(
                f"[source] key 'autofocus': expected continuous, auto or manual, got {settings.autofocus!r}"
            )
        self.settings = settings
        self.camera_num = camera_num
        self.name = f"picamera2:{camera_num}"
        self._grabber: LatestFrameGrabber | None = None
        self._autofocus_cycle = False

    def open(self) -> None:
        """Start the camera; SourceError when picamera2 or the camera is missing."""
        self.close()
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise SourceError(NOT_INSTALLED) from None
        camera = None
        try:  # the hardware boundary: libcamera reports a missing or busy camera in several ways
            camera = Picamera2(self.camera_num)
            camera.configure(self._configuration(camera))
            controls = self._controls(camera)
            if controls:
                camera.set_controls(controls)
            camera.start()
        except Exception as exc:
            if camera is not None:
                _release(camera)
            raise SourceError(
                f"{self.name}: cannot start the camera: {exc or type(exc).__name__} (connected, and listed "
                "by `rpicam-hello --list-cameras`? not in use by another program?)"
            ) from None
        self._grabber = LatestFrameGrabber(
            self.name,
            lambda want: self._capture(camera),
            lambda: _release(camera),
            continuous=False,
            max_failures=1,
        )
        self._grabber.start()

    def _configuration(self, camera: Any) -> Any:
        s = self.settings
        main: dict[str, Any] = {"format": "RGB888"}
        if s.width and s.height:
            main["size"] = (s.width, s.height)
        make = camera.create_still_configuration if s.still else camera.create_video_configuration
        return make(main=main)

    def _controls(self, camera: Any) -> dict[str, Any]:
        s = self.settings
        controls: dict[str, Any] = {}
        if s.fps:
            controls["FrameRate"] = s.fps
        if s.exposure_us:
            controls["ExposureTime"] = s.exposure_us
            controls["AeEnable"] = False
        has_af = "AfMode" in getattr(camera, "camera_controls", {})
        self._autofocus_cycle = has_af and s.autofocus == "auto"
        if has_af:
            controls["AfMode"] = AF_MODES[s.autofocus]
            if s.autofocus == "manual":
                controls["LensPosition"] = s.lens_position
        elif s.autofocus != "continuous":
            log.warning("%s: this camera has no autofocus; autofocus = %r ignored", self.name, s.autofocus)
        return controls

    def _capture(self, camera: Any) -> np.ndarray:
        if self._autofocus_cycle and not camera.autofocus_cycle():
            log.debug("%s: autofocus did not converge; capturing anyway", self.name)
        return as_bgr(camera.capture_array("main"))

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame captured after this call, or None within the timeout."""
        if self._grabber is None:
            raise SourceError(f"{self.name}: not open")
        got = self._grabber.read(timeout_s)
        if got is None:
            return None
        image, number, captured_ms = got
        return Frame(image, self.name, number, captured_ms)

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        """Nothing to file away for a camera."""

    def close(self) -> None:
        """Stop the camera and give it back to the system (safe to call twice)."""
        if self._grabber is not None:
            self._grabber.stop()
            self._grabber = None


def _release(camera: Any) -> None:
    """Stop and close, each on its own: a failed stop must not keep the camera held."""
    for step in (camera.stop, camera.close):
        try:
            step()
        except Exception as exc:  # the camera may already be gone
            log.debug("picamera2: %s failed: %s", step.__name__, exc)
