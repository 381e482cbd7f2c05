"""`edge-ocr show SCAN_ID`: one stored scan in full."""

from __future__ import annotations

import argparse
import json
import sys

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.numbers import scan_id
from edge_ocr.cli.state import add_state_argument, format_time, state_dir
from edge_ocr.errors import StoreError
from edge_ocr.export.text import format_code
from edge_ocr.store import Store, StoredScan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `show`."""
    parser.add_argument("scan_id", type=scan_id, metavar="SCAN_ID")
    parser.add_argument("--format", choices=("text", "json"), default="text")
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


def run(args: argparse.Namespace) -> int:
    """Print the scan; exit 1 if there is no such scan."""
    try:
        with Store(state_dir(args), readonly=True) as store:
            scan = store.get_scan(args.scan_id)
    except StoreError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if scan is None:
        print(f"edge-ocr: no scan #{args.scan_id} (deleted by retention, or never stored)", file=sys.stderr)
        return EXIT_FAILED
    print(
        json.dumps(scan_document(scan), ensure_ascii=False, indent=2)
        if args.format == "json"
        else format_scan(scan)
    )
    return EXIT_OK
