"""`edge-ocr show SCAN_ID`: one stored scan in full, as text, JSON, or drawn over its stored frame."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.annotate import Overlay, gate_view, roi_pixels
from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report_error
from edge_ocr.cli.numbers import scan_id
from edge_ocr.cli.preview import output_ok, picture_path, write_picture
from edge_ocr.cli.state import add_config_argument, add_state_argument, format_time, load_config, state_dir
from edge_ocr.config import Config
from edge_ocr.errors import EdgeOcrError, ImageError, StoreError
from edge_ocr.export.text import format_code
from edge_ocr.gate import FrameGate
from edge_ocr.store import Store, StoredScan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `show`."""
    parser.add_argument("scan_id", type=scan_id, metavar="SCAN_ID")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--image",
        type=picture_path,
        metavar="OUT.jpg",
        help="draw the scan over its stored frame (kept when [store] images allows), as `preview` does",
    )
    add_config_argument(parser)
    add_state_argument(parser)


def scan_document(scan: StoredScan) -> dict:
    """The stored scan as JSON: the result's usual shape plus what the store knows."""
    return {
        "scan_id": scan.id,
        "time": format_time(scan.captured_ms),
        "captured_ms": scan.captured_ms,
        "device": scan.device,
        "status": scan.status,
        "error": scan.error,
        "fingerprint": scan.fingerprint,
        "image_path": scan.image_path,
        "thumb_path": scan.thumb_path,
        "seen_count": scan.seen_count,
        "last_seen_ms": scan.last_seen_ms,
        **scan.result.to_dict(),
    }


def format_scan(scan: StoredScan) -> str:
    """A readable page: header facts, lines with confidence, codes."""
    r = scan.result
    out = [
        f"scan #{scan.id}  {format_time(scan.captured_ms)}  device {scan.device}",
        f"source {r.source} (page {r.page}, {r.width}x{r.height}), status {scan.status}"
        + (f": {scan.error}" if scan.error else ""),
    ]
    if scan.seen_count > 1 and scan.last_seen_ms:
        out.append(f"seen {scan.seen_count} times, last at {format_time(scan.last_seen_ms)}")
    if scan.image_path:
        out.append(f"image {scan.image_path} (thumbnail {scan.thumb_path})")
    out.append("")
    out += [f"{line.confidence:5.2f}  {line.text}" for line in r.lines] or ["(no text)"]
    if r.codes:
        out += ["", "codes:"] + [f"  {format_code(c)}" for c in r.codes]
    return "\n".join(out)


def stored_frame(folder: Path, scan: StoredScan) -> np.ndarray:
    """The frame kept with the scan; ImageError saying why there is none."""
    if not scan.image_path:
        raise ImageError(
            f"scan #{scan.id} has no stored image: frames are kept only when [store] images is "
            '"results" or "all" (it was "none" when this scan was read)'
        )
    path = folder / scan.image_path
    image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    if image is None:
        raise ImageError(f"scan #{scan.id}: its stored image {path} is missing or cannot be decoded")
    return image


def draw_stored(args: argparse.Namespace, config: Config, folder: Path, scan: StoredScan) -> int:
    """`show ID --image OUT`: the preview's drawing over the stored frame (scores re-measured on it)."""
    try:
        image = stored_frame(folder, scan)
    except ImageError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_FAILED
    h, w = image.shape[:2]
    gate = FrameGate(config.gate)
    roi, roi_problem = roi_pixels(config.ocr.roi, w, h)
    r = scan.result
    overlay = Overlay(
        r,
        roi=roi,
        roi_note="[ocr] roi now",
        gate=gate_view(
            gate,
            gate.measure(image),
            f"stored as scan #{scan.id}; scores of the stored JPEG",
            None,
            no_change="not kept with a stored frame",
        ),
        heading=[f"scan #{scan.id}  {format_time(scan.captured_ms)}  {r.source} page {r.page}  {w}x{h}"],
        notes=[n for n in (roi_problem, scan.error and f"error: {scan.error}") if n],
    )
    return write_picture(args.image, image, overlay)


def run(args: argparse.Namespace) -> int:
    """Print the scan, or draw it (--image); exit 1 if there is no such scan or no stored frame."""
    config = None
    if args.image is not None or args.config is not None:  # the drawn ROI and thresholds, and the store
        if args.image is not None and not output_ok(args.image):
            return EXIT_FAILED
        try:
            config = load_config(args)
        except EdgeOcrError as exc:
            report_error(exc)
            return EXIT_USAGE
    folder = state_dir(args, config)
    try:
        with Store(folder, readonly=True) as store:
            scan = store.get_scan(args.scan_id)
    except StoreError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if scan is None:
        print(f"edge-ocr: no scan #{args.scan_id} (deleted by retention, or never stored)", file=sys.stderr)
        return EXIT_FAILED
    if args.image is not None:
        return draw_stored(args, config or Config(), folder, scan)
    print(
        json.dumps(scan_document(scan), ensure_ascii=False, indent=2)
        if args.format == "json"
        else format_scan(scan)
    )
    return EXIT_OK
