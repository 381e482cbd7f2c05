"""Seeded degradations that make a clean render look scanned or photographed, boxes kept in step."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import cv2
import numpy as np

from tests.synth.noise import linear_ramp
from tests.synth.sample import LEVELS, Sample
from tests.synth.scenes import scene

# Smallest line-box height (px) a photo may shrink text to; boxes are at least cap height plus a pad,
# so this keeps cap height at about 12 px or more.
MIN_LINE_PX = 17.0
LINE_HEIGHT_RANGE = (24, 64)
MAX_GLARE_WASH = 0.3  # largest share of any line's box the glare may wash out
GLARE_WASH_LEVEL = 0.5  # glare weight above which a pixel counts as washed out


@dataclass(frozen=True)
class Strength:
    """How hard each photographic effect hits at one level."""

    perspective: float  # largest corner shift, as a fraction of the item's shorter side
    rotation: float  # largest in-plane rotation, degrees
    sigma: tuple[float, float]  # gaussian blur sigma range
    motion: tuple[int, int]  # motion blur length range, px
    noise: tuple[float, float]  # sensor noise sigma range, grey levels
    jpeg: tuple[int, int]  # JPEG quality range
    light_low: tuple[float, float]  # gain at the dark end of the lighting gradient
    exposure: tuple[float, float]  # overall gain
    contrast: tuple[float, float]  # contrast factor around the mean
    glare_p: float
    shadow_p: float


PHOTO = Strength(
    perspective=0.08,
    rotation=5.0,
    sigma=(0.3, 1.0),
    motion=(3, 5),
    noise=(2.0, 6.0),
    jpeg=(40, 90),
    light_low=(0.65, 0.9),
    exposure=(0.9, 1.08),
    contrast=(0.85, 1.0),
    glare_p=0.3,
    shadow_p=0.3,
)
HARD = Strength(
    perspective=0.15,
    rotation=8.0,
    sigma=(1.0, 1.8),
    motion=(5, 9),
    noise=(6.0, 12.0),
    jpeg=(25, 60),
    light_low=(0.45, 0.75),
    exposure=(0.5, 0.75),
    contrast=(0.5, 0.75),
    glare_p=0.5,
    shadow_p=0.5,
)


def degrade(sample: Sample, rng: np.random.Generator, level: str = "photo") -> Sample:
    """Return a degraded copy of a sample ('clean', 'scan', 'photo' or 'hard'), boxes transformed with it."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    if level == "clean":
        return Sample(sample.image.copy(), list(sample.lines), sample.kind, [b.copy() for b in sample.boxes])
    if level == "scan":
        return _scan(sample, rng)
    return _photo(sample, rng, PHOTO if level == "photo" else HARD)


def _box_height(box: np.ndarray) -> float:
    """Return a box's height: the distance between the midpoints of its top and bottom edges."""
    top = (box[0] + box[1]) / 2
    bottom = (box[2] + box[3]) / 2
    return float(np.linalg.norm(bottom - top))


def _corners(w: int, h: int) -> np.ndarray:
    """Return an image's corners clockwise from top-left."""
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)


def _transform(boxes: list[np.ndarray], matrix: np.ndarray, size: tuple[int, int]) -> list[np.ndarray]:
    """Map boxes through a 3x3 homography and clip them to the image."""
    w, h = size
    out = []
    for box in boxes:
        pts = cv2.perspectiveTransform(box.reshape(-1, 1, 2).astype(np.float64), matrix).reshape(4, 2)
        pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
        pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
        out.append(pts.astype(np.float32))
    return out


def _fit_line(dst: np.ndarray, size: tuple[float, float]) -> tuple[np.ndarray, tuple[float, float]]:
    """Scale a line crop's geometry so its height stays within the 24-64 px a line kind promises."""
    w, h = size
    lo, hi = LINE_HEIGHT_RANGE
    f = hi / h if h > hi else lo / h if h < lo else 1.0
    return dst * np.float32(f), (w * f, h * f)


def _border_color(img: np.ndarray) -> np.ndarray:
    """Return the median colour of an image's outermost pixels, the item's own background."""
    edge = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    return np.median(edge, axis=0).astype(np.float32)


