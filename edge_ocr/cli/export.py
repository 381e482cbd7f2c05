"""`edge-ocr export [SCAN_ID...|--since ...]`: stored scans as text, JSON, hOCR, ALTO or searchable PDF."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.numbers import scan_id
from edge_ocr.cli.state import add_state_argument, format_time, parse_time, state_dir
from edge_ocr.errors import StoreError
from edge_ocr.export import FORMATS, ExportError, ExportPage, export
from edge_ocr.store import Store, StoredScan


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `export`."""
    parser.add_argument(
        "scan_ids", nargs="*", type=scan_id, metavar="SCAN_ID", help="scans to export (default: all)"
    )
    parser.add_argument("--since", type=parse_time, help="scans from this time (2026-11-21, 2h, 7d, ...)")
    parser.add_argument("--until", type=parse_time, help="scans before this time")
    parser.add_argument("--source", help="only scans whose source matches (SQL LIKE)")
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("-o", "--output", help="write here (required for pdf); default standard output")
    add_state_argument(parser)


def _pages(store: Store, scans: Iterator[StoredScan]) -> Iterator[ExportPage]:
    for scan in scans:
        jpeg = None
        if scan.image_path:
            path = store.state_dir / scan.image_path
            jpeg = path.read_bytes() if path.is_file() else None
        yield ExportPage(scan.result, jpeg=jpeg, scan_id=scan.id, captured_at=format_time(scan.captured_ms))


def run(args: argparse.Namespace) -> int:
    """Write one document with every selected scan."""
    if args.format == "pdf" and not args.output:
        print("edge-ocr: --format pdf needs -o FILE (a PDF is not written to a terminal)", file=sys.stderr)
        return EXIT_USAGE
    try:
        with Store(state_dir(args), readonly=True) as store:
            if args.scan_ids:
                scans = store.scans_by_ids(args.scan_ids)
                missing = sorted(set(args.scan_ids) - {s.id for s in scans})
                if missing:
                    print(f"edge-ocr: no such scans: {', '.join(map(str, missing))}", file=sys.stderr)
                    return EXIT_FAILED
                selected = iter(scans)
            else:
                selected = store.iter_scans(args.since, args.until, args.source)
            if args.output:
                with open(args.output, "wb") as out:
                    export(_pages(store, selected), args.format, out)
            else:
                export(_pages(store, selected), args.format, sys.stdout.buffer)
                sys.stdout.flush()
    except StoreError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExportError as exc:  # e.g. nothing selected for a PDF or ALTO document
        if args.output:
            Path(args.output).unlink(missing_ok=True)
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"edge-ocr: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
