"""DB post-processing on synthetic probability maps (no runtime involved)."""

import numpy as np

from edge_ocr.ocr.db_postprocess import DBParams, boxes_from_probability, order_quad


def _map_with_rects(shape, rects, value=0.9):
    prob = np.zeros(shape, dtype=np.float32)
    for x0, y0, x1, y1 in rects:
        prob[y0:y1, x0:x1] = value
    return prob


def test_one_kernel_gives_one_box_grown_around_it():
    prob = _map_with_rects((200, 400), [(100, 90, 300, 110)])
    quads, scores = boxes_from_probability(prob)
    assert len(quads) == 1 and scores[0] > 0.85
    q = quads[0]
    # unclip grows the 200x20 kernel outwards on every side
    assert q[:, 0].min() < 100 and q[:, 0].max() > 300
    assert q[:, 1].min() < 90 and q[:, 1].max() > 110


def test_separate_lines_stay_separate():
    prob = _map_with_rects((300, 400), [(50, 40, 350, 60), (50, 140, 350, 160), (50, 240, 200, 260)])
    quads, _ = boxes_from_probability(prob)
    assert len(quads) == 3


def test_weak_regions_and_specks_are_dropped():
    prob = _map_with_rects((200, 200), [(20, 20, 180, 40)], value=0.45)  # above thresh, below box_thresh
    prob[100:102, 100:102] = 0.99  # a 2x2 speck, below min_size
    quads, _ = boxes_from_probability(prob, DBParams(box_thresh=0.6))
    assert quads == []


def test_empty_map_gives_no_boxes():
    assert boxes_from_probability(np.zeros((64, 64), np.float32)) == ([], [])


def test_order_quad_starts_top_left_clockwise():
    pts = np.array([[10, 50], [10, 10], [90, 50], [90, 10]], dtype=np.float32)
    assert order_quad(pts).tolist() == [[10, 10], [90, 10], [90, 50], [10, 50]]
