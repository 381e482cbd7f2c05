"""The whole OCR pipeline on the real TFLite models, on images rendered here."""

import copy
from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge_ocr.evaluation import cer, word_score
from edge_ocr.ocr.pipeline import OcrOptions
from tests.imaging import photo_degrade, place, render_lines, tight_line

pytestmark = pytest.mark.engine

LABEL = ["ACME LOGISTICS GMBH", "PART NO 4471-AX2", "SN 7F3K-22981", "QTY 24 EA 12.5 kg"]


def texts(result):
    return [line.text for line in result.lines]


def squeezed(lines):
    """Lines without spaces: for tests about geometry, not about word spacing."""
    return ["".join(line.split()) for line in lines]


def test_clean_label_is_read_exactly_in_reading_order(pipeline):
    result = pipeline.read(render_lines(LABEL))
    assert texts(result) == LABEL
    assert all(line.confidence > 0.9 for line in result.lines)
    assert set(result.timings_ms) >= {"detect", "classify", "recognise", "total"}


def test_photo_of_label_reads_most_words(pipeline):
    img = photo_degrade(place((700, 900), render_lines(LABEL, size=30), (120, 150)), seed=3)
    score = word_score("\n".join(texts(pipeline.read(img))), "\n".join(LABEL))
    assert score.f1 >= 0.8, texts(pipeline.read(img))


def test_polygons_are_in_original_pixels(pipeline):
    card = render_lines(["DOCK 4"], size=40)
    img = place((600, 800), card, (400, 300))
    (line,) = pipeline.read(img).lines
    xs, ys = [p[0] for p in line.polygon], [p[1] for p in line.polygon]
    assert min(xs) >= 400 and max(xs) <= 400 + card.shape[1]
    assert min(ys) >= 300 and max(ys) <= 300 + card.shape[0]


@pytest.mark.parametrize(
    "turn,rotation", [(cv2.ROTATE_90_CLOCKWISE, 90), (cv2.ROTATE_90_COUNTERCLOCKWISE, 270)]
)
def test_page_turned_sideways_is_detected_and_read(pipeline, turn, rotation):
    page = render_lines([*LABEL, "LOT 2026-11-04"], size=30)
    result = pipeline.read(cv2.rotate(page, turn))
    assert result.rotation == rotation
    assert squeezed(texts(result)) == squeezed([*LABEL, "LOT 2026-11-04"])
    h, w = cv2.rotate(page, turn).shape[:2]
    for line in result.lines:
        assert all(0 <= x <= w and 0 <= y <= h for x, y in line.polygon)


def test_upside_down_page_is_read_by_flipping_lines(pipeline):
    result = pipeline.read(cv2.rotate(render_lines(LABEL), cv2.ROTATE_180))
    assert result.rotation == 180
    assert squeezed(texts(result)) == squeezed(LABEL)


def test_tight_single_line_crop_is_read_directly(pipeline):
    crop = tight_line("7ABC123")
    assert crop.shape[0] < 40
    assert texts(pipeline.read(crop)) == ["7ABC123"]


def test_long_line_is_read_through_overlapping_windows(pipeline):
    sentence = "The quick brown fox jumps over the lazy dog near dock 12 at 07:45 on 2026-11-21"
    img = render_lines([sentence], size=30)
    assert img.shape[1] > 1200  # at recogniser height 48 this is far wider than any bucket
    (line,) = pipeline.read(img).lines
    assert cer(line.text, sentence) < 0.03, line.text


def test_allowlist_constrains_the_decode(pipeline):
    img = render_lines(["K-482-TX"], size=48)
    free = texts(pipeline.read(img))
    assert free == ["K-482-TX"]
    digits = texts(pipeline.read(img, options=OcrOptions(allowlist="0-9")))
    assert len(digits) == 1 and set(digits[0]) <= set("0123456789") and "482" in digits[0]


def test_region_of_interest_limits_reading_and_keeps_coordinates(pipeline):
    left, right = render_lines(["LEFT 111"], size=36), render_lines(["RIGHT 222"], size=36)
    img = np.full((300, 1000, 3), 200, np.uint8)
    img[100 : 100 + left.shape[0], 50 : 50 + left.shape[1]] = left
    img[100 : 100 + right.shape[0], 600 : 600 + right.shape[1]] = right
    assert texts(pipeline.read(img)) == ["LEFT 111", "RIGHT 222"]
    result = pipeline.read(img, options=OcrOptions(roi=(0.5, 0.0, 0.5, 1.0)))
    assert texts(result) == ["RIGHT 222"]
    assert min(p[0] for p in result.lines[0].polygon) >= 500


def test_min_confidence_drops_uncertain_lines(pipeline):
    img = photo_degrade(render_lines(LABEL, size=22), seed=5, blur=2.2, noise=25, jpeg=20)
    everything = pipeline.read(img, options=OcrOptions(min_confidence=0.0))
    strict = pipeline.read(img, options=OcrOptions(min_confidence=0.97))
    assert len(strict.lines) < len(everything.lines)
    assert all(line.confidence >= 0.97 for line in strict.lines)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((480, 640, 3), np.uint8),
        np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8),
    ],
    ids=["black", "noise"],
)
def test_blank_or_noise_image_reads_nothing(pipeline, image):
    assert pipeline.read(image).lines == []


