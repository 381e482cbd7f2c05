"""The installer's picture: a frame with what edge_ocr made of it drawn on top (`preview`, `show --image`).

One drawing for both commands, so a live frame and a stored one read the same way: the region of
interest (outside it darkened), each text line's polygon with its reading and confidence, each code's
outline with its payload, and a panel with the gate's scores against their thresholds and its verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge_ocr.gate import FrameGate, FrameScores
from edge_ocr.results import Code, PageResult

# BGR. Distinct hues, so a box is told from a code or the ROI (and a test can find each by colour).
TEXT_BOX = (0, 215, 0)
CODE_BOX = (230, 0, 230)
ROI_BOX = (0, 215, 255)
PASS, FAIL, PLAIN = (255, 230, 80), (70, 70, 255), (235, 235, 235)
OUTSIDE_ROI = 0.5  # brightness kept outside the region of interest
PANEL_ALPHA = 0.7
MAX_LABEL = 48  # characters of a reading or payload shown before an ellipsis
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class GateView:
    """The gate's scores for the drawn frame against the configured thresholds, and its verdict."""

    sharpness: float
    min_sharpness: float  # 0: the check is off
    change: float | None  # None: no earlier frame to compare with
    change_threshold: float | None  # None: the trigger never looks at change
    verdict: str  # e.g. "read (processed)", "skipped (blurred)"
    passed: bool | None = None  # None: not a gate decision (a stored frame, a document page)
    no_change: str = "no earlier frame to compare with"  # said when change is None


@dataclass(frozen=True)
class Overlay:
    """Everything drawn over one frame."""

    result: PageResult
    roi: Rect | None = None  # pixels; None: the whole frame is read
    roi_note: str = ""  # e.g. "[ocr] roi now": where the region came from, when that matters
    gate: GateView | None = None
    heading: list[str] = field(default_factory=list)  # first panel lines: source, time, frame
    notes: list[str] = field(default_factory=list)  # last panel lines: errors worth seeing on site


def annotate(image: np.ndarray, overlay: Overlay) -> np.ndarray:
    """A copy of the BGR frame, same size, with the overlay drawn on it."""
    out = (image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))[:, :, :3].copy()
    h, w = out.shape[:2]
    scale = max(0.6, min(3.0, max(h, w) / 1000))
    thick = max(2, round(2 * scale))
    font, panel_font = _font(max(12, round(15 * scale))), _font(max(11, round(14 * scale)))
    if overlay.roi is not None:
        _darken_outside(out, overlay.roi)
    marks = _marks(overlay.result, font, w)
    labels = _labels(marks, overlay.roi, overlay.roi_note, font, (w, h), thick)
    panel = _panel_lines(overlay)
    panel_rect = _panel_rect(panel, panel_font, (w, h), [m[3] for m in marks] + [r for r, _, _ in labels])
    for rect, _, colour in labels:
        _shade(out, rect, tuple(c // 3 for c in colour), 0.85)
    # outlines after the label backgrounds: a label squeezed beside a crowded box never hides an edge
    if overlay.roi is not None:
        x0, y0, x1, y1 = overlay.roi
        cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), ROI_BOX, thick, cv2.LINE_AA)
    for polygon, _, colour, _ in marks:
        _outline(out, polygon, colour, thick)
    _shade(out, panel_rect, (0, 0, 0), PANEL_ALPHA)
    canvas = Image.fromarray(out[:, :, ::-1])
    draw = ImageDraw.Draw(canvas)
    for rect, text, _ in labels:
        draw.text((rect[0] + 3, rect[1] + 1), text, font=font, fill=(255, 255, 255))
    y = panel_rect[1] + 3
    for text, colour in panel:
        draw.text((panel_rect[0] + 5, y), text, font=panel_font, fill=colour[::-1])
        y += _line_height(panel_font)
    return np.asarray(canvas)[:, :, ::-1].copy()


Mark = tuple[tuple[tuple[float, float], ...], str, tuple[int, int, int], Rect]  # polygon, label, colour, box
Label = tuple[Rect, str, tuple[int, int, int]]


def _marks(result: PageResult, font, width: int) -> list[Mark]:
    """What is outlined: each line with its reading and confidence, each code with its payload."""
    marks = [(x.polygon, _short(x.text), f"  {x.confidence:.2f}", TEXT_BOX) for x in result.lines]
    marks += [(c.polygon, f"{c.symbology}: {_payload(c)}", "", CODE_BOX) for c in result.codes]
    return [(poly, _fit(font, head, tail, width), colour, _bbox(poly)) for poly, head, tail, colour in marks]


