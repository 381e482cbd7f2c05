"""DB (differentiable binarisation) boxes from a probability map: numpy, OpenCV and pyclipper only."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper


@dataclass(frozen=True)
class DBParams:
    """Thresholds of DB post-processing: near PP-OCRv6 tiny's own (its inference.yml), not v4's."""

    # v4's 0.3 / 0.6 / 1.5 with dilation lost 8 of 60 real US plates at detection (faint,
    # small text below the box score) and cut crops wider than the recogniser was trained on.
    # v6's box score 0.4 found no more plates than 0.5 and boxed noise (benchmarks/stage_diff.py).
    thresh: float = 0.2
    box_thresh: float = 0.5
    unclip_ratio: float = 1.4
    max_candidates: int = 3000
    min_size: float = 3.0
    dilate: bool = False


def order_quad(points: np.ndarray) -> np.ndarray:
    """Order four points clockwise starting at the top-left, the layout every stage expects."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def _min_box(contour: np.ndarray) -> tuple[np.ndarray, float]:
    rect = cv2.minAreaRect(contour)
    return order_quad(cv2.boxPoints(rect)), float(min(rect[1]))


def _box_score(prob: np.ndarray, quad: np.ndarray) -> float:
    """Mean probability inside the quadrilateral, over its bounding window only."""
    h, w = prob.shape
    xmin = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = (quad - [xmin, ymin]).round().astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0])


def _unclip(quad: np.ndarray, ratio: float) -> np.ndarray | None:
    """Grow the shrunk text kernel back to the full text region (DB's offset D = A * r / L)."""
    area = cv2.contourArea(quad)
    length = cv2.arcLength(quad, True)
    if length <= 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(quad.round().astype(np.int64).tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(area * ratio / length)
    if len(grown) != 1:
        return None
    return np.asarray(grown[0], dtype=np.float32)


def boxes_from_probability(
    prob: np.ndarray, params: DBParams = DBParams()
) -> tuple[list[np.ndarray], list[float]]:
    """Text quadrilaterals (in probability-map pixels) and their scores."""
    bitmap = (prob > params.thresh).astype(np.uint8)
    if params.dilate:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads: list[np.ndarray] = []
    scores: list[float] = []
    for contour in contours[: params.max_candidates]:
        if len(contour) < 4:
            continue
        quad, short = _min_box(contour)
        if short < params.min_size:
            continue
        score = _box_score(prob, quad)
        if score < params.box_thresh:
            continue
        grown = _unclip(quad, params.unclip_ratio)
        if grown is None or len(grown) < 3:
            continue
        quad, short = _min_box(grown.reshape(-1, 1, 2))
        if short < params.min_size + 2:
            continue
        quads.append(quad)
        scores.append(score)
    return quads, scores
