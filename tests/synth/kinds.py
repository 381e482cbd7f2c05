"""Clean renderers, one per kind of item, each drawing generated text and recording its boxes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFont

from tests.synth import text, words
from tests.synth.fonts import FontPicker
from tests.synth.layout import Canvas, Color, cap_height, fit_size, measure
from tests.synth.noise import smooth_noise
from tests.synth.sample import KINDS, Sample


def _grey(v: float) -> Color:
    """Return a neutral RGB colour."""
    g = int(np.clip(v, 0, 255))
    return (g, g, g)


def _paper(rng: np.random.Generator) -> Color:
    """Return white or yellowish paper."""
    if text.chance(rng, 0.6):
        return _grey(rng.uniform(238, 255))
    return (int(rng.integers(244, 256)), int(rng.integers(236, 249)), int(rng.integers(196, 228)))


def _ink(rng: np.random.Generator) -> Color:
    """Return near-black printing ink."""
    return _grey(rng.uniform(8, 45))


@dataclass
class _Run:
    """A run placed on a row before the canvas size is known."""

    text: str
    font: ImageFont.FreeTypeFont
    align: str
    stroke: int = 0


def _row_extent(runs: list[_Run]) -> tuple[float, float]:
    """Return how far a row's boxes reach above and below the baseline."""
    exts = [measure(r.font, r.text, r.stroke) for r in runs]
    return -min(e.top for e in exts), max(e.bottom for e in exts)


def _draw_row(canvas: Canvas, runs: list[_Run], baseline: float, x0: float, x1: float, fill: Color) -> None:
    """Draw a row's runs aligned between x0 and x1."""
    for run in runs:
        ext = measure(run.font, run.text, run.stroke)
        if run.align == "right":
            x = x1 - ext.right
        elif run.align == "center":
            x = (x0 + x1 - ext.width) / 2 - ext.left
        else:
            x = x0 - ext.left
        canvas.text(x, baseline, run.text, run.font, fill, run.stroke)


def _row_width(runs: list[_Run], gap: float) -> float:
    """Return the width a row needs with `gap` between its runs."""
    return sum(measure(r.font, r.text, r.stroke).width for r in runs) + gap * (len(runs) - 1)