def _fit(font, head: str, tail: str, width: int) -> str:
    """head + tail, the head cut short (never the confidence in the tail) to fit a narrow frame."""
    while head and _text_width(font, head + tail) + 6 > width:
        head = head[:-2] + "\u2026" if len(head) > 1 else ""
    return head + tail


def _labels(
    marks: list[Mark], roi: Rect | None, roi_note: str, font, size: tuple[int, int], thick: int
) -> list[Label]:
    """Where each label goes: the ROI's inside its top-left corner, the others beside their boxes."""
    taken: list[Rect] = []
    labels: list[Label] = []
    if roi is not None:
        text = "ROI" + (f" ({roi_note})" if roi_note else "")
        x, y = roi[0] + thick, roi[1] + thick
        taken.append((x, y, x + _text_width(font, text) + 6, y + _line_height(font) + 2))
        labels.append((taken[-1], text, ROI_BOX))
    boxes = [m[3] for m in marks]
    for _, text, colour, box in marks:
        labels.append((_place(box, text, font, size, boxes, taken), text, colour))
    return labels


def gate_view(gate: FrameGate, scores: FrameScores, verdict: str, passed: bool | None, **kw: str) -> GateView:
    """The scores against the gate's own thresholds (the change one as the trigger applies it)."""
    s = gate.settings
    return GateView(
        scores.sharpness, s.min_sharpness, scores.change, gate.change_threshold(), verdict, passed, **kw
    )


def roi_pixels(roi: list[float], width: int, height: int) -> tuple[Rect | None, str]:
    """An [ocr] roi in this frame's pixels, as the pipeline clamps it; or why it lies outside."""
    if not roi:
        return None, ""
    from edge_ocr.ocr.pipeline import roi_box

    try:
        return roi_box((roi[0], roi[1], roi[2], roi[3]), width, height), ""
    except ValueError as exc:
        return None, f"[ocr] roi: {exc}"


def write_image(path: Path, image: np.ndarray, quality: int = 90) -> None:
    """Write a JPEG (or PNG, by suffix); OSError when the file cannot be written."""
    suffix = path.suffix.lower()
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix != ".png" else []
    if params and hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):  # full colour resolution: crisp thin lines
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, data = cv2.imencode(".png" if suffix == ".png" else ".jpg", image, params)
    if not ok:
        raise OSError(f"cannot encode the picture as {suffix or 'JPEG'}")
    path.write_bytes(data.tobytes())


def output_problem(path: Path) -> str | None:
    """Why the picture could not be written to path, checked before any slow work; None when it can."""
    if path.is_dir():
        return f"cannot write {path}: it is a folder"
    folder = path.parent
    if not folder.is_dir():
        return f"cannot write {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot write {path}: permission denied"
    return None


def summary_lines(overlay: Overlay) -> list[str]:
    """The panel's lines as text, for the terminal of whoever took the picture."""
    return [text for text, _ in _panel_lines(overlay)]


# ---- the panel ------------------------------------------------------------------------------------


def _panel_lines(overlay: Overlay) -> list[tuple[str, tuple[int, int, int]]]:
    """Each panel line with its colour: what passed the gate in PASS, what failed it in FAIL."""
    r = overlay.result
    lines = [(text, PLAIN) for text in overlay.heading]
    if overlay.roi is not None:
        x0, y0, x1, y1 = overlay.roi
        lines.append((f"ROI x {x0} y {y0} w {x1 - x0} h {y1 - y0}", ROI_BOX))
    else:
        lines.append(("ROI: the whole frame", PLAIN))
    g = overlay.gate
    if g is not None:
        lines.append(_sharpness_line(g))
        lines.append(_change_line(g))
        colour = PLAIN if g.passed is None else PASS if g.passed else FAIL
        lines.append((f"gate: {g.verdict}", colour))
    total = r.timings_ms.get("total")
    took = f" in {total:.0f} ms" if total else ""
    lines.append((f"{_count(len(r.lines), 'text line')}, {_count(len(r.codes), 'code')}{took}", PLAIN))
    lines += [(text, FAIL) for text in overlay.notes]
    return lines


def _sharpness_line(g: GateView) -> tuple[str, tuple[int, int, int]]:
    if g.min_sharpness <= 0:
        return f"sharpness {g.sharpness:.0f} (check off)", PLAIN
    ok = g.sharpness >= g.min_sharpness
    word = "ok" if ok else "too blurred"
    return f"sharpness {g.sharpness:.0f}, min {g.min_sharpness:g}: {word}", PASS if ok else FAIL


