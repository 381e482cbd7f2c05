"""Tests for the synthetic labelled-image generator (tests.synth)."""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.synth import KINDS, LEVELS, Sample, degrade, find_fonts, make_sample, render, write_set
from tests.synth.__main__ import main
from tests.synth.degrade import GLARE_WASH_LEVEL, MAX_GLARE_WASH, _glare
from tests.synth.generate import sample_seed
from tests.synth.sample import reading_order, rect_box, same_row


@cache
def _sample(kind: str, level: str, seed: int = 7) -> Sample:
    """Make each (kind, level, seed) once per test run, since several tests inspect the same samples."""
    return make_sample(kind, seed, level)


def _height(box: np.ndarray) -> float:
    """Distance between the midpoints of a box's top and bottom edges."""
    return float(np.linalg.norm((box[2] + box[3]) / 2 - (box[0] + box[1]) / 2))


def _signed_area(box: np.ndarray) -> float:
    """Shoelace area; positive for clockwise order in image coordinates (y down)."""
    x, y = box[:, 0].astype(np.float64), box[:, 1].astype(np.float64)
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_same_seed_gives_identical_image_bytes_and_text() -> None:
    for level in LEVELS:
        a, b = make_sample("label", 3, level), make_sample("label", 3, level)
        assert a.image.tobytes() == b.image.tobytes()
        assert a.lines == b.lines
        assert all(np.array_equal(x, y) for x, y in zip(a.boxes, b.boxes, strict=True))


def test_different_seeds_give_different_images_and_text() -> None:
    a, b = _sample("label", "photo", 1), _sample("label", "photo", 2)
    assert a.lines != b.lines
    assert a.image.shape != b.image.shape or a.image.tobytes() != b.image.tobytes()


def test_text_is_the_same_at_every_level_for_a_seed() -> None:
    texts = {level: _sample("receipt", level).lines for level in LEVELS}
    assert all(lines == texts["clean"] for lines in texts.values())


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_single_spaced_ascii_lines_with_one_box_each(kind: str) -> None:
    sample = render(kind, np.random.default_rng(11))
    assert sample.kind == kind
    assert sample.image.dtype == np.uint8 and sample.image.ndim == 3 and sample.image.shape[2] == 3
    assert sample.lines and len(sample.lines) == len(sample.boxes)
    for line, box in zip(sample.lines, sample.boxes, strict=True):
        assert line == " ".join(line.split()) and line.isascii()
        assert box.shape == (4, 2) and box.dtype == np.float32


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", KINDS)
def test_boxes_lie_inside_the_image_and_run_clockwise_from_top_left(kind: str, level: str) -> None:
    sample = _sample(kind, level)
    h, w = sample.image.shape[:2]
    for box in sample.boxes:
        assert box[:, 0].min() >= 0 and box[:, 1].min() >= 0
        assert box[:, 0].max() <= w - 1 and box[:, 1].max() <= h - 1
        assert _signed_area(box) > 0
        assert int(np.argmin(box.sum(axis=1))) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_clean_boxes_follow_reading_order(kind: str) -> None:
    for seed in range(3):
        boxes = _sample(kind, "clean", seed).boxes
        for a, b in pairwise(boxes):
            if same_row(a, b):
                assert b[:, 0].min() >= a[:, 0].max() - 1, "same row must go left to right"
            else:
                assert b[:, 1].mean() > a[:, 1].mean(), "a new row must be lower"


def test_reading_order_sorts_rows_top_down_then_left_to_right() -> None:
    boxes = [rect_box(300, 50, 400, 80), rect_box(10, 10, 100, 40), rect_box(10, 52, 120, 78)]
    assert reading_order(boxes) == [1, 2, 0]


@pytest.mark.parametrize("level", LEVELS)
def test_line_crops_are_24_to_64_px_tall(level: str) -> None:
    for seed in range(4):
        sample = _sample("line", level, seed)
        assert 24 <= sample.image.shape[0] <= 64
        assert len(sample.lines) == 1


@pytest.mark.parametrize("kind", ["label", "receipt"])
def test_photo_keeps_small_print_at_a_readable_size(kind: str) -> None:
    for seed in range(3):
        sample = _sample(kind, "photo", seed)
        # a box is at least cap height plus a small pad, so 14 px keeps capitals about 12 px tall
        assert min(_height(b) for b in sample.boxes) >= 14


@pytest.mark.parametrize("kind", ["label", "plate", "receipt", "sign"])
def test_photo_frames_are_camera_crop_sized(kind: str) -> None:
    sample = _sample(kind, "photo")
    assert 640 <= max(sample.image.shape[:2]) <= 1600