def test_tiny_and_huge_aspect_images_do_not_crash(pipeline):
    for shape in [(1, 1, 3), (3, 4000, 3), (4000, 3, 3)]:
        assert pipeline.read(np.full(shape, 255, np.uint8)).lines == []


# --- what the real-photo work changed (benchmarks/stage_diff.py found each cause on real plates)


def faint_plate(fg: int, size: int = 14) -> np.ndarray:
    """Small, low-contrast plate text in a camera-sized frame, as a car park camera sees it."""
    card = render_lines(["7FR 971"], size=size, fg=(fg, fg, fg), bg=(225, 225, 225), margin=6)
    return photo_degrade(place((720, 1280), card, (600, 400)), seed=2, blur=1.2, noise=4)


@pytest.fixture(scope="module")
def counted(pipeline):
    """The default pipeline's parts; the second opinion's real recogniser counts the lines it reads."""
    from edge_ocr.ocr.pipeline import OcrPipeline
    from edge_ocr.ocr.recognise import TextRecogniser
    from edge_ocr.ocr.second_opinion import SecondOpinion

    class Counting(TextRecogniser):
        lines = 0

        def recognise(self, crops, decoder):
            Counting.lines += len(crops)
            return super().recognise(crops, decoder)

    assert pipeline.second is not None, "the default pack names a second opinion in the manifest"
    second = SecondOpinion(
        Counting(pipeline.second.recogniser.sessions), pipeline.second.charset, pipeline.second.name
    )
    p = pipeline
    return OcrPipeline(p.detector, p.recogniser, p.classifier, p.charset, p.options, second), Counting


def with_settings(detector, **changes):
    """The same loaded detector (model, normalisation) with some settings changed."""
    other = copy.copy(detector)
    other.settings = replace(detector.settings, **changes)
    return other


def test_faint_small_text_is_found_by_the_detector(pipeline):
    from edge_ocr.ocr.db_postprocess import DBParams

    img = faint_plate(200)
    assert pipeline.detector.detect(img).quads, "PP-OCRv6's own DB thresholds find faint text"
    before = DBParams(thresh=0.3, box_thresh=0.6, unclip_ratio=1.5, dilate=True)  # the v4 values
    old = with_settings(pipeline.detector, db=before)
    assert not old.detect(img).quads  # what the earlier thresholds lost


def test_lines_thinner_than_the_floor_are_not_boxed(pipeline):
    img = place((300, 600), render_lines(["DOCK 12"], size=24), (100, 100))
    (quad,) = pipeline.detector.detect(img).quads
    thickness = float(np.linalg.norm(quad[0] - quad[3]))
    detector = with_settings(pipeline.detector, min_line_px=thickness + 1)
    assert detector.detect(img).quads == []


def test_unsure_lines_get_the_second_opinion_and_the_surer_reading_wins(counted):
    pipeline, sessions = counted
    img = faint_plate(150)
    alone = pipeline.read(img, options=OcrOptions(second_opinion_below=0.0))
    assert sessions.lines == 0  # nobody is unsure below 0: no re-read
    assert texts(alone) != ["7FR 971"] and alone.lines[0].confidence < 0.98
    helped = pipeline.read(img)
    assert sessions.lines == 1
    assert texts(helped) == ["7FR 971"]
    assert helped.lines[0].confidence > alone.lines[0].confidence
    assert "second_opinion" in helped.timings_ms


def test_lines_at_or_above_the_threshold_are_not_read_twice(counted):
    pipeline, sessions = counted
    first = pipeline.read(render_lines(LABEL), options=OcrOptions(second_opinion_below=0.0))
    floor = min(line.confidence for line in first.lines)
    before = sessions.lines
    result = pipeline.read(render_lines(LABEL), options=OcrOptions(second_opinion_below=floor))
    assert texts(result) == LABEL
    assert sessions.lines == before
    pipeline.read(render_lines(LABEL), options=OcrOptions(second_opinion_below=1.0))
    assert sessions.lines == before + len(LABEL)


def test_second_opinion_keeps_the_allow_list(counted):
    pipeline, sessions = counted
    before = sessions.lines
    result = pipeline.read(faint_plate(150), options=OcrOptions(allowlist="0-9"))
    assert sessions.lines > before  # the second opinion was asked, under the same allow-list
    assert all(set(line.text) <= set("0123456789 ") for line in result.lines)


