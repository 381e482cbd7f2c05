"""`edge-ocr outbox [status|retry|drop --before TIME]`: what waits for the broker, and operator fixes."""

from __future__ import annotations

import argparse
import json
import sys

from edge_ocr.cli import EXIT_OK, EXIT_USAGE
from edge_ocr.cli.state import add_state_argument, format_time, parse_time, state_dir
from edge_ocr.errors import EdgeOcrError
from edge_ocr.store import Store, now_ms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `outbox`."""
    parser.add_argument("action", nargs="?", choices=("status", "retry", "drop"), default="status")
    parser.add_argument("--before", type=parse_time, help="drop: unsent messages created before this time")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_state_argument(parser)


def outbox_counts(store: Store) -> dict:
    """Depth, oldest unsent, and counts by state (waiting, retrying, sent)."""
    rows = store.query(
        "SELECT sum(sent_ms IS NULL AND attempts = 0), sum(sent_ms IS NULL AND attempts > 0),"
        " sum(sent_ms IS NOT NULL) FROM outbox"
    )[0]
    waiting, retrying, sent = (int(v or 0) for v in rows)
    status = store.status()
    oldest = status.oldest_unsent_ms
    return {
        "depth": waiting + retrying,
        "waiting": waiting,
        "retrying": retrying,
        "sent_kept": sent,
        "oldest_unsent": format_time(oldest) if oldest else None,
        "oldest_unsent_age_s": round((now_ms() - oldest) / 1000, 1) if oldest else None,
        "dropped": {k: v for k, v in status.counters.items() if k.startswith("outbox_")},
    }


def run(args: argparse.Namespace) -> int:
    """Show the outbox, or requeue / drop rows."""
    if args.action == "drop" and args.before is None:
        print(
            "edge-ocr: outbox drop needs --before TIME (e.g. --before 2026-11-01 or --before 7d)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        if args.action == "status":
            with Store(state_dir(args), readonly=True) as store:
                counts = outbox_counts(store)
            if args.format == "json":
                print(json.dumps(counts, indent=2))
            else:
                for key, value in counts.items():
                    print(f"{key:<20} {value}")
            return EXIT_OK
        with Store(state_dir(args)) as store:
            if args.action == "retry":
                n = store.retry_outbox()
                print(f"attempt counts and errors reset on {n} unsent messages (all are sent on reconnect)")
            else:
                n = store.drop_outbox(args.before)
                print(f"{n} unsent messages dropped (counted as outbox_dropped_by_operator)")
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
