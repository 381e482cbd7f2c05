"""Kept frames: a JPEG and a thumbnail per scan under STATE/images/, written durably before the commit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.store.settings import ImagePolicy

IMAGES_DIR = "images"
PER_FOLDER = 1000  # files per sub-folder, so no folder grows without bound


@dataclass(frozen=True)
class Encoded:
    """A frame encoded before the transaction starts (encoding is the slow part)."""

    jpeg: bytes
    thumb: bytes

    @property
    def size(self) -> int:
        """Bytes both files take."""
        return len(self.jpeg) + len(self.thumb)


def encode(image: np.ndarray, policy: ImagePolicy) -> Encoded:
    """JPEG at the configured quality, and a thumbnail whose long side is thumb_px."""
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, policy.quality])
    scale = min(1.0, policy.thumb_px / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    ok2, thumb = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not (ok and ok2):
        raise ValueError("cannot encode the frame as JPEG")
    return Encoded(jpeg.tobytes(), thumb.tobytes())


def relative_paths(scan_id: int) -> tuple[str, str]:
    """Where a scan's image and thumbnail live, relative to the state directory (named by scan id)."""
    folder = f"{IMAGES_DIR}/{scan_id // PER_FOLDER:06d}"
    return f"{folder}/{scan_id}.jpg", f"{folder}/{scan_id}.thumb.jpg"


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
    """Make new directory entries durable too."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(state_dir: Path, scan_id: int, encoded: Encoded) -> tuple[str, str]:
    """Write both files (fsynced) and return their relative paths; a crash before the commit leaves at
    most a stray file (scan ids are never reused, so no scan ever points at it)."""
    image_rel, thumb_rel = relative_paths(scan_id)
    folder = state_dir / image_rel
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_durably(state_dir / image_rel, encoded.jpeg)
        _write_durably(state_dir / thumb_rel, encoded.thumb)
        fsync_dir(folder.parent)
    except OSError:
        for rel in (image_rel, thumb_rel):
            for p in (state_dir / rel, (state_dir / rel).with_name(Path(rel).name + ".tmp")):
                p.unlink(missing_ok=True)
        raise
    return image_rel, thumb_rel


def delete(state_dir: Path, *relative: str | None) -> int:
    """Remove kept files (missing ones are fine); how many were removed."""
    n = 0
    for rel in relative:
        if rel:
            try:
                (state_dir / rel).unlink()
                n += 1
            except FileNotFoundError:
                pass
    return n