def _photo(sample: Sample, rng: np.random.Generator, st: Strength) -> Sample:
    """Photograph the item: scale, warp onto a scene, light, glare, blur, noise, JPEG."""
    img, boxes = sample.image, [b.copy() for b in sample.boxes]
    line = sample.kind == "line"
    h, w = img.shape[:2]
    min_h = min((_box_height(b) for b in boxes), default=float(h))

    fill = float(rng.uniform(0.5, 0.85))
    if line:
        s = 1.0
    else:
        s = fill * float(rng.uniform(760, 1500)) / max(h, w)
        s = max(s, MIN_LINE_PX * (1 + st.perspective) / max(min_h, 1.0))  # perspective may squeeze lines
    if abs(s - 1.0) > 0.01:
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        scale = np.array([nw / w, nh / h], dtype=np.float32)
        boxes = [b * scale for b in boxes]
        h, w = nh, nw

    src = _corners(w, h)
    centred = src - np.array([w / 2, h / 2], dtype=np.float32)
    if line:
        theta = math.radians(float(rng.uniform(-0.8, 0.8)))
        jitter = rng.uniform(-1, 1, (4, 2)) * np.array([0.01 * w, 0.06 * h])
    else:
        theta = math.radians(float(rng.uniform(-st.rotation, st.rotation)))
        jitter = rng.uniform(-1, 1, (4, 2)) * st.perspective * min(w, h)
    rot = np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], dtype=np.float32
    )
    dst = (centred @ rot.T + jitter).astype(np.float32)
    dst -= dst.min(axis=0)
    qw, qh = (float(v) for v in dst.max(axis=0))

    if line:
        mx, my = rng.integers(2, 9, 2)
        dst += np.array([mx, my], dtype=np.float32)
        dst, (cw, ch) = _fit_line(dst, (qw + 2 * mx, qh + 2 * my))
    else:
        long_q = max(qw, qh)
        canvas_long = min(max(long_q / fill, 640.0), 1600.0)
        canvas_long = max(canvas_long, long_q * 1.06)
        aspect = float(rng.uniform(1.2, 1.78))
        if qw >= qh:
            cw, ch = canvas_long, max(qh * 1.06, canvas_long / aspect)
        else:
            cw, ch = max(qw * 1.06, canvas_long / aspect), canvas_long
        dst += np.array(
            [(cw - qw) * rng.uniform(0.2, 0.8), (ch - qh) * rng.uniform(0.2, 0.8)], dtype=np.float32
        )
    cw_i, ch_i = math.ceil(cw), math.ceil(ch)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))

    if line:
        bg = np.empty((ch_i, cw_i, 3), np.uint8)
        bg[:] = np.round(_border_color(img)).astype(np.uint8)
    else:
        bg = scene(rng, ch_i, cw_i, shade=1.0 - _drop_shadow(rng, dst, (ch_i, cw_i)))
    out = _paste(img, bg, matrix, dst)
    boxes = _transform(boxes, matrix, (cw_i, ch_i))

    out = _lighting(rng, out, st, mild=line)
    if not line and rng.random() < st.glare_p:
        out = _glare(rng, out, boxes, dst)
    out = _contrast(out, float(rng.uniform(*st.contrast)))
    out = _blur(rng, out, st, mild=line)
    out = _noise(rng, out, float(rng.uniform(*st.noise)) * (0.6 if line else 1.0))
    quality = int(rng.integers(max(st.jpeg[0], 55) if line else st.jpeg[0], st.jpeg[1] + 1))
    return Sample(_jpeg(out, quality), list(sample.lines), sample.kind, boxes)


def _gray3(field: np.ndarray) -> np.ndarray:
    """Return a single-channel float field repeated over three channels, for OpenCV arithmetic."""
    return cv2.merge([field, field, field])


