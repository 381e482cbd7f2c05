"""`edge-ocr preview -o OUT.jpg`: what the device sees, for the person mounting the camera.

One frame from the configured source goes through the daemon's own parts (the source factory, the frame
gate, service.open_engine and the code scanner, reader.read_page) and comes out as an annotated picture
(edge_ocr/annotate.py). Nothing is stored or published, and an inbox file is left where it is.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ocr.annotate import (
    IMAGE_SUFFIXES,
    Overlay,
    annotate,
    gate_view,
    output_problem,
    roi_pixels,
    summary_lines,
    write_image,
)
from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report_error
from edge_ocr.cli.numbers import float_range, int_range, shown
from edge_ocr.cli.run import with_sample_footage
from edge_ocr.cli.state import add_config_argument, load_config
from edge_ocr.config import Config
from edge_ocr.errors import EdgeOcrError
from edge_ocr.gate import Decision, FrameGate, FrameScores
from edge_ocr.results import PageResult
from edge_ocr.sources import EndOfSource, Frame, FrameSource, make_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `preview`."""
    add_config_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        type=picture_path,
        required=True,
        metavar="OUT.jpg",
        help="the picture (.jpg or .png)",
    )
    parser.add_argument(
        "--frames",
        type=int_range(1, 10_000),
        default=1,
        help="pass this many frames through the gate and draw the last (lets a camera settle, and "
        "gives the change score a frame to compare with; default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float_range(0, 3600, above=True),
        default=30.0,
        help="seconds to wait for the frames (default: %(default)s)",
    )


def picture_path(text: str) -> Path:
    """An argparse type: where the picture goes, named .jpg, .jpeg or .png (the format follows the name)."""
    path = Path(text)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{shown(text)}: name the picture .jpg, .jpeg or .png")
    return path


def output_ok(path: Path) -> bool:
    """False, after saying why, when the picture cannot be written (checked before the slow work)."""
    problem = output_problem(path)
    if problem:
        print(f"edge-ocr: {problem}", file=sys.stderr)
    return problem is None


@dataclass
class Grab:
    """The frame to draw, with what the gate measured and decided on it."""

    frame: Frame
    scores: FrameScores
    decision: Decision | None  # None: a document source (images, inbox), never gated
    count: int  # frames read, this one included


class NoFrame(EdgeOcrError):
    """The source opened but gave no frame to draw."""


def grab(source: FrameSource, gate: FrameGate, config: Config, frames: int, timeout_s: float) -> Grab:
    """Read frames through the gate as the daemon's capture loop does; the last one, scored."""
    deadline = time.monotonic() + timeout_s
    last: Grab | None = None
    while last is None or last.count < frames:
        left = deadline - time.monotonic()
        if left <= 0:
            if last is not None:
                return last
            raise NoFrame(f"{source.name}: no frame within {timeout_s:g} s")
        try:
            frame = source.read(min(left, 1.0))
        except EndOfSource:
            if last is not None:
                return last  # a short file: its last frame
            raise NoFrame(f"{source.name}: the source has no frames") from None
        if frame is None:
            continue
        scores = gate.measure(frame.image)  # before check(), which moves the reference frame
        decision = None if config.source.DOCUMENT else gate.check(frame.image)
        last = Grab(frame, scores, decision, (last.count if last else 0) + 1)
    return last


def verdict(gate: FrameGate, grabbed: Grab) -> tuple[str, bool | None]:
    """What the gate decided on the drawn frame, in words, and whether the daemon would read it."""
    d = grabbed.decision
    if d is None:
        return "every page of this source is read (no gate)", None
    return f"{'read' if d.process else 'skipped'} ({d.reason}), trigger {gate.settings.trigger}", d.process


def write_picture(path: Path, image: np.ndarray, overlay: Overlay) -> int:
    """Draw, write and summarise on stdout (shared with `show --image`); 1 when the file cannot be written."""
    try:
        write_image(path, annotate(image, overlay))
    except OSError as exc:
        print(f"edge-ocr: cannot write {path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {path}")
    print("\n".join(summary_lines(overlay)))
    return EXIT_OK


def read_frame(config: Config, frame: Frame) -> PageResult:
    """OCR and codes of the frame with the daemon's parts: service.open_engine, the code scanner."""
    from edge_ocr import service
    from edge_ocr.codes.scanner import CodeScanner
    from edge_ocr.documents import PageImage
    from edge_ocr.reader import read_page

    engine = service.open_engine(config)
    codes = CodeScanner(service.code_options(config)) if config.codes.enabled else None
    try:
        h, w = frame.image.shape[:2]
        t = time.perf_counter()
        result = read_page(
            engine.pipeline if engine else None,
            PageImage(frame.source, frame.page, w, h, frame.image),
            codes=codes,
        )
        result.timings_ms["total"] = (time.perf_counter() - t) * 1000
        return result
    finally:
        if codes is not None:
            codes.close()


def run(args: argparse.Namespace) -> int:
    """Write the picture; 2 for a configuration, source or models that cannot be used; 1 when the picture
    cannot be written, no frame came, or the frame could not be read (the picture says why)."""
    if not output_ok(args.output):
        return EXIT_FAILED
    try:
        config = with_sample_footage(load_config(args))
        source = make_source(config.source)
        source.open()
    except EdgeOcrError as exc:  # ConfigError, SourceError: the message says what to do
        report_error(exc)
        return EXIT_USAGE
    gate = FrameGate(config.gate)
    try:
        grabbed = grab(source, gate, config, args.frames, args.timeout)
    except NoFrame as exc:
        report_error(exc)
        return EXIT_FAILED
    except EdgeOcrError as exc:  # the source failed while reading
        report_error(exc)
        return EXIT_USAGE
    finally:
        source.close()
    frame = grabbed.frame
    h, w = frame.image.shape[:2]
    roi, roi_problem = roi_pixels(config.ocr.roi, w, h)
    notes = [roi_problem] if roi_problem else []
    try:
        result = read_frame(config, frame)
    except EdgeOcrError as exc:  # models, runtime
        report_error(exc)
        return EXIT_USAGE
    except ValueError as exc:  # e.g. a region of interest outside this camera's frame
        result = PageResult(frame.source, frame.page, w, h, text_origin="none")
        notes = [f"not read: {exc}"]
    overlay = Overlay(
        result,
        roi=roi,
        gate=gate_view(gate, grabbed.scores, *verdict(gate, grabbed)),
        heading=[f"{frame.source}  frame {grabbed.count}  {w}x{h}"],
        notes=notes,
    )
    status = write_picture(args.output, frame.image, overlay)
    return EXIT_FAILED if notes else status
