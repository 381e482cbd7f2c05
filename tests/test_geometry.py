"""Reading order, regions of interest, rotation mapping and crops: pure geometry."""

import numpy as np

from edge_ocr.ocr.crop import crop_quad
from edge_ocr.ocr.pipeline import _unrotate_points, roi_box
from edge_ocr.ocr.reading_order import reading_order


def quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_reading_order_rows_then_columns():
    quads = [quad(300, 12, 400, 30), quad(10, 100, 200, 120), quad(10, 10, 200, 28)]
    assert reading_order(quads) == [2, 0, 1]


def test_reading_order_keeps_slightly_skewed_row_together():
    quads = [quad(210, 14, 300, 34), quad(10, 10, 200, 30), quad(10, 60, 200, 80)]
    assert reading_order(quads) == [1, 0, 2]


def test_roi_fractions_and_pixels_are_clamped():
    assert roi_box((0.5, 0.5, 0.5, 0.5), 200, 100) == (100, 50, 200, 100)
    assert roi_box((10, 20, 5000, 5000), 200, 100) == (10, 20, 200, 100)


def test_unrotate_points_inverts_each_page_turn():
    import cv2

    h, w = 60, 100
    img = np.zeros((h, w), np.uint8)
    img[10, 20] = 255
    for rotation, undo in (
        (90, cv2.ROTATE_90_COUNTERCLOCKWISE),
        (180, cv2.ROTATE_180),
        (270, cv2.ROTATE_90_CLOCKWISE),
    ):
        turned = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[
            rotation
        ]
        given = cv2.rotate(img, turned)  # what the camera saw
        upright = cv2.rotate(given, undo)
        y, x = np.argwhere(upright)[0]
        mapped = _unrotate_points(np.array([[x, y]], np.float32), rotation, given.shape[1], given.shape[0])
        gy, gx = np.argwhere(given)[0]
        assert mapped.round().tolist() == [[gx, gy]], rotation


def test_crop_quad_rectifies_and_turns_tall_crops():
    img = np.zeros((100, 100, 3), np.uint8)
    img[20:30, 10:90] = 255
    flat = crop_quad(img, quad(10, 20, 90, 30))
    assert flat.shape[:2] == (10, 80) and flat.mean() > 200
    tall = crop_quad(img, quad(40, 5, 50, 95))
    assert tall.shape[0] < tall.shape[1]