def _upsample(field: np.ndarray, h: int, w: int) -> np.ndarray:
    """Return a low-resolution smooth field resized to HxW."""
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _paste(item: np.ndarray, bg: np.ndarray, matrix: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Warp the item onto the scene, working only inside the item's bounding box to save time."""
    ch, cw = bg.shape[:2]
    x0, y0 = (max(0, int(v)) for v in np.floor(quad.min(axis=0)))
    x1, y1 = (min(n, int(v) + 1) for v, n in zip(np.ceil(quad.max(axis=0)), (cw, ch)))
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], dtype=np.float64)
    roi = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(
        item, shift @ matrix, roi, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    alpha = np.zeros((roi[1], roi[0]), np.uint8)
    pts = np.round((quad - np.array([x0, y0], dtype=np.float32)) * 16).astype(np.int32)
    cv2.fillConvexPoly(alpha, pts, 255, cv2.LINE_AA, shift=4)
    weight = alpha.astype(np.float32) * np.float32(1 / 255)
    out = bg.copy()
    out[y0:y1, x0:x1] = cv2.blendLinear(warped, bg[y0:y1, x0:x1], weight, 1.0 - weight)
    return out


def _drop_shadow(rng: np.random.Generator, quad: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Return how much an item darkens the scene beside it, at quarter size since it is soft."""
    h, w = (max(2, (n + 3) // 4) for n in size)
    offset = np.array([rng.uniform(-2.5, 2.5), rng.uniform(0.5, 3.0)], dtype=np.float32)
    mask = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(mask, np.round((quad / 4 + offset) * 16).astype(np.int32), 1.0, cv2.LINE_AA, shift=4)
    soft = cv2.GaussianBlur(mask, (0, 0), float(rng.uniform(1.0, 3.0)))
    return soft * np.float32(rng.uniform(0.2, 0.45))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """Return the smooth 0-to-1 step of x clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _lighting(rng: np.random.Generator, img: np.ndarray, st: Strength, mild: bool) -> np.ndarray:
    """Apply uneven light: a gradient, vignetting, a soft cast shadow, exposure and white balance."""
    h, w = img.shape[:2]
    sh, sw = max(2, h // 8), max(2, w // 8)
    low = float(rng.uniform(*st.light_low))
    if mild:
        low = 1.0 - (1.0 - low) * 0.4
    high = float(rng.uniform(1.0, 1.08))
    gain = low + (high - low) * linear_ramp(rng, sh, sw)
    xs = np.linspace(-1, 1, sw, dtype=np.float32)[None, :]
    ys = np.linspace(-1, 1, sh, dtype=np.float32)[:, None]
    gain *= 1.0 - np.float32(rng.uniform(0.0, 0.2)) * (xs * xs + ys * ys) / 2
    if not mild and rng.random() < st.shadow_p:
        edge = float(rng.uniform(0.25, 0.75))
        width = float(rng.uniform(0.03, 0.15))
        depth = float(rng.uniform(0.25, 0.45) if st is PHOTO else rng.uniform(0.35, 0.6))
        gain *= 1.0 - depth * _smoothstep((linear_ramp(rng, sh, sw) - edge) / width)
    gain *= np.float32(rng.uniform(*st.exposure))
    balance = rng.uniform(0.93, 1.07, 3).astype(np.float32)
    gain3 = np.ascontiguousarray(gain.astype(np.float32)[:, :, None] * balance[None, None, :])
    return cv2.multiply(img, _upsample(gain3, h, w), dtype=cv2.CV_8U)


def _contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Scale contrast around the image mean through a lookup table."""
    if factor >= 0.999:
        return img
    mean = float(img.mean())
    lut = np.clip(mean + (np.arange(256, dtype=np.float32) - mean) * factor, 0, 255)
    return cv2.LUT(img, np.round(lut).astype(np.uint8))


def _glare(
    rng: np.random.Generator, img: np.ndarray, boxes: list[np.ndarray], quad: np.ndarray
) -> np.ndarray:
    """Add a soft bright ellipse over the item, weakened until no line is more than 30% washed out."""
    h, w = img.shape[:2]
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
    a = float(rng.uniform(0.06, 0.2)) * max(h, w)
    b = a * float(rng.uniform(0.35, 1.0))
    t = float(rng.uniform(0, np.pi))
    k = 4.0  # the field is smooth, so it is computed at quarter size
    sh, sw = (h + 3) // 4, (w + 3) // 4
    dx = (np.arange(sw, dtype=np.float32)[None, :] + 0.5) * np.float32(k) - np.float32(cx)
    dy = (np.arange(sh, dtype=np.float32)[:, None] + 0.5) * np.float32(k) - np.float32(cy)
    u = dx * np.float32(math.cos(t)) + dy * np.float32(math.sin(t))
    v = -dx * np.float32(math.sin(t)) + dy * np.float32(math.cos(t))
    field = _upsample(np.exp(-0.5 * ((u / np.float32(a)) ** 2 + (v / np.float32(b)) ** 2)), h, w)
    strength = float(rng.uniform(0.55, 0.95))
    while strength > GLARE_WASH_LEVEL and _worst_wash(field * np.float32(strength), boxes) > MAX_GLARE_WASH:
        strength *= 0.85
    weight = field * np.float32(strength)
    white = np.full_like(img, 255)
    return cv2.blendLinear(white, img, weight, 1.0 - weight)


def _worst_wash(weight: np.ndarray, boxes: list[np.ndarray]) -> float:
    """Return the largest share of any box whose pixels the glare weight washes out."""
    worst = 0.0
    for box in boxes:
        x0, y0 = np.floor(box.min(axis=0)).astype(int)
        x1, y1 = np.ceil(box.max(axis=0)).astype(int) + 1
        sub = weight[y0:y1, x0:x1]
        if sub.size == 0:
            continue
        mask = np.zeros(sub.shape, np.uint8)
        cv2.fillPoly(mask, [np.round(box - np.array([x0, y0])).astype(np.int32)], 1)
        inside = mask.astype(bool)
        if inside.any():
            worst = max(worst, float((sub[inside] > GLARE_WASH_LEVEL).mean()))
    return worst


def _blur(rng: np.random.Generator, img: np.ndarray, st: Strength, mild: bool) -> np.ndarray:
    """Apply defocus (gaussian) or camera-shake (motion) blur."""
    if rng.random() < 0.6 or mild:
        sigma = float(rng.uniform(*st.sigma)) * (0.6 if mild else 1.0)
        return cv2.GaussianBlur(img, (0, 0), sigma)
    length = int(rng.integers(st.motion[0], st.motion[1] + 1))
    angle = float(rng.uniform(0, np.pi))
    kernel = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    ex, ey = math.cos(angle) * c, math.sin(angle) * c
    cv2.line(kernel, (round(c - ex), round(c - ey)), (round(c + ex), round(c + ey)), 1.0, 1, cv2.LINE_AA)
    kernel /= kernel.sum()
    return cv2.filter2D(img, -1, kernel)


@lru_cache(maxsize=64)
def _noise_table(sigma: float) -> np.ndarray:
    """Return a byte table turning uniform bytes into gaussian offsets (centred on 128) of a sigma."""
    dist = NormalDist(128.0, max(sigma, 1e-3))
    return np.array([np.clip(round(dist.inv_cdf((i + 0.5) / 256)), 0, 255) for i in range(256)], np.uint8)


def _noise(rng: np.random.Generator, img: np.ndarray, sigma: float, chroma: bool = True) -> np.ndarray:
    """Add gaussian sensor noise, per channel or (chroma=False) the same in every channel."""
    h, w = img.shape[:2]
    table = _noise_table(round(sigma, 1))
    if chroma:
        noise = cv2.LUT(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), table)
    else:
        noise = cv2.cvtColor(cv2.LUT(rng.integers(0, 256, (h, w), dtype=np.uint8), table), cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(img, 1.0, noise, 1.0, -128.0, dtype=cv2.CV_8U)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode as JPEG at a quality, for its block and ringing artefacts."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode a synthetic image")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _scan(sample: Sample, rng: np.random.Generator) -> Sample:
    """Scan the item: maybe greyscale, slight skew on a light bed, slight blur and noise, maybe binarised."""
    img = sample.image
    if rng.random() < 0.6:
        img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    theta = math.radians(float(rng.uniform(-1.5, 1.5)))
    rot = np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], dtype=np.float32
    )
    src = _corners(w, h)
    dst = (src - np.array([w / 2, h / 2], dtype=np.float32)) @ rot.T
    dst -= dst.min(axis=0)
    margin = 0 if sample.kind == "line" else int(rng.integers(0, 24))
    dst += margin
    size = (float(dst[:, 0].max()) + margin, float(dst[:, 1].max()) + margin)
    if sample.kind == "line":
        dst, size = _fit_line(dst, size)
    cw, ch = math.ceil(size[0]), math.ceil(size[1])
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    bed = float(rng.uniform(235, 255))
    out = cv2.warpPerspective(img, matrix, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=(bed, bed, bed))
    boxes = _transform(sample.boxes, matrix, (cw, ch))
    sigma = float(rng.uniform(0.0, 0.7))
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    image = _noise(rng, out, float(rng.uniform(1.0, 4.0)), chroma=False)
    for _ in range(int(rng.integers(0, 30))):
        x, y = int(rng.integers(cw)), int(rng.integers(ch))
        tone = int(rng.integers(40, 160))
        cv2.circle(image, (x, y), int(rng.integers(0, 2)), (tone, tone, tone), -1, cv2.LINE_AA)
    if rng.random() < 0.25:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        _, bw = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        image = cv2.cvtColor(bw, cv2.COLOR_GRAY2BGR)
    elif rng.random() < 0.5:
        image = _jpeg(image, int(rng.integers(75, 96)))
    return Sample(image, list(sample.lines), sample.kind, boxes)
