"""Render known text into images for engine tests (system fonts, no downloads)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype"))


@cache
def font_path(name: str = "DejaVuSans.ttf") -> Path:
    """A TrueType font from the system (Debian package fonts-dejavu-core)."""
    for d in FONT_DIRS:
        hits = sorted(d.rglob(name)) if d.is_dir() else []
        if hits:
            return hits[0]
    raise FileNotFoundError(f"font {name} not found; install the Debian package fonts-dejavu-core")


def render_lines(
    lines: list[str],
    size: int = 32,
    font: str = "DejaVuSans.ttf",
    margin: int = 30,
    spacing: float = 1.6,
    fg=(20, 20, 20),
    bg=(245, 245, 240),
) -> np.ndarray:
    """White card with each line of text, left aligned; BGR uint8."""
    f = ImageFont.truetype(str(font_path(font)), size)
    widths = [f.getbbox(line)[2] for line in lines]
    w = max(widths) + 2 * margin
    h = int(len(lines) * size * spacing) + 2 * margin
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * size * spacing), line, font=f, fill=fg)
    return np.ascontiguousarray(np.asarray(img)[:, :, ::-1])


def tight_line(text: str, size: int = 28, font: str = "DejaVuSans.ttf") -> np.ndarray:
    """A crop holding just one line of text with a 2-pixel margin."""
    img = render_lines([text], size=size, font=font, margin=2, spacing=1.25)
    ys, xs = np.where(img.min(axis=2) < 128)
    return img[max(0, ys.min() - 2) : ys.max() + 3, max(0, xs.min() - 2) : xs.max() + 3]


def place(canvas_hw: tuple[int, int], item: np.ndarray, at: tuple[int, int], bg=(90, 110, 130)) -> np.ndarray:
    """Put an item on a plain background at (x, y)."""
    canvas = np.full((*canvas_hw, 3), bg, np.uint8)
    x, y = at
    canvas[y : y + item.shape[0], x : x + item.shape[1]] = item
    return canvas


def photo_degrade(
    img: np.ndarray, seed: int = 0, blur: float = 1.0, noise: float = 6.0, jpeg: int = 60, warp: float = 0.05
) -> np.ndarray:
    """Perspective, blur, noise and JPEG loss, as a hand-held photo would add."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-warp, warp, (4, 2)) * [w, h]
    dst = np.float32(src + jitter - jitter.min(axis=0))
    size = (int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1)
    out = cv2.warpPerspective(
        img,
        cv2.getPerspectiveTransform(src, dst),
        size,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(80, 80, 80),
    )
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    out = np.clip(out + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg])
    assert ok
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)