def test_a_flip_the_recogniser_disagrees_with_is_undone(pipeline):
    from edge_ocr.ocr.classify import OrientationClassifier
    from edge_ocr.ocr.pipeline import OcrPipeline

    class AlwaysUpsideDown:
        """The classifier's model, wrong on purpose: every line 'upside down' (as it was on plates)."""

        input_shape = pipeline.classifier.session.input_shape

        def __call__(self, batch):
            return np.array([[0.0, 1.0]], np.float32)

    wrong = OrientationClassifier(AlwaysUpsideDown())
    p = pipeline
    turned = OcrPipeline(p.detector, p.recogniser, wrong, p.charset, p.options, p.second)
    result = turned.read(render_lines(LABEL))
    assert texts(result) == LABEL
    assert result.rotation == 0


def test_every_line_goes_through_the_320_bucket(pipeline):
    assert pipeline.recogniser.widths == [320]  # 160 read short plate lines worse (stage_diff.py)


def test_second_opinion_reads_lines_side_by_side_with_the_same_answers(engine):
    """Two single-thread copies read different lines at once and agree with one recogniser."""
    import threading

    from edge_ocr.ocr.engine import build_second_opinion
    from edge_ocr.ocr.parallel import ParallelRecogniser
    from edge_ocr.ocr.recognise import TextRecogniser
    from edge_ocr.ocr.runtime import tflite_factory

    reader = engine.pipeline.second.recogniser
    assert isinstance(reader, ParallelRecogniser) and len(reader.copies) == 2  # threads = 2
    sessions = [s for copy in reader.copies for s in copy.sessions]
    assert len({id(s) for s in sessions}) == len(sessions)  # no interpreter is shared

    both_in_flight = threading.Barrier(2, timeout=60)

    class Meeting(TextRecogniser):
        """Waits once for the other copy: passes only if the two really run at the same time."""

        met = False

        def read_line(self, crop, decoder):
            if not self.met:
                self.met = True
                both_in_flight.wait()
            return super().read_line(crop, decoder)

    parallel = ParallelRecogniser([Meeting(copy.sessions) for copy in reader.copies])
    crops = [tight_line(text) for text in LABEL * 3]
    decoder = engine.pipeline.second.decoder(None)
    alone = reader.copies[0].recognise(crops, decoder)
    assert parallel.recognise(crops, decoder) == alone
    assert [d.text for d in alone[: len(LABEL)]] == LABEL

    _, open_model = tflite_factory(engine.runtime)
    single = build_second_opinion(engine.second, 1, open_model)
    assert isinstance(single.recogniser, TextRecogniser)  # one thread: one copy, no pool


def test_fine_pass_enlarges_only_as_far_as_thin_lines_need(pipeline):
    """Lines too thin at the coarse scale but thick in the image: the fine pass stops where they
    reach fine_text_px (filling its tiles), not at max_side, and still finds them."""
    label = render_lines(["DOCK 12 BAY 7"], size=12)
    img = place((3000, 4000), label, (1200, 1300), bg=(200, 200, 200))

    class Counting:
        def __init__(self, session):
            self.inner, self.calls = session, 0
            self.input_shape, self.output_shape = session.input_shape, session.output_shape

        def __call__(self, batch):
            self.calls += 1
            return self.inner(batch)

    found = {}
    for name, target in (("to max_side", 1e9), ("as needed", pipeline.detector.settings.fine_text_px)):
        detector = with_settings(pipeline.detector, fine_text_px=target)
        detector.session = Counting(pipeline.detector.session)
        result = detector.detect(img)
        found[name] = (len(result.quads), float(result.passes[-1]), detector.session.calls)
    (n_max, scale_max, calls_max), (n_need, scale_need, calls_need) = found.values()
    assert len(found) == 2 and n_max >= 1 and n_need == n_max, found
    assert scale_need < scale_max and calls_need < calls_max, found


def test_a_line_is_decoded_window_by_window_with_the_same_result(pipeline):
    """Streaming the windows through the decoder gives what decoding the stitched line gives."""
    crop = tight_line("PART NO 4471-AX2 SN 7F3K-22981 QTY 24 EA 12.5 kg LOT 2026-11-22 " * 3)
    rec, dec = pipeline.recogniser, pipeline.decoder(None)
    assert len(list(rec.line_chunks(crop))) > 1  # several windows
    assert rec.read_line(crop, dec) == dec.decode(rec.line_probabilities(crop))


def test_a_strip_far_wider_than_any_line_is_not_read_as_one(tmp_path):
    """A blank 60000x3 PNG once peaked at 3.6 GB (read whole as one line of ~3,000 windows whose
    outputs were all held): read in a child process, its peak RSS stays near the engine's own."""
    import subprocess
    import sys

    strip = tmp_path / "strip.png"
    cv2.imwrite(str(strip), np.full((3, 60000, 3), 255, np.uint8))
    code = (
        "import sys\n"
        "from edge_ocr.cli import main\n"
        "rc = main(['scan', '--no-codes', '--format', 'jsonl', sys.argv[1]])\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print('RSS_MB', int(hwm.split()[1]) // 1024)\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(strip)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    rss = int(out.stdout.rsplit("RSS_MB", 1)[1])
    assert rss < 700, f"peak RSS {rss} MB"
