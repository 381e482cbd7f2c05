"""Cut each text quadrilateral out of the image as an upright, rectified line image."""

from __future__ import annotations

import cv2
import numpy as np

TALL_RATIO = 1.5  # a crop this much taller than wide holds vertical text: turn it on its side


def expand_quad(quad: np.ndarray, margin: float) -> np.ndarray:
    """Grow a quad by `margin` times its height on every side (context the recogniser expects)."""
    quad = np.asarray(quad, dtype=np.float32)
    if margin <= 0:
        return quad
    tl, tr, br, bl = quad
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr), 1.0)
    across = ((bl - tl) + (br - tr)) / 2
    along = ((tr - tl) + (br - bl)) / 2
    across /= max(np.linalg.norm(across), 1e-6)
    along /= max(np.linalg.norm(along), 1e-6)
    d = margin * height
    return np.array(
        [
            tl - d * across - d * along,
            tr - d * across + d * along,
            br + d * across + d * along,
            bl + d * across - d * along,
        ],
        dtype=np.float32,
    )


def crop_quad(image: np.ndarray, quad: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Perspective-rectify a clockwise quad (top-left first) into a horizontal strip."""
    quad = expand_quad(quad, margin)
    width = round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))
    height = round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if height >= width * TALL_RATIO:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop
