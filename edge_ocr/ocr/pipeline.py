"""The OCR pipeline: detect, rotate, crop, classify, recognise, order; one image in, one result out."""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.ocr import defaults
from edge_ocr.ocr.classify import OrientationClassifier
from edge_ocr.ocr.crop import TALL_RATIO, crop_quad
from edge_ocr.ocr.ctc import CTCDecoder, Decoded, DecoderCache
from edge_ocr.ocr.detect import TextDetector
from edge_ocr.ocr.reading_order import reading_order
from edge_ocr.ocr.recognise import TextRecogniser
from edge_ocr.ocr.runtime import release
from edge_ocr.ocr.second_opinion import SecondOpinion
from edge_ocr.results import PageResult, TextLine

# The whole image is tried as one line only up to this aspect ratio: a 60000x3 strip is not a line
# of text (and would cost ~20,000 recogniser windows).
SINGLE_LINE_MAX_RATIO = 50

# cv2 rotation that undoes an input turned clockwise by the key (degrees)
_UNDO = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


@dataclass(frozen=True)
class OcrOptions:
    """What a field user can ask of one read."""

    min_confidence: float = defaults.MIN_CONFIDENCE
    roi: tuple[float, float, float, float] | None = None  # x, y, w, h: pixels, or fractions if all <= 1
    allowlist: str | None = None  # e.g. "0-9A-Z-": constrains the CTC decode itself
    classify: bool = True  # 0/180 line classifier
    detect_rotation: bool = True  # pages turned by 90/270 degrees
    single_line_max_height: int = 160  # images at most this tall and twice as wide may be one line
    second_opinion_below: float = (
        defaults.SECOND_OPINION_BELOW
    )  # lines read less surely than this are re-read (if loaded)


def roi_box(roi: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """Clamp a region of interest (pixels or fractions) to the image; x0, y0, x1, y1."""
    x, y, w, h = roi
    if max(x, y, w, h) <= 1.0:
        x, w = x * width, w * width
        y, h = y * height, h * height
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f"the region of interest {list(roi)} lies outside the {width}x{height} image")
    x0, y0 = int(max(0, min(width - 1, round(x)))), int(max(0, min(height - 1, round(y))))
    x1, y1 = int(max(x0 + 1, min(width, round(x + w)))), int(max(y0 + 1, min(height, round(y + h))))
    return x0, y0, x1, y1


def _unrotate_points(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Map points from the upright working image back to the input turned `rotation` clockwise."""
    x, y = points[:, 0], points[:, 1]
    if rotation == 90:  # input turned CW; upright = input turned CCW; width/height of the input
        return np.stack([width - 1 - y, x], axis=1)
    if rotation == 180:
        return np.stack([width - 1 - x, height - 1 - y], axis=1)
    if rotation == 270:
        return np.stack([y, height - 1 - x], axis=1)
    return points


def _is_tall(quad: np.ndarray) -> bool:
    w = np.linalg.norm(quad[0] - quad[1])
    h = np.linalg.norm(quad[0] - quad[3])
    return h >= w * TALL_RATIO


class OcrPipeline:
    """Stages get their parts through the constructor; `read` is the only entry point."""

    def __init__(
        self,
        detector: TextDetector,
        recogniser: TextRecogniser,
        classifier: OrientationClassifier | None,
        charset: list[str],
        options: OcrOptions = OcrOptions(),
        second: SecondOpinion | None = None,
    ) -> None:
        self.detector = detector
        self.recogniser = recogniser
        self.classifier = classifier
        self.charset = charset
        self.options = options
        self.second = second
        self._decoders = DecoderCache(charset)

    def decoder(self, allowlist: str | None) -> CTCDecoder:
        """CTC decoders are cached per allow-list (building the column index is not free)."""
        if self.second is not None:
            self.second.decoder(allowlist)  # checked for both dictionaries before any read
        return self._decoders.get(allowlist)

    def _page_rotation(self, image: np.ndarray, quads: list[np.ndarray]) -> int:
        """Clockwise turn of a page whose lines mostly run vertically (0 if they do not)."""
        tall = [q for q in quads if _is_tall(q)]
        if len(tall) < 2 or len(tall) < 0.6 * len(quads):
            return 0
        crops = [crop_quad(image, q) for q in tall[:12]]  # tall crops come out turned CCW
        if self.classifier is not None:
            votes = [p >= 0.5 for p in self.classifier.upside_down(crops)]
        else:  # no classifier in this pack: compare recognition confidence both ways
            dec = self.decoder(None)
            up = self.recogniser.recognise(crops, dec)
            down = self.recogniser.recognise([c[::-1, ::-1] for c in crops], dec)
            votes = [d.confidence > u.confidence for u, d in zip(up, down)]
        return 270 if sum(votes) > len(votes) / 2 else 90

    def read(
        self, image: np.ndarray, source: str = "", page: int = 1, options: OcrOptions | None = None
    ) -> PageResult:
        """Read all text lines of a BGR image; polygons come back in the image's own pixels."""
        opts = options or self.options
        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        full_h, full_w = image.shape[:2]
        x0, y0 = 0, 0
        region = image
        if opts.roi is not None:
            x0, y0, x1, y1 = roi_box(opts.roi, full_w, full_h)
            region = image[y0:y1, x0:x1]
        reg_h, reg_w = region.shape[:2]

        t = time.perf_counter()
        detection = self.detector.detect(region)
        quads, rotation = detection.quads, 0
        if opts.detect_rotation and quads:
            rotation = self._page_rotation(region, quads)
        work = region
        if rotation:
            work = cv2.rotate(region, _UNDO[rotation])
            quads = self.detector.detect(work).quads
        timings["detect"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        crops = [crop_quad(work, q) for q in quads]
        flipped = [False] * len(crops)
        if opts.classify and self.classifier is not None and crops:
            crops, flipped = self.classifier.make_upright(crops)
        timings["classify"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        decoder = self.decoder(opts.allowlist)
        decoded = self.recogniser.recognise(crops, decoder) if crops else []
        self._verify_flips(crops, decoded, flipped, decoder)
        detected = quads
        quads, decoded = self._single_line(work, quads, decoded, decoder, opts)
        if quads is not detected:
            crops, flipped = [work], [False]
        timings["recognise"] = (time.perf_counter() - t) * 1000
        self._release_first_reading()

        if self.second is not None and crops:
            t = time.perf_counter()
            decoded = self.second.improve(crops, decoded, opts.second_opinion_below, opts.allowlist)
            timings["second_opinion"] = (time.perf_counter() - t) * 1000

        # most lines upside down: the page itself is turned 180 degrees; read it in that order
        work_h, work_w = work.shape[:2]
        upside_down = opts.detect_rotation and len(flipped) >= 2 and sum(flipped) > len(flipped) / 2
        frame = [_unrotate_points(q, 180, work_w, work_h) for q in quads] if upside_down else quads
        lines = []
        for i in reading_order(frame):
            if not decoded[i].text or decoded[i].confidence < opts.min_confidence:
                continue
            quad = np.roll(quads[i], 2, axis=0) if i < len(flipped) and flipped[i] else quads[i]
            pts = _unrotate_points(quad, rotation, reg_w, reg_h) + np.array([x0, y0], dtype=np.float32)
            polygon = tuple((float(px), float(py)) for px, py in pts)
            lines.append(TextLine(decoded[i].text, decoded[i].confidence, polygon))
        timings["total"] = (time.perf_counter() - t_start) * 1000
        reported = (rotation + 180) % 360 if upside_down else rotation
        return PageResult(source, page, full_w, full_h, lines, timings, reported)

    def _release_first_reading(self) -> None:
        """On-demand models (low-memory mode) drop their interpreters before the second opinion loads."""
        for session in (*self.recogniser.sessions, *([self.classifier.session] if self.classifier else [])):
            release(session)

    def _verify_flips(
        self, crops: list[np.ndarray], decoded: list[Decoded], flipped: list[bool], decoder: CTCDecoder
    ) -> None:
        """A flip stands only if the flipped line reads more surely (plates were turned wrongly)."""
        turned = [i for i, f in enumerate(flipped) if f]
        if not turned:
            return
        back = [np.ascontiguousarray(crops[i][::-1, ::-1]) for i in turned]
        for i, crop, again in zip(turned, back, self.recogniser.recognise(back, decoder)):
            if again.confidence > decoded[i].confidence:
                crops[i], decoded[i], flipped[i] = crop, again, False

    def _single_line(
        self,
        work: np.ndarray,
        quads: list[np.ndarray],
        decoded: list[Decoded],
        decoder: CTCDecoder,
        opts: OcrOptions,
    ) -> tuple[list[np.ndarray], list[Decoded]]:
        """A line-shaped image is also read whole; keep that if detection did worse."""
        h, w = work.shape[:2]
        if len(quads) > 1 or h > opts.single_line_max_height or not 2 * h <= w <= SINGLE_LINE_MAX_RATIO * h:
            return quads, decoded
        whole = self.recogniser.recognise([work], decoder)[0]
        best = decoded[0] if decoded else Decoded("", 0.0)
        if whole.text and whole.confidence > best.confidence and len(whole.text) >= len(best.text):
            quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
            return [quad], [whole]
        return quads, decoded