def test_glare_washes_out_at_most_30_percent_of_any_line() -> None:
    base = np.full((600, 800, 3), 128, np.uint8)
    boxes = [rect_box(100, 100 + 40 * i, 700, 130 + 40 * i) for i in range(10)]
    quad = rect_box(80, 80, 720, 520)
    for seed in range(8):
        out = _glare(np.random.default_rng(seed), base, boxes, quad)
        weight = (out[:, :, 0].astype(np.float32) - 128) / 127
        for box in boxes:
            x0, y0 = box.min(axis=0).astype(int)
            x1, y1 = box.max(axis=0).astype(int)
            washed = float((weight[y0:y1, x0:x1] > GLARE_WASH_LEVEL + 0.02).mean())
            assert washed <= MAX_GLARE_WASH + 0.02


def test_clean_level_returns_the_render_unchanged() -> None:
    clean = render("sign", np.random.default_rng(5))
    same = degrade(clean, np.random.default_rng(0), "clean")
    assert np.array_equal(same.image, clean.image) and same.lines == clean.lines


def test_degrade_leaves_the_input_sample_untouched() -> None:
    clean = render("label", np.random.default_rng(5))
    before = clean.image.copy(), [b.copy() for b in clean.boxes]
    degrade(clean, np.random.default_rng(1), "photo")
    assert np.array_equal(clean.image, before[0])
    assert all(np.array_equal(a, b) for a, b in zip(clean.boxes, before[1], strict=True))


def test_unknown_kind_or_level_is_rejected_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match="label"):
        make_sample("barcode", 0)
    with pytest.raises(ValueError, match="photo"):
        make_sample("label", 0, "blurry")


@pytest.mark.parametrize("fmt", ["jpg", "png"])
def test_write_set_writes_image_and_ground_truth_pairs(tmp_path: Path, fmt: str) -> None:
    paths = write_set(tmp_path, 3, seed=4, kinds=("line", "plate"), level="photo", fmt=fmt)
    assert [p.name for p in paths] == [f"line-0000.{fmt}", f"plate-0001.{fmt}", f"line-0002.{fmt}"]
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert image is not None and image.size > 0
        gt = path.with_name(path.stem + ".gt.txt").read_text(encoding="utf-8")
        assert gt.endswith("\n") and gt.strip()
        assert gt.splitlines() == [line for line in gt.splitlines() if line]


def test_write_set_ground_truth_is_the_sample_text(tmp_path: Path) -> None:
    [path] = write_set(tmp_path, 1, seed=9, kinds=("receipt",), level="clean", fmt="png")
    expected = make_sample("receipt", sample_seed(9, 0), "clean")
    gt = path.with_name("receipt-0000.gt.txt").read_text(encoding="utf-8")
    assert gt == "\n".join(expected.lines) + "\n"
    assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_COLOR), expected.image)


def test_write_set_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = write_set(tmp_path / "a", 2, seed=1, kinds=("label", "line"))
    second = write_set(tmp_path / "b", 2, seed=1, kinds=("label", "line"))
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
        gt = a.stem + ".gt.txt"
        assert (a.parent / gt).read_bytes() == (b.parent / gt).read_bytes()


def test_find_fonts_names_the_package_to_install_when_none_are_found(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="fonts-dejavu-core"):
        find_fonts(search_dirs=[tmp_path])


def test_find_fonts_sorts_known_latin_faces_by_style_and_skips_other_scripts(tmp_path: Path) -> None:
    nested = tmp_path / "truetype" / "dejavu"
    nested.mkdir(parents=True)
    for name in ("DejaVuSans", "DejaVuSerif", "DejaVuSansMono", "DejaVuSans-Bold", "NotoSansArabic-Regular"):
        (nested / f"{name}.ttf").write_bytes(b"")
    fonts = find_fonts(search_dirs=[tmp_path])
    assert {style: [p.name for p in paths] for style, paths in fonts.items()} == {
        "sans": ["DejaVuSans.ttf"],
        "serif": ["DejaVuSerif.ttf"],
        "mono": ["DejaVuSansMono.ttf"],
        "bold": ["DejaVuSans-Bold.ttf"],
    }


def test_cli_writes_the_requested_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(tmp_path), "--count", "2", "--seed", "3", "--kinds", "line,sign", "--format", "png"])
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "line-0000.gt.txt",
        "line-0000.png",
        "sign-0001.gt.txt",
        "sign-0001.png",
    ]
    assert "wrote 2 images" in capsys.readouterr().out


def test_cli_rejects_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--kinds", "label,barcode"])
    assert exc.value.code == 2