def _change_line(g: GateView) -> tuple[str, tuple[int, int, int]]:
    if g.change is None:
        return f"change: {g.no_change}", PLAIN
    if g.change_threshold is None:
        return f"change {g.change:.1f} (not checked by this trigger)", PLAIN
    ok = g.change >= g.change_threshold
    word = "changed" if ok else "unchanged"
    return f"change {g.change:.1f}, threshold {g.change_threshold:g}: {word}", PASS if ok else FAIL


def _panel_rect(
    lines: list[tuple[str, tuple[int, int, int]]],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    size: tuple[int, int],
    boxes: list[Rect],
) -> Rect:
    """The panel in whichever corner hides the least of the boxes and labels."""
    w, h = size
    pw = min(w, max(_text_width(font, text) for text, _ in lines) + 10)
    ph = min(h, len(lines) * _line_height(font) + 6)
    corners = [(0, 0), (w - pw, 0), (0, h - ph), (w - pw, h - ph)]

    def covered(corner: tuple[int, int]) -> int:
        x, y = corner
        return sum(_overlap((x, y, x + pw, y + ph), b) for b in boxes)

    x, y = min(corners, key=covered)
    return x, y, x + pw, y + ph


# ---- boxes and labels -----------------------------------------------------------------------------


def _outline(image: np.ndarray, polygon, colour: tuple[int, int, int], thick: int) -> None:
    """The polygon itself, not its bounding box: a tilted line is drawn tilted."""
    if len(polygon) >= 2:
        points = np.round(np.asarray(polygon, np.float64)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(image, [points], True, colour, thick, cv2.LINE_AA)


def _place(box: Rect, text: str, font, size: tuple[int, int], boxes: list[Rect], taken: list[Rect]) -> Rect:
    """A label's rectangle beside its box (above, below, right, left: the first that hides no other box
    or label, else the one hiding least), kept inside the frame."""
    w, h = size
    lw, lh = _text_width(font, text) + 6, _line_height(font) + 2
    bx0, by0, bx1, by1 = box
    spots = [(bx0, by0 - lh - 1), (bx0, by1 + 2), (bx1 + 3, by0), (bx0 - lw - 3, by0)]
    rects = []
    for x, y in spots:
        x, y = max(0, min(w - lw, x)), max(0, min(h - lh, y))
        rects.append((x, y, x + lw, y + lh))
    others = [b for b in boxes if b != box] + taken

    def hidden(rect: Rect) -> int:
        return sum(_overlap(rect, o) for o in others) + _overlap(rect, box)

    rect = min(rects, key=hidden)  # min keeps the first of equals: above when nothing is in the way
    taken.append(rect)
    return rect


def _bbox(polygon) -> Rect:
    if not polygon:
        return 0, 0, 0, 0
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1


def _overlap(a: Rect, b: Rect) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _shade(image: np.ndarray, rect: Rect, colour: tuple[int, ...], alpha: float) -> None:
    x0, y0, x1, y1 = rect
    region = image[y0:y1, x0:x1]
    if region.size:
        fill = np.empty_like(region)
        fill[:] = colour
        cv2.addWeighted(fill, alpha, region, 1 - alpha, 0, dst=region)


def _darken_outside(image: np.ndarray, roi: Rect) -> None:
    """Dim what the reader ignores; in uint8 throughout (a 12 MP frame as floats would be 290 MB)."""
    x0, y0, x1, y1 = roi
    keep = image[y0:y1, x0:x1].copy()
    cv2.convertScaleAbs(image, dst=image, alpha=OUTSIDE_ROI)
    image[y0:y1, x0:x1] = keep


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "\u2026"


def _payload(code: Code) -> str:
    """A payload fit to draw: control characters escaped, binary shown as its length and hex."""
    if code.text is not None and code.text.isprintable():
        return _short(code.text)
    if code.text is not None:
        return _short(code.text.encode("unicode_escape").decode("ascii"))
    return f"{len(code.data)} bytes {_short(code.data.hex())}"


# ---- fonts ----------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans where installed (accents, Cyrillic, Greek), else Pillow's own font."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", px)
    except OSError:
        pass
    try:
        return ImageFont.load_default(size=px)
    except (TypeError, ImportError):  # Pillow before 10.1, or built without FreeType
        return ImageFont.load_default()


def _text_width(font, text: str) -> int:
    return int(np.ceil(font.getlength(text)))


def _line_height(font) -> int:
    ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (11, 2)
    return ascent + descent + 2
