"""Word boxes estimated from line polygons: the engine reads whole lines, the formats want words.

The recogniser returns one polygon per line and no character positions, so a word's box is an
estimate: the line's text is split on spaces and the line's quadrilateral is cut along the
text's own direction (top edge and bottom edge alike) in proportion to character counts, every
character (spaces included) taking the same share. Rotated and upside-down lines work because
the cut follows the polygon's corners, which start at the text's own top-left, clockwise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from edge_ocr.results import Code, PageResult, TextLine

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
Box = tuple[int, int, int, int]

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Word:
    """One word with its estimated quadrilateral (image pixels, clockwise from the text's top-left)."""

    text: str
    confidence: float  # the line's: the engine scores lines, not words
    quad: Quad

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Axis-aligned integer box x0, y0, x1, y1 enclosing the quadrilateral."""
        return points_bbox(self.quad)


def line_quad(line: TextLine) -> Quad:
    """The line's polygon as four corners; other point counts fall back to their bounding box."""
    pts = line.polygon
    if len(pts) == 4:
        return (pts[0], pts[1], pts[2], pts[3])
    xs, ys = [p[0] for p in pts] or [0.0], [p[1] for p in pts] or [0.0]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def split_words(line: TextLine) -> list[Word]:
    """The line's words, each with a share of the line's quadrilateral by character count."""
    text = line.text
    p0, p1, p2, p3 = line_quad(line)
    n = len(text)
    words = []
    for match in _WORD.finditer(text):
        t0, t1 = match.start() / n, match.end() / n
        quad = (_lerp(p0, p1, t0), _lerp(p0, p1, t1), _lerp(p3, p2, t1), _lerp(p3, p2, t0))
        words.append(Word(match.group(), line.confidence, quad))
    return words


def points_bbox(points: Sequence[Point]) -> tuple[int, int, int, int]:
    """Axis-aligned integer box x0, y0, x1, y1 (floor/ceil) around some points (0s for none)."""
    if not points:
        return (0, 0, 0, 0)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))


def clip_box(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """A box cut to the page (estimated word boxes may reach past its edges)."""
    x0, y0, x1, y1 = box
    return max(0, min(x0, width)), max(0, min(y0, height)), max(0, min(x1, width)), max(0, min(y1, height))


def union_bbox(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The box around several boxes (0, 0, 0, 0 for none)."""
    if not boxes:
        return (0, 0, 0, 0)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass(frozen=True)
class Frame:
    """Where a quadrilateral's text runs: bottom-left origin, unit direction, length and height."""

    origin: Point  # the text's bottom-left corner (image pixels)
    direction: Point  # unit vector along the baseline, image axes (y down)
    width: float  # along the baseline
    height: float  # across it

    @property
    def angle(self) -> float:
        """Counter-clockwise degrees of the baseline against the image's x axis (as seen upright)."""
        return math.degrees(math.atan2(-self.direction[1], self.direction[0]))

    def turned_to(self, angle: float) -> Frame:
        """The same-sized frame about the same centre, its baseline at `angle` (counter-clockwise degrees)."""
        dx, dy = self.direction
        cx = self.origin[0] + dx * self.width / 2 + dy * self.height / 2
        cy = self.origin[1] + dy * self.width / 2 - dx * self.height / 2
        rad = math.radians(angle)
        ux, uy = math.cos(rad), -math.sin(rad)
        origin = (
            cx - ux * self.width / 2 - uy * self.height / 2,
            cy - uy * self.width / 2 + ux * self.height / 2,
        )
        return Frame(origin, (ux, uy), self.width, self.height)


def text_frame(quad: Quad) -> Frame:
    """The text's own axes in a quadrilateral: averaged top/bottom edges and left/right edges."""
    p0, p1, p2, p3 = quad
    dx = ((p1[0] - p0[0]) + (p2[0] - p3[0])) / 2
    dy = ((p1[1] - p0[1]) + (p2[1] - p3[1])) / 2
    width = math.hypot(dx, dy)
    direction = (dx / width, dy / width) if width > 1e-9 else (1.0, 0.0)
    # height: the left and right edges projected on the normal that points up from the baseline
    nx, ny = direction[1], -direction[0]
    left = (p0[0] - p3[0]) * nx + (p0[1] - p3[1]) * ny
    right = (p1[0] - p2[0]) * nx + (p1[1] - p2[1]) * ny
    return Frame(p3, direction, width, max((left + right) / 2, 0.0))


@dataclass(frozen=True)
class LaidLine:
    """A line with words, as the layout formats place it: boxes clipped to the page."""

    line: TextLine
    box: Box  # around its words
    words: list[tuple[Word, Box]]


def page_layout(result: PageResult) -> tuple[list[LaidLine], list[tuple[Code, Box]]]:
    """What hOCR and ALTO both lay out: lines that have words, and codes, with page-clipped boxes."""
    w, h = result.width, result.height
    lines = []
    for line in result.lines:
        words = [(word, clip_box(word.bbox, w, h)) for word in split_words(line)]
        if words:
            box = clip_box(union_bbox([word.bbox for word, _ in words]), w, h)
            lines.append(LaidLine(line, box, words))
    codes = [(code, clip_box(points_bbox(code.polygon), w, h)) for code in result.codes]
    return lines, codes
