"""`edge-ocr store status|prune`: the store's health, and retention applied now."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from edge_ocr.cli import EXIT_OK, EXIT_USAGE
from edge_ocr.cli.numbers import MAX_AGE_DAYS, float_range
from edge_ocr.cli.state import add_config_argument, add_state_argument, format_time, load_config, state_dir
from edge_ocr.errors import EdgeOcrError
from edge_ocr.service import store_settings
from edge_ocr.store import Store

MAX_MB = 1e9  # as the configuration's store.max_mb


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `store`."""
    parser.add_argument("action", nargs="?", choices=("status", "prune"), default="status")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--max-age-days",
        type=float_range(0, MAX_AGE_DAYS, above=True),
        help="prune: delete scans older than this (default: the configured cap)",
    )
    parser.add_argument(
        "--max-mb",
        type=float_range(1, MAX_MB),
        help="prune: delete the oldest scans until database + images fit (default: the configured cap)",
    )
    add_config_argument(parser)
    add_state_argument(parser)


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB"


def run(args: argparse.Namespace) -> int:
    """Print the status, or prune and print what went."""
    try:
        if args.action == "prune":
            # The configured retention (age, size, outbox policy), with the flags given overriding it.
            config = load_config(args)
            settings = store_settings(config)
            policy = settings.retention
            if args.max_age_days is not None:
                policy = replace(policy, max_age_days=args.max_age_days)
            if args.max_mb is not None:
                policy = replace(policy, max_bytes=int(args.max_mb * 1048576))
            with Store(state_dir(args, config), replace(settings, retention=policy)) as store:
                done = store.enforce_retention()
            print(
                json.dumps(done) if args.format == "json" else "\n".join(f"{k}: {v}" for k, v in done.items())
            )
            return EXIT_OK
        with Store(state_dir(args), readonly=True) as store:
            status = store.status()
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(status.to_dict(), indent=2))
        return EXIT_OK
    oldest = format_time(status.oldest_unsent_ms) if status.oldest_unsent_ms else "-"
    print(f"store         {state_dir(args)} (schema {status.schema_version})")
    print(f"scans         {status.scans} ({status.lines} lines, {status.codes} codes)")
    print(f"outbox        {status.outbox_unsent} unsent (oldest {oldest}), {status.outbox_sent} sent")
    print(f"size          database {_mib(status.db_bytes)}, images {_mib(status.image_bytes)}")
    print(f"disk free     {_mib(status.disk_free_bytes)}")
    for name, value in status.counters.items():
        print(f"{name:<13} {value}")
    return EXIT_OK
