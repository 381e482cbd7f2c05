"""Find text lines: scale the image into the detector's fixed input (tiling when needed), then DB."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge_ocr.ocr import defaults
from edge_ocr.ocr.db_postprocess import DBParams, boxes_from_probability
from edge_ocr.ocr.runtime import Session, release


@dataclass(frozen=True)
class DetectorSettings:
    """How the detector sees an image: coarse pass, and when to refine at higher resolution."""

    max_side: int = defaults.MAX_SIDE  # long side of the working image in the fine (tiled) pass
    upscale_limit: float = 2.0  # small images are enlarged at most this much
    min_text_px: float = 14.0  # lines thinner than this in the coarse pass trigger the fine pass
    # The fine pass enlarges only as far as the thinnest quarter of the coarse lines needs to reach
    # this thickness (then fills its tiles), not always to max_side: 21% fewer detector tiles on the
    # real dev sets with the same plates found (receipts F1 -0.005); see README, "Measured".
    fine_text_px: float = 22.0
    overlap: int = 64  # tile overlap in working pixels (about the detector's receptive field)
    border: int = 16  # padding around the image so text touching the edge is still found
    # Lines thinner than this (original pixels) are dropped: on noise the detector's faint boxes
    # are 5-7 px and read as stray characters; the thinnest real plate line read was 19 px.
    min_line_px: float = 8.0
    db: DBParams = field(default_factory=DBParams)


@dataclass
class Detection:
    """Quadrilaterals in original image coordinates, with scores and the passes that ran."""

    quads: list[np.ndarray]
    scores: list[float]
    passes: list[str]


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread tile origins covering [0, length) with at least `overlap` between tiles."""
    if length <= tile:
        return [0]
    n = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (n - 1)) for i in range(n)]


def _owned(starts: list[int], tile: int, length: int) -> list[tuple[int, int]]:
    """Each tile keeps the part of the map up to the middle of its overlaps (no seams)."""
    cuts = [0]
    for a, b in itertools.pairwise(starts):
        cuts.append((b + a + tile) // 2)
    cuts.append(length)
    return list(itertools.pairwise(cuts))


def _short_side(quad: np.ndarray) -> float:
    """Thickness of a quadrilateral: the shorter of its top and left edges."""
    return float(min(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[0] - quad[3])))


class TextDetector:
    """DB text detector on a fixed-size model input."""

    def __init__(
        self,
        session: Session,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        settings: DetectorSettings = DetectorSettings(),
        logits: bool = False,
        fit: tuple[int, int] | None = None,
    ) -> None:
        self.session = session
        _, self.tile_h, self.tile_w, _ = session.input_shape
        # The coarse pass fits the image into the model's own input size (h, w) even when the model runs
        # on smaller tiles (low-memory mode): the same working scale, only cut into more tiles.
        self.fit_h, self.fit_w = fit or (self.tile_h, self.tile_w)
        self.mean = np.asarray(mean, dtype=np.float32) * 255.0
        self.inv_std = 1.0 / (np.asarray(std, dtype=np.float32) * 255.0)
        self.settings = settings
        self.logits = logits

    def _normalise(self, image: np.ndarray) -> np.ndarray:
        return (image.astype(np.float32) - self.mean) * self.inv_std

    def probability_map(self, work: np.ndarray) -> np.ndarray:
        """Run the model over tiles of the working image and stitch one probability map."""
        h, w = work.shape[:2]
        prob = np.zeros((h, w), dtype=np.float32)
        ys, xs = (
            _starts(h, self.tile_h, self.settings.overlap),
            _starts(w, self.tile_w, self.settings.overlap),
        )
        tile = np.zeros((1, self.tile_h, self.tile_w, 3), dtype=np.float32)
        for y0, (oy0, oy1) in zip(ys, _owned(ys, self.tile_h, h)):
            for x0, (ox0, ox1) in zip(xs, _owned(xs, self.tile_w, w)):
                # normalised tile by tile: a float copy of a whole 1792-pixel working image is 38 MB
                part = self._normalise(work[y0 : y0 + self.tile_h, x0 : x0 + self.tile_w])
                tile.fill(0.0)
                tile[0, : part.shape[0], : part.shape[1]] = part
                out = self.session(tile)[0, :, :, 0]
                prob[oy0:oy1, ox0:ox1] = out[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0]
        if self.logits:
            prob = 1.0 / (1.0 + np.exp(-prob))
        return prob

    def _pass(self, image: np.ndarray, scale: float) -> tuple[list[np.ndarray], list[float]]:
        """Detect at one scale; quads come back in original image coordinates."""
        h, w = image.shape[:2]
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        work = cv2.resize(image, (sw, sh), interpolation=interp) if (sw, sh) != (w, h) else image
        pad = self.settings.border
        work = cv2.copyMakeBorder(work, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        quads, scores = boxes_from_probability(self.probability_map(work), self.settings.db)
        fx, fy = sw / w, sh / h
        mapped, kept = [], []
        for q, score in zip(quads, scores):
            q = (q - pad) / np.array([fx, fy], dtype=np.float32)
            q[:, 0] = np.clip(q[:, 0], 0, w - 1)
            q[:, 1] = np.clip(q[:, 1], 0, h - 1)
            if _short_side(q) >= self.settings.min_line_px:
                mapped.append(q.astype(np.float32))
                kept.append(score)
        return mapped, kept

    def detect(self, image: np.ndarray) -> Detection:
        """Coarse pass on the whole image in one tile; a tiled fine pass if text looks small."""
        s = self.settings
        h, w = image.shape[:2]
        fit = min((self.fit_w - 2 * s.border) / w, (self.fit_h - 2 * s.border) / h)
        coarse = min(s.upscale_limit, fit)
        quads, scores = self._pass(image, coarse)
        passes = [f"{coarse:.3f}"]
        fine = min(1.0, s.max_side / max(h, w))
        if fine > coarse * 1.2 and self._looks_small(quads, coarse):
            fine = self._fine_scale(quads, h, w, coarse, fine)
            quads, scores = self._pass(image, fine)
            passes.append(f"{fine:.3f}")
        release(self.session)  # an on-demand detector (low-memory mode) frees its arena until the next image
        return Detection(quads, scores, passes)

    def _fine_scale(self, quads: list[np.ndarray], h: int, w: int, coarse: float, limit: float) -> float:
        """The scale that makes the thinnest quarter of lines fine_text_px thick, raised as far as the
        same number of tiles allows (a partly empty tile costs as much as a full one); at most `limit`.
        Nothing found at the coarse scale: `limit` (small text may be anywhere)."""
        s = self.settings
        if not quads:
            return limit
        thin = float(np.quantile([_short_side(q) for q in quads], 0.25))  # original pixels
        need = min(limit, max(coarse * 1.2, s.fine_text_px / max(thin, 1e-3)))
        pad, step = 2 * s.border, (self.tile_h - s.overlap, self.tile_w - s.overlap)
        fill = []
        for length, tile, stride in ((h, self.tile_h, step[0]), (w, self.tile_w, step[1])):
            n = len(_starts(round(length * need) + pad, tile, s.overlap))
            fill.append(((n - 1) * stride + tile - pad) / length)
        return min(limit, max(need, min(fill)))

    def _looks_small(self, quads: list[np.ndarray], scale: float) -> bool:
        """True when nothing was found or a quarter of the lines are thin at this scale."""
        if not quads:
            return True
        heights = [_short_side(q) * scale for q in quads]
        return float(np.quantile(heights, 0.25)) < self.settings.min_text_px