def render_label(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a shipping, parts or asset label: mixed sizes and weights, rules and a border."""
    regular = fonts.pick("serif" if text.chance(rng, 0.15) else "sans", rng)
    bold = fonts.bold_of(regular, rng)
    em = int(rng.integers(22, 33))
    sizes = {"title": int(em * rng.uniform(1.25, 1.6)), "bold": em, "body": em, "small": int(em * 0.82)}
    faces = {"title": bold, "bold": bold, "body": regular, "small": regular}
    rows = [
        [_Run(s.text, fonts.font(faces[s.role], sizes[s.role]), s.align) for s in row]
        for row in text.label_rows(rng)
    ]
    paper, ink = _paper(rng), _ink(rng)
    margin = max(18, int(em * rng.uniform(0.8, 1.3)))
    gap = em * 2.0
    width = max(int(rng.integers(560, 900)), int(max(_row_width(r, gap) for r in rows) + 2 * margin))
    center_title = text.chance(rng, 0.4)
    inverse = text.chance(rng, 0.25) and rows[0][0].font.size > em
    rule_after_title = text.chance(rng, 0.6)
    spacing = rng.uniform(1.2, 1.45)

    placed: list[tuple[list[_Run], float]] = []
    y = margin * (1.4 if inverse else 1.0)
    rule_y: float | None = None
    for i, runs in enumerate(rows):
        above, below = _row_extent(runs)
        size = max(r.font.size for r in runs)
        lead = max(0.0, size * spacing - above - below) / 2
        baseline = y + lead + above
        placed.append((runs, baseline))
        y = baseline + below + lead
        if i == 0 and (rule_after_title or inverse) and len(rows) > 1 and runs[0].font.size > em:
            rule_y = y + em * 0.25
            y += em * 0.5
    height = int(y + margin)

    canvas = Canvas(width, height, paper)
    inset = int(rng.integers(5, 12))
    if inverse and rule_y is not None:
        canvas.draw.rectangle([inset, inset, width - inset, int(rule_y)], fill=ink)
    elif rule_y is not None:
        canvas.draw.line(
            [(inset, int(rule_y)), (width - inset, int(rule_y))], fill=ink, width=int(rng.integers(2, 5))
        )
    if text.chance(rng, 0.7):
        canvas.draw.rectangle(
            [inset, inset, width - inset, height - inset], outline=ink, width=int(rng.integers(2, 5))
        )
    for i, (runs, baseline) in enumerate(placed):
        if i == 0 and center_title and len(runs) == 1:
            runs = [_Run(runs[0].text, runs[0].font, "center")]
        fill = paper if (i == 0 and inverse and rule_y is not None) else ink
        _draw_row(canvas, runs, baseline, margin, width - margin, fill)
    return canvas.to_sample("label")


def render_plate(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a licence or equipment plate: one or two lines of big characters and a border."""
    style = text.pick(rng, ("eu", "eu", "uk", "us", "us", "serial"))
    if style == "us":
        return _us_plate(rng, fonts)
    if style == "serial":
        return _serial_plate(rng, fonts)
    return _eu_plate(rng, fonts, style)


def _eu_plate(rng: np.random.Generator, fonts: FontPicker, style: str) -> Sample:
    """Render an EU or UK registration plate with the blue country strip."""
    h = int(rng.integers(100, 150))
    w = int(h * rng.uniform(4.3, 4.8))
    yellow = (style == "uk" and text.chance(rng, 0.5)) or (style == "eu" and text.chance(rng, 0.2))
    bg: Color = (
        (250, int(rng.integers(196, 214)), int(rng.integers(10, 40)))
        if yellow
        else _grey(rng.uniform(238, 252))
    )
    ink = _grey(rng.uniform(5, 30))
    canvas = Canvas(w, h, bg)
    border = max(2, int(h * 0.03))
    canvas.draw.rounded_rectangle(
        [border, border, w - border - 1, h - border - 1], radius=int(h * 0.08), outline=ink, width=border
    )
    face = fonts.pick("bold", rng)
    strip = 0
    if style == "eu" or text.chance(rng, 0.5):
        strip = int(w * 0.085)
        blue = (0, int(rng.integers(40, 60)), int(rng.integers(140, 165)))
        canvas.draw.rectangle([2 * border, 2 * border, 2 * border + strip, h - 2 * border - 1], fill=blue)
    main = text.plate_text(rng, "uk" if style == "uk" else "eu")
    size = int(h * 0.62 / (cap_height(fonts.font(face, 100)) / 100))
    size = fit_size(lambda s: fonts.font(face, s), main, size, w - strip - 6 * border - 0.08 * w)
    font = fonts.font(face, size)
    baseline = (h + cap_height(font)) / 2
    left = 2 * border + strip
    ext = measure(font, main)
    canvas.text((left + w - ext.width) / 2 - ext.left, baseline, main, font, ink)
    if strip:
        country = text.pick(rng, ("GB", "UK")) if style == "uk" else text.pick(rng, words.EU_COUNTRIES)
        csize = fit_size(lambda s: fonts.font(face, s), country, int(h * 0.3), strip * 0.9)
        cfont = fonts.font(face, csize)
        cext = measure(cfont, country)
        canvas.text(
            2 * border + (strip - cext.width) / 2 - cext.left, baseline, country, cfont, (255, 255, 255)
        )
    return canvas.to_sample("plate")


def _us_plate(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a US plate: state name on top and a big registration in coloured ink."""
    w = int(rng.integers(440, 580))
    h = w // 2
    bg = (int(rng.integers(236, 252)), int(rng.integers(238, 252)), int(rng.integers(240, 255)))
    ink = text.pick(rng, ((20, 40, 125), (110, 20, 35), (20, 20, 25), (10, 70, 60)))
    accent = text.pick(rng, ((190, 30, 40), (25, 60, 150), (20, 20, 25)))
    canvas = Canvas(w, h, bg)
    border = max(3, int(h * 0.025))
    canvas.draw.rounded_rectangle(
        [border, border, w - border - 1, h - border - 1], radius=int(h * 0.07), outline=ink, width=border
    )
    for hx in (0.12, 0.88):
        cx, cy, r = int(w * hx), int(h * 0.14), max(4, int(h * 0.035))
        canvas.draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_grey(150), outline=_grey(90))
    state = text.pick(rng, words.US_STATES)
    sface = fonts.pick("serif" if text.chance(rng, 0.5) else "bold", rng)
    sfont = fonts.font(sface, fit_size(lambda s: fonts.font(sface, s), state, int(h * 0.16), w * 0.6))
    sext = measure(sfont, state)
    canvas.text((w - sext.width) / 2 - sext.left, h * 0.25, state, sfont, accent)
    main = text.plate_text(rng, "us")
    face = fonts.pick("bold", rng)
    size = int(h * 0.44 / (cap_height(fonts.font(face, 100)) / 100))
    size = fit_size(lambda s: fonts.font(face, s), main, size, w * 0.86)
    font = fonts.font(face, size)
    ext = measure(font, main)
    canvas.text((w - ext.width) / 2 - ext.left, h * 0.37 + cap_height(font), main, font, ink)
    return canvas.to_sample("plate")


def _serial_plate(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a brushed-metal equipment plate with one or two big lines and rivets."""
    lines = text.serial_plate_lines(rng)
    face = fonts.pick("bold" if text.chance(rng, 0.6) else "mono", rng)
    font = fonts.font(face, int(rng.integers(44, 64)))
    exts = [measure(font, s) for s in lines]
    margin = int(font.size * rng.uniform(0.7, 1.0))
    advance = font.size * rng.uniform(1.2, 1.4)
    w = int(max(e.width for e in exts) + 2 * margin)
    h = int(2 * margin + advance * (len(lines) - 1) + font.size * 0.95)
    metal = float(rng.uniform(165, 212))
    grain = smooth_noise(rng, h, w, 3.0)
    streaks = np.repeat(smooth_noise(rng, h, 1, 2.0), w, axis=1)
    base = (
        metal + (grain - 0.5) * 10 + (streaks - 0.5) * 18 + np.linspace(-8, 8, w, dtype=np.float32)[None, :]
    )
    tint = np.array([0.98, 1.0, 1.03], dtype=np.float32)
    rgb = np.clip(base[:, :, None] * tint, 0, 255).astype(np.uint8)
    canvas = Canvas(w, h, (0, 0, 0))
    canvas.image.paste(Image.fromarray(rgb, "RGB"))
    ink = _grey(rng.uniform(20, 60))
    r = max(4, int(margin * 0.22))
    for cx, cy in (
        (margin * 0.45, margin * 0.45),
        (w - margin * 0.45, margin * 0.45),
        (margin * 0.45, h - margin * 0.45),
        (w - margin * 0.45, h - margin * 0.45),
    ):
        canvas.draw.ellipse(
            [cx - r, cy - r, cx + r, cy + r], fill=_grey(metal - 45), outline=_grey(metal - 80)
        )
    baseline = margin + cap_height(font)
    for s, ext in zip(lines, exts):
        canvas.text(margin - ext.left, baseline, s, font, ink)
        baseline += advance
    return canvas.to_sample("plate")


def render_receipt(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a narrow thermal receipt in monospace: items, prices, totals, faded print."""
    face = fonts.pick("mono", rng)
    em = int(rng.integers(22, 29))
    font = fonts.font(face, em)
    cols = int(rng.integers(26, 37))
    advance_x = font.getlength("0")
    margin = int(em * rng.uniform(0.8, 1.4))
    w = int(cols * advance_x + 2 * margin)
    rows = text.receipt_rows(rng, cols)
    title_size = fit_size(
        lambda s: fonts.font(face, s), rows[0][0].text, int(em * rng.uniform(1.3, 1.7)), w - 2 * margin, em
    )
    runs_by_row: list[list[_Run]] = []
    for row in rows:
        runs_by_row.append(
            [
                _Run(
                    s.text,
                    fonts.font(face, title_size) if s.role == "title" else font,
                    s.align,
                    1 if s.role in ("title", "bold") else 0,
                )
                for s in row
            ]
        )
    line_advance = em * rng.uniform(1.25, 1.45)
    n_header = next(i for i, row in enumerate(rows) if row[0].align != "center")
    separators = {n_header, len(rows) - 6, len(rows) - 2}  # after the date, before SUBTOTAL, after payment
    placed: list[tuple[list[_Run], float]] = []
    y = margin * rng.uniform(1.0, 2.5)
    rule_ys: list[float] = []
    for i, runs in enumerate(runs_by_row):
        above, below = _row_extent(runs)
        size = max(r.font.size for r in runs)
        lead = max(0.0, size * (line_advance / em) - above - below) / 2
        baseline = y + lead + above
        placed.append((runs, baseline))
        y = baseline + below + lead
        if i in separators:
            rule_ys.append(y + em * 0.35)
            y += em * 0.7
    h = int(y + margin + em * rng.uniform(1.0, 4.0))
    canvas = Canvas(w, h, (255, 255, 255))
    dash = max(4, int(advance_x * 0.6))
    for ry in rule_ys:
        for x in range(margin, w - margin, int(advance_x)):
            canvas.draw.line([(x, int(ry)), (x + dash, int(ry))], fill=(0, 0, 0), width=max(2, em // 10))
    for runs, baseline in placed:
        _draw_row(canvas, runs, baseline, margin, w - margin, (0, 0, 0))
    sample = canvas.to_sample("receipt")
    sample.image = _thermal(rng, sample.image)
    return sample


def _thermal(rng: np.random.Generator, bgr: np.ndarray) -> np.ndarray:
    """Turn black-on-white print into faded thermal print on greyish paper."""
    h, w = bgr.shape[:2]
    alpha = 1.0 - bgr[:, :, 0].astype(np.float32) / 255.0
    fade = 0.72 + 0.28 * smooth_noise(rng, h, w, rng.uniform(60, 160))
    head = 0.88 + 0.12 * smooth_noise(rng, 1, w, rng.uniform(4, 14))
    alpha = alpha * fade * head
    paper = np.array([rng.uniform(232, 246)] * 3, dtype=np.float32) + rng.uniform(-4, 4, 3).astype(np.float32)
    ink = np.array([rng.uniform(35, 80)] * 3, dtype=np.float32) + np.array([6, 0, -4], dtype=np.float32)
    paper_tex = paper[None, None, :] + (smooth_noise(rng, h, w, 40.0)[:, :, None] - 0.5) * 4
    out = paper_tex * (1 - alpha[:, :, None]) + ink[None, None, :] * alpha[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


SIGN_PALETTES: tuple[tuple[Color, Color], ...] = (
    ((245, 200, 0), (20, 20, 20)),
    ((200, 30, 35), (255, 255, 255)),
    ((0, 115, 70), (255, 255, 255)),
    ((0, 70, 150), (255, 255, 255)),
    ((28, 28, 28), (250, 210, 0)),
    ((248, 248, 246), (195, 25, 30)),
    ((246, 246, 242), (20, 20, 20)),
    ((240, 125, 20), (15, 15, 15)),
)


def render_sign(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a warehouse or safety sign: 1-3 lines of large text on a coloured board."""
    lines = text.sign_lines(rng)
    bg, ink = text.pick(rng, SIGN_PALETTES)
    face = fonts.pick("bold" if text.chance(rng, 0.8) else "sans", rng)
    size = int(rng.integers(*{1: (96, 150), 2: (76, 120), 3: (60, 96)}[len(lines)]))
    size = min(fit_size(lambda s: fonts.font(face, s), s, size, 1100) for s in lines)
    font = fonts.font(face, size)
    exts = [measure(font, s) for s in lines]
    margin = int(size * rng.uniform(0.45, 0.8))
    advance = size * rng.uniform(1.1, 1.3)
    stripes = int(size * 0.4) if text.chance(rng, 0.2) else 0
    w = int(max(e.width for e in exts) + 2 * margin)
    h = int(2 * margin + advance * (len(lines) - 1) + cap_height(font) + stripes)
    canvas = Canvas(w, h, bg)
    if stripes:
        dark, light = ((20, 20, 20), (245, 200, 0))
        canvas.draw.rectangle([0, 0, w, stripes], fill=light)
        for x in range(-stripes, w + stripes, stripes):
            canvas.draw.polygon(
                [(x, stripes), (x + stripes // 2, stripes), (x + stripes, 0), (x + stripes // 2, 0)],
                fill=dark,
            )
    if text.chance(rng, 0.6):
        inset = int(margin * 0.3)
        canvas.draw.rectangle(
            [inset, stripes + inset, w - inset, h - inset], outline=ink, width=max(3, int(size * 0.06))
        )
    centered = text.chance(rng, 0.8)
    baseline = stripes + margin + cap_height(font)
    for s, ext in zip(lines, exts):
        x = (w - ext.width) / 2 - ext.left if centered else margin - ext.left
        canvas.text(x, baseline, s, font, ink)
        baseline += advance
    return canvas.to_sample("sign")


def render_line(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a tight single-line crop 24-64 px tall, like one a user sends."""
    s = text.line_text(rng)
    face = fonts.pick(text.pick(rng, ("sans", "sans", "serif", "mono", "bold")), rng)
    h = int(rng.integers(24, 65))
    vpad = int(rng.integers(0, 1 + h // 12))
    size = h
    while size > 8 and measure(fonts.font(face, size), s).height > h - 2 * vpad:
        size -= 1
    font = fonts.font(face, size)
    ext = measure(font, s)
    hpad = int(rng.integers(2, 13))
    w = int(ext.width + 2 * hpad)
    roll = rng.random()
    if roll < 0.75:
        bg, ink = _paper(rng), _ink(rng)
    elif roll < 0.9:
        bg, ink = _grey(rng.uniform(15, 70)), _grey(rng.uniform(210, 255))
    else:
        bg, ink = (250, int(rng.integers(200, 230)), int(rng.integers(20, 90))), _ink(rng)
    canvas = Canvas(w, h, bg)
    baseline = (h - ext.height) / 2 - ext.top
    canvas.text(hpad - ext.left, baseline, s, font, ink)
    return canvas.to_sample("line")


def _wrap(words: list[str], font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedily wrap words into lines no wider than `width`."""
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render_page(rng: np.random.Generator, fonts: FontPicker) -> Sample:
    """Render a page-scan-like document: running header, heading, 20-40 wrapped lines, page number."""
    w = int(rng.integers(1200, 1701))
    h = int(w * rng.uniform(1.29, 1.42))
    regular = fonts.pick("serif" if text.chance(rng, 0.6) else "sans", rng)
    bold = fonts.bold_of(regular, rng)
    em = int(w / rng.uniform(42, 54))
    font = fonts.font(regular, em)
    small = fonts.font(regular, int(em * 0.85))
    margin = int(w * rng.uniform(0.07, 0.12))
    col = w - 2 * margin
    paper, ink = _grey(rng.uniform(240, 255)), _ink(rng)
    canvas = Canvas(w, h, paper)
    number = int(rng.integers(1, 40))
    y = margin * 0.6
    if text.chance(rng, 0.5):
        y += cap_height(small)
        canvas.text(margin, y, text.title(rng), small, ink)
        label = f"Page {number}"
        canvas.text(w - margin - measure(small, label).right, y, label, small, ink)
        y += em * 0.6
        canvas.draw.line([(margin, int(y)), (w - margin, int(y))], fill=ink, width=2)
        number = 0
    y = max(y, margin)
    if text.chance(rng, 0.6):
        heading = fonts.font(bold, int(em * rng.uniform(1.3, 1.7)))
        y += em + cap_height(heading)
        canvas.text(margin, y, text.title(rng), heading, ink)
        y += heading.size * 0.6

    indent = em * 2 if text.chance(rng, 0.5) else 0
    lines: list[tuple[str, bool]] = []  # (text, starts a paragraph)
    for para in text.paragraphs(rng, 45):
        wrapped = _wrap(para.split(), font, col - indent)
        lines.extend((line, k == 0) for k, line in enumerate(wrapped))
    lines = lines[: int(rng.integers(20, 41))]
    bottom = h - margin - (em if number else 0)
    gaps = sum(1 for _, first in lines[1:] if first)
    advance = min(em * 1.7, (bottom - y) / (len(lines) + 0.5 * gaps))
    while advance < em * 1.25:
        lines.pop()
        gaps = sum(1 for _, first in lines[1:] if first)
        advance = min(em * 1.7, (bottom - y) / (len(lines) + 0.5 * gaps))
    for i, (line, first) in enumerate(lines):
        y += advance * (1.5 if first and i else 1.0)
        canvas.text(margin + (indent if first else 0), y, line, font, ink)
    if number:
        label = str(number) if text.chance(rng, 0.5) else f"Page {number}"
        canvas.text((w - measure(small, label).width) / 2, h - margin * 0.5, label, small, ink)
    return canvas.to_sample("page")


RENDERERS: dict[str, Callable[[np.random.Generator, FontPicker], Sample]] = {
    "label": render_label,
    "plate": render_plate,
    "receipt": render_receipt,
    "sign": render_sign,
    "line": render_line,
    "page": render_page,
}
assert tuple(RENDERERS) == KINDS


def render(kind: str, rng: np.random.Generator) -> Sample:
    """Render a clean, undegraded sample of one kind, so degradations can be layered on later."""
    if kind not in RENDERERS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return RENDERERS[kind](rng, FontPicker())
