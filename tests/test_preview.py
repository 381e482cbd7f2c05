"""`edge-ocr preview` and `show --image`, on the shipped models and the bundled footage: the picture is
the frame, each drawn box lies on its result's polygon, nothing box-coloured lies elsewhere, and bad
input is a one-line message with the usual exit status."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.annotate import CODE_BOX, ROI_BOX, TEXT_BOX, Overlay, annotate, summary_lines
from edge_ocr.cli import main, preview
from edge_ocr.cli.run import SAMPLE_FOOTAGE
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import Store
from edge_ocr.store.settings import ImagePolicy, StoreSettings
from tests.daemon_helpers import write_config

FRAMES = 15  # frame 15 of the footage: the asset tag with its QR code, standing still
NEAR_PX = 3  # a drawn edge lies this close to the polygon's own edge
FAR_PX = 5  # no box-coloured pixel further than this from every polygon


def footage_config(path: Path, **sections) -> Path:
    """A config on the bundled footage, read as fast as possible."""
    return write_config(
        path, source={"kind": "video", "path": str(SAMPLE_FOOTAGE), "realtime": False}, **sections
    )


def footage_frame(number: int) -> np.ndarray:
    """Frame `number` (from 1) of the bundled footage, as preview reads it."""
    video = cv2.VideoCapture(str(SAMPLE_FOOTAGE))
    try:
        for _ in range(number):
            ok, frame = video.read()
            assert ok
        return frame
    finally:
        video.release()


def colour_mask(image: np.ndarray, bgr: tuple[int, int, int]) -> np.ndarray:
    """Pixels of a drawing colour after JPEG: its strong channels high, its zero channels low."""
    channels = image.astype(np.int16)
    mask = np.ones(image.shape[:2], bool)
    for c, value in enumerate(bgr):
        mask &= channels[:, :, c] > 170 if value > 128 else channels[:, :, c] < 90
    return mask


def outline_distance(shape: tuple[int, ...], polygons) -> np.ndarray:
    """Each pixel's distance to the nearest polygon edge."""
    edges = np.full(shape[:2], 255, np.uint8)
    for polygon in polygons:
        points = np.round(np.asarray(polygon)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(edges, [points], True, 0, 1)
    return cv2.distanceTransform(edges, cv2.DIST_L2, 3)


def edge_coverage(mask: np.ndarray, polygon) -> float:
    """The share of points along the polygon's edges with a drawn pixel within NEAR_PX."""
    near = cv2.dilate(mask.astype(np.uint8), np.ones((2 * NEAR_PX + 1,) * 2, np.uint8)) > 0
    corners = np.asarray(polygon, float)
    hits = total = 0
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        for t in np.linspace(0.05, 0.95, 19):
            x, y = np.round(a + t * (b - a)).astype(int)
            y, x = min(max(y, 0), mask.shape[0] - 1), min(max(x, 0), mask.shape[1] - 1)
            hits += bool(near[y, x])
            total += 1
    return hits / total


def assert_boxes_drawn(picture: np.ndarray, result: PageResult) -> None:
    """Every line and code outlined in its colour along its polygon, and that colour nowhere far from one."""
    for colour, polygons in (
        (TEXT_BOX, [x.polygon for x in result.lines]),
        (CODE_BOX, [c.polygon for c in result.codes]),
    ):
        mask = colour_mask(picture, colour)
        for polygon in polygons:
            assert edge_coverage(mask, polygon) >= 0.9, f"{colour} box not drawn along {polygon}"
        far = outline_distance(picture.shape, polygons) > FAR_PX
        stray = np.argwhere(mask & far)
        assert len(stray) == 0, f"{len(stray)} {colour} pixels far from every box, e.g. {stray[:5].tolist()}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """One preview of the footage: the picture, the result it drew, and what it printed."""
    folder = tmp_path_factory.mktemp("preview")
    config = footage_config(folder / "config.toml", gate={"min_sharpness": 60.0, "change_threshold": 6.0})
    out = folder / "preview.jpg"
    seen: list[PageResult] = []
    real = preview.read_frame

    def spy(config, frame):
        seen.append(real(config, frame))
        return seen[-1]

    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setattr(preview, "read_frame", spy)
        code = main(["preview", "--config", str(config), "-o", str(out), "--frames", str(FRAMES)])
    assert code == 0
    return out, seen[0], printed.getvalue()


def test_preview_is_a_jpeg_of_the_frame(rendered):
    out, result, _ = rendered
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    picture = cv2.imread(str(out))
    frame = footage_frame(FRAMES)
    assert picture.shape == frame.shape == (result.height, result.width, 3)
    untouched = np.abs(picture.astype(int) - frame.astype(int)).max(axis=2) < 16
    assert untouched.mean() > 0.6  # the frame itself, under a panel and a few labels


def test_preview_draws_each_text_box_and_code_on_its_polygon(rendered):
    out, result, _ = rendered
    assert [line.text for line in result.lines] == ["ASSET TAG", "PUMP STATION 3", "ID 00417-PS3"]
    assert [c.text for c in result.codes] == ["https://assets.example/00417-PS3"]
    assert_boxes_drawn(cv2.imread(str(out)), result)


def test_preview_prints_the_gate_scores_against_their_thresholds(rendered):
    printed = rendered[2]
    assert f"{SAMPLE_FOOTAGE}  frame {FRAMES}  640x360" in printed
    assert "sharpness " in printed and ", min 60: ok" in printed
    assert "change " in printed and ", threshold 6: unchanged" in printed  # the label stands still
    assert "gate: skipped (unchanged), trigger continuous" in printed
    assert "3 text lines, 1 code in " in printed


def test_preview_roi_and_a_blurred_verdict(tmp_path, capsys):
    out = tmp_path / "roi.png"
    roi = [0.25, 0.25, 0.5, 0.5]
    config = footage_config(tmp_path / "c.toml", ocr={"roi": roi}, gate={"min_sharpness": 100000.0})
    assert main(["preview", "--config", str(config), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ROI x 160 y 90 w 320 h 180" in printed
    assert ", min 100000: too blurred" in printed and "gate: skipped (blurred)" in printed
    picture, frame = cv2.imread(str(out)), footage_frame(1)
    assert edge_coverage(colour_mask(picture, ROI_BOX), [(160, 90), (479, 90), (479, 269), (160, 269)]) > 0.8
    inside = (slice(120, 240), slice(200, 440))
    assert np.abs(picture[inside].astype(int) - frame[inside].astype(int)).mean() < 4  # as it was
    outside = picture[:, 520:].astype(float).mean() / frame[:, 520:].astype(float).mean()
    assert 0.4 < outside < 0.65  # darkened (the panel may take a corner of it)


def test_show_draws_a_stored_scan_over_its_frame(rendered, tmp_path, capsys):
    _, result, _ = rendered
    state = tmp_path / "state"
    with Store(state, StoreSettings(images=ImagePolicy(keep="all", quality=95))) as store:
        kept = store.save_scan(result, image=footage_frame(FRAMES))
        bare = store.save_scan(result)  # its image is not kept
    out = tmp_path / "show.jpg"
    assert main(["show", str(kept), "--state-dir", str(state), "--image", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"stored as scan #{kept}; scores of the stored JPEG" in printed
    assert "change: not kept with a stored frame" in printed
    picture = cv2.imread(str(out))
    assert picture.shape == (result.height, result.width, 3)
    assert_boxes_drawn(picture, result)

    assert main(["show", str(bare), "--state-dir", str(state), "--image", str(tmp_path / "b.jpg")]) == 1
    err = capsys.readouterr().err
    assert f"scan #{bare} has no stored image" in err and "[store] images" in err
    assert not (tmp_path / "b.jpg").exists()
    assert main(["show", "999", "--state-dir", str(state), "--image", str(tmp_path / "c.jpg")]) == 1
    assert "no scan #999" in capsys.readouterr().err


def test_bad_input_is_one_line_with_the_usual_exit_status(tmp_path, capsys):
    config = footage_config(tmp_path / "c.toml")
    (tmp_path / "taken.jpg").mkdir()

    def preview_with(*argv: str) -> tuple[int, str]:
        code = main(["preview", *argv])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return code, err

    code, err = preview_with("--config", str(config), "-o", str(tmp_path / "no" / "such" / "out.jpg"))
    assert code == 1 and "the folder" in err and "does not exist" in err
    code, err = preview_with("--config", str(config), "-o", str(tmp_path / "taken.jpg"))
    assert code == 1 and "it is a folder" in err
    missing = write_config(tmp_path / "m.toml", source={"kind": "video", "path": str(tmp_path / "gone.avi")})
    code, err = preview_with("--config", str(missing), "-o", str(tmp_path / "out.jpg"))
    assert code == 2 and "gone.avi does not exist" in err
    camera = write_config(tmp_path / "v.toml", source={"kind": "v4l2", "device": "/dev/video63"})
    code, err = preview_with("--config", str(camera), "-o", str(tmp_path / "out.jpg"))
    assert code == 2 and "/dev/video63" in err
    assert not (tmp_path / "out.jpg").exists()
    with pytest.raises(SystemExit) as usage:
        main(["preview", "-o", str(tmp_path / "out.gif")])
    assert usage.value.code == 2 and "name the picture .jpg, .jpeg or .png" in capsys.readouterr().err


def test_annotate_any_text_and_binary_payloads_on_a_grey_frame():
    box = ((20.0, 30.0), (220.0, 30.0), (220.0, 60.0), (20.0, 60.0))
    code = ((300.0, 20.0), (380.0, 20.0), (380.0, 100.0), (300.0, 100.0))
    result = PageResult(
        "cam0",
        1,
        400,
        120,
        [TextLine("Café №7\tÜBER " + "X" * 80, 0.8, box)],
        codes=[Code("DataMatrix", b"\x00\xff\x1d", None, code), Code("QRCode", b"a\x1db", "a\x1db", code)],
    )
    grey = np.full((120, 400), 128, np.uint8)  # a monochrome camera's frame
    overlay = Overlay(result, heading=["cam0"])
    picture = annotate(grey, overlay)
    assert picture.shape == (120, 400, 3) and picture.dtype == np.uint8
    assert_boxes_drawn(picture, result)
    assert summary_lines(overlay)[-1] == "1 text line, 2 codes"
