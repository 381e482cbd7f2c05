"""`edge-ocr search QUERY`: find stored lines and code payloads; newest first."""

from __future__ import annotations

import argparse
import json
import sys

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.numbers import int_range
from edge_ocr.cli.state import add_state_argument, format_time, parse_time, state_dir
from edge_ocr.errors import StoreError
from edge_ocr.store import Store
from edge_ocr.store.search import KINDS, MARK_END, MARK_START, search

SOURCE_WIDTH = 30  # the source column of the table
MAX_LIMIT = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `search`."""
    parser.add_argument(
        "query", nargs="+", help='words (all must match one line), "a phrase", prefix*, OR between terms'
    )
    parser.add_argument(
        "--since", type=parse_time, help="from this time: 2026-11-21, 2026-11-21T14:30, or 2h/7d ago"
    )
    parser.add_argument("--until", type=parse_time, help="before this time (same forms as --since)")
    parser.add_argument("--source", help="only scans whose source matches (SQL LIKE: %% is a wildcard)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--codes", action="store_true", help="search code payloads only")
    kind.add_argument("--text", action="store_true", help="search text lines only")
    parser.add_argument(
        "--limit", type=int_range(1, MAX_LIMIT), default=20, help="at most this many hits (default: 20)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_state_argument(parser)


def _mark(text: str, tty: bool) -> str:
    start, end = ("\x1b[1;33m", "\x1b[0m") if tty else ("[", "]")
    return text.replace(MARK_START, start).replace(MARK_END, end)


def fit_path(path: str, width: int = SOURCE_WIDTH) -> str:
    """A path cut to `width` characters from the left at a separator, `…/samples/footage.avi`, so no
    name is shown in part; when even the last name does not fit, the ellipsis and the end of it."""
    if len(path) <= width:
        return path
    tail = path[len(path) - width + 1 :]  # room for the ellipsis
    separators = [i for i, ch in enumerate(tail[:-1]) if ch in "/\\"]
    return "…" + tail[separators[0] if separators else 0 :]


def run(args: argparse.Namespace) -> int:
    """Print the hits; exit 1 when there are none (like grep), 2 on errors."""
    kinds = ("code",) if args.codes else ("text",) if args.text else KINDS
    try:
        with Store(state_dir(args), readonly=True) as store:
            hits = search(
                store,
                " ".join(args.query),
                since_ms=args.since,
                until_ms=args.until,
                source=args.source,
                kinds=kinds,
                limit=args.limit,
            )
    except StoreError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        rows = [
            {
                "scan_id": h.scan_id,
                "time": format_time(h.captured_ms),
                "captured_ms": h.captured_ms,
                "source": h.source,
                "kind": h.kind,
                "symbology": h.symbology,
                "text": h.text,
                "highlighted": _mark(h.highlighted, False),
            }
            for h in hits
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        tty = sys.stdout.isatty()
        for h in hits:
            kind = f"[{h.symbology}] " if h.kind == "code" else ""
            where = f"{format_time(h.captured_ms)}  {fit_path(h.source):<{SOURCE_WIDTH}}  #{h.scan_id:<7}"
            print(f"{where} {kind}{_mark(h.highlighted, tty)}")
    return EXIT_OK if hits else EXIT_FAILED
