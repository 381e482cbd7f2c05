"""Deterministic rendered text samples, preprocessed like the runtime, for checks and calibration."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .config import DET_MEAN, DET_SIDE, DET_STD, LINE_H
from .specs import ModelJob

_WORD_TEXT = (
    "invoice total amount date batch lot serial model part order ship to from box pallet "
    "weight net gross kg lbs voltage input output warning caution made in germany china "
    "product code expiry best before price qty unit station pump valve sensor gate door "
    "north south exit entrance level room floor meter reading id no ref tel fax email www "
    "Hello World OCR Raspberry Jetson Label Receipt Customer Address Street Road City"
)
WORDS = tuple(_WORD_TEXT.split())
FONT_NAMES = (
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSansCondensed.ttf",
    "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationMono-Regular.ttf",
    "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf",
    "noto/NotoSans-Regular.ttf",
    "noto/NotoSerif-Regular.ttf",
    "noto/NotoSansMono-Regular.ttf",
)
CJK_FONT = "droid/DroidSansFallbackFull.ttf"
FONT_ROOT = Path("/usr/share/fonts/truetype")


class Renderer:
    """Deterministic synthetic text lines and small documents (BGR uint8 arrays)."""

    def __init__(self, seed: int, cjk: list[str]) -> None:
        self.rng = np.random.default_rng(seed)
        self.fonts = [str(FONT_ROOT / f) for f in FONT_NAMES if (FONT_ROOT / f).exists()]
        if not self.fonts:
            raise RuntimeError(f"no Latin fonts found under {FONT_ROOT} (install fonts-dejavu)")
        cjk_font = FONT_ROOT / CJK_FONT
        self.cjk_font = str(cjk_font) if cjk_font.exists() else None
        self.cjk = cjk if self.cjk_font else []

    def pick(self, seq: list | tuple) -> Any:
        """Random element of seq."""
        return seq[int(self.rng.integers(len(seq)))]

    def text(self, max_chars: int) -> tuple[str, bool]:
        """Random label-like text and whether it needs the CJK font."""
        r, d = self.rng, lambda n: "".join(str(int(x)) for x in self.rng.integers(0, 10, n))
        kind = int(r.integers(8 if self.cjk else 7))
        up = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        if kind == 0:
            text = " ".join(self.pick(WORDS) for _ in range(int(r.integers(1, 4))))
        elif kind == 1:
            text = self.pick(WORDS).upper() + " " + d(int(r.integers(2, 7)))
        elif kind == 2:
            text = "".join(self.pick(up) for _ in range(2)) + d(4) + "-" + d(int(r.integers(2, 6)))
        elif kind == 3:
            text = f"20{d(2)}-{int(r.integers(1, 13)):02d}-{int(r.integers(1, 29)):02d}"
        elif kind == 4:
            text = self.pick(("$", "€", "£", "")) + f"{int(r.integers(0, 9999))}.{d(2)}"
        elif kind == 5:
            text = self.pick(("SN:", "S/N ", "LOT ", "No.", "ID ")) + d(int(r.integers(5, 10)))
        elif kind == 6:
            text = d(int(r.integers(3, 14)))
        else:
            return "".join(self.pick(self.cjk) for _ in range(int(r.integers(2, 9)))), True
        if r.random() < 0.3:
            text = text.capitalize() if r.random() < 0.5 else text.upper()
        return text[: max(3, max_chars)].strip() or "0", False

    def colours(self) -> tuple[tuple[int, ...], tuple[int, ...], str]:
        """Foreground, background and background style."""
        r = self.rng
        style = self.pick(("light", "light", "dark", "textured", "colour"))
        if style == "dark":
            return (
                tuple(int(v) for v in r.integers(180, 256, 3)),
                tuple(int(v) for v in r.integers(0, 70, 3)),
                style,
            )
        if style == "colour":
            bg = tuple(int(v) for v in r.integers(60, 256, 3))
            fg = (0, 0, 0) if sum(bg) > 380 else (255, 255, 255)
            return fg, bg, style
        return (
            tuple(int(v) for v in r.integers(0, 90, 3)),
            tuple(int(v) for v in r.integers(170, 256, 3)),
            style,
        )

    def background(self, w: int, h: int, bg: tuple[int, ...], style: str) -> np.ndarray:
        """Plain, gradient or speckled background as an RGB float array."""
        img = np.empty((h, w, 3), np.float32)
        img[:] = bg
        if style == "textured":
            ramp = np.linspace(0, float(self.rng.uniform(-50, 30)), w, dtype=np.float32)
            img += ramp[None, :, None]
            img += self.rng.normal(0, 12, (h, w, 1)).astype(np.float32)
        return img

    def finish(self, img: np.ndarray) -> np.ndarray:
        """Blur and noise some images; return BGR uint8."""
        from PIL import Image, ImageFilter

        pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        if self.rng.random() < 0.5:
            pil = pil.filter(ImageFilter.GaussianBlur(float(self.rng.uniform(0.3, 1.3))))
        arr = np.asarray(pil).astype(np.float32)
        if self.rng.random() < 0.5:
            arr += self.rng.normal(0, float(self.rng.uniform(2, 10)), arr.shape)
        return np.clip(arr, 0, 255).astype(np.uint8)[:, :, ::-1].copy()

    def font(self, cjk: bool, size: int) -> Any:
        """A random Latin font, or the CJK font."""
        from PIL import ImageFont

        return ImageFont.truetype(self.cjk_font if cjk else self.pick(self.fonts), size)

    def line(self, max_chars: int) -> np.ndarray:
        """A tightly cropped single text line."""
        from PIL import Image, ImageDraw

        text, cjk = self.text(max_chars)
        font = self.font(cjk, int(self.rng.integers(20, 56)))
        fg, bg, style = self.colours()
        x0, y0, x1, y1 = font.getbbox(text)
        mx, my = int(self.rng.integers(2, 12)), int(self.rng.integers(2, 10))
        w, h = x1 - x0 + 2 * mx, y1 - y0 + 2 * my
        pil = Image.fromarray(np.clip(self.background(w, h, bg, style), 0, 255).astype(np.uint8))
        ImageDraw.Draw(pil).text((mx - x0, my - y0), text, font=font, fill=fg)
        return self.finish(np.asarray(pil).astype(np.float32))

    def document(self) -> np.ndarray:
        """A small label or document with several lines at various sizes."""
        from PIL import Image, ImageDraw

        r = self.rng
        w, h = int(r.integers(360, 1000)), int(r.integers(260, 900))
        fg, bg, style = self.colours()
        pil = Image.fromarray(np.clip(self.background(w, h, bg, style), 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(pil)
        if r.random() < 0.5:
            draw.rectangle((8, 8, w - 9, h - 9), outline=fg, width=int(r.integers(1, 4)))
        y = int(r.integers(12, 40))
        while y < h - 30:
            text, cjk = self.text(40)
            size = int(r.integers(14, 64))
            font = self.font(cjk, size)
            x = int(r.integers(12, max(13, w // 3)))
            draw.text((x, y), text, font=font, fill=fg)
            y += int(size * r.uniform(1.2, 2.2))
        return self.finish(np.asarray(pil).astype(np.float32))


def prep_line(img: np.ndarray, width: int, height: int = LINE_H) -> np.ndarray:
    """Resize to the line height keeping aspect (capped at width), normalise, right-pad; NCHW."""
    from PIL import Image

    h, w = img.shape[:2]
    new_w = max(1, min(width, math.ceil(height * w / h)))
    resized = np.asarray(Image.fromarray(img).resize((new_w, height), Image.BILINEAR))
    norm = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
    out = np.zeros((height, width, 3), np.float32)
    out[:, :new_w] = norm
    return out.transpose(2, 0, 1)[None]


def prep_det(img: np.ndarray, side: int = DET_SIDE) -> np.ndarray:
    """Fit into side x side keeping aspect, normalise per channel (BGR), zero-pad; NCHW."""
    from PIL import Image

    h, w = img.shape[:2]
    scale = side / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    norm = (resized.astype(np.float32) / 255.0 - np.float32(DET_MEAN)) / np.float32(DET_STD)
    out = np.zeros((side, side, 3), np.float32)
    out[:nh, :nw] = norm
    return out.transpose(2, 0, 1)[None]


def make_inputs(job: ModelJob, n: int, seed: int, cjk: list[str]) -> np.ndarray:
    """n preprocessed NCHW samples for a job (cls samples: every other line turned 180°)."""
    renderer = Renderer(seed + job.width, cjk)
    samples = []
    for i in range(n):
        if job.role == "det":
            samples.append(prep_det(renderer.document(), job.width))
            continue
        line = renderer.line(max(3, job.width // 24))
        if job.role == "cls" and i % 2:
            line = line[::-1, ::-1].copy()
        samples.append(prep_line(line, job.width, job.height))
    return np.concatenate(samples)
