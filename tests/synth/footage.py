"""Sample footage for the quick start: labels, a serial plate and QR codes moving through a scene,
with motion blur and changing light. `python -m tests.synth.footage OUT.avi` (needs the test extra)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from tests.synth.codes import render_code
from tests.synth.fonts import find_fonts, load_font

W, H, FPS = 640, 360, 6


@dataclass(frozen=True)
class Item:
    """One thing that passes the camera: its card image and the lines printed on it."""

    card: np.ndarray  # BGR
    lines: tuple[str, ...]


def _card(
    lines: list[str], code: np.ndarray | None, size: tuple[int, int], paper: int, seed: int
) -> np.ndarray:
    w, h = size
    img = Image.new("L", (w, h), paper)
    draw = ImageDraw.Draw(img)
    fonts = find_fonts()
    bold = load_font((fonts["bold"] or fonts["sans"])[0], 28)
    regular = load_font(fonts["sans"][0], 22)
    draw.rectangle([3, 3, w - 4, h - 4], outline=25, width=3)
    y = 16
    for i, text in enumerate(lines):
        draw.text((18, y), text, font=bold if i == 0 else regular, fill=20)
        y += 38 if i == 0 else 31
    arr = np.array(img)
    if code is not None:
        ch, cw = code.shape
        x0, y0 = w - cw - 16, (h - ch) // 2 if ch > h // 2 else h - ch - 14
        if code.shape[1] > w // 2:  # a 1-D code goes along the bottom
            x0, y0 = 18, h - ch - 12
        arr[y0 : y0 + ch, x0 : x0 + cw] = np.minimum(arr[y0 : y0 + ch, x0 : x0 + cw], code)
    return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)


def items() -> list[Item]:
    """The three things the footage shows."""
    tag = ["ASSET TAG", "PUMP STATION 3", "ID 00417-PS3"]
    plate = ["SERIAL NO", "SN 7F3K-22981", "MODEL HX-220"]
    ship = ["SHIP TO DOCK 7", "PO 4471-AX2"]
    qr = cv2.resize(
        render_code("QRCode", "https://assets.example/00417-PS3", 4),
        (132, 132),
        interpolation=cv2.INTER_NEAREST,
    )
    bars = render_code("Code128", "PO4471AX2", 2)
    bars = cv2.resize(bars, (bars.shape[1], 60), interpolation=cv2.INTER_NEAREST)
    return [
        Item(_card(tag, qr, (400, 170), 244, 1), tuple(tag)),
        Item(_card(plate, None, (340, 130), 215, 2), tuple(plate)),
        Item(_card(ship, bars, (420, 180), 248, 3), tuple(ship)),
    ]


def _background(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    base = 70 + 40 * (x / W) + 20 * np.sin(y / 37.0)
    bg = np.stack([base * 0.9, base, base * 1.1], axis=2)
    bg += rng.normal(0, 4, bg.shape)
    return np.clip(bg, 0, 255).astype(np.uint8)


def frames(seconds_per_item: float = 5.0, seed: int = 7):
    """Each item slides in from the right, rests in the middle, slides out left; light drifts."""
    rng = np.random.default_rng(seed)
    bg = _background(rng)
    n = int(seconds_per_item * FPS)
    t = 0
    for item in items():
        ch, cw = item.card.shape[:2]
        for k in range(n):
            phase = k / (n - 1)
            if phase < 0.3:  # moving in
                x = int(W - (W - (W - cw) / 2) * (phase / 0.3) ** 0.7)
                speed = 1.0
            elif phase < 0.75:  # resting
                x, speed = (W - cw) // 2, 0.0
            else:  # moving out
                x = int((W - cw) / 2 - ((W + cw) / 2) * ((phase - 0.75) / 0.25) ** 1.5)
                speed = 1.0
            frame = bg.copy()
            y = (H - ch) // 2
            x0, x1 = max(0, x), min(W, x + cw)
            if x1 > x0:
                frame[y : y + ch, x0:x1] = item.card[:, x0 - x : x1 - x]
            if speed:
                kernel = np.zeros((1, 15), np.float32)
                kernel[0, :] = 1 / 15
                frame = cv2.filter2D(frame, -1, kernel)
            gain = 0.85 + 0.25 * np.sin(t / 11.0)  # slow lighting change
            frame = np.clip(frame.astype(np.float32) * gain + rng.normal(0, 2.5, frame.shape), 0, 255)
            yield frame.astype(np.uint8)
            t += 1


def write(path: Path, seconds_per_item: float = 5.0) -> int:
    """Write MJPG (decodes everywhere OpenCV runs); returns the frame count."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (W, H))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 80)
    count = 0
    for frame in frames(seconds_per_item):
        writer.write(frame)
        count += 1
    writer.release()
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds-per-item", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{write(args.out, args.seconds_per_item)} frames -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
