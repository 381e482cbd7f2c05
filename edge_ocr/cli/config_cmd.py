"""`edge-ocr config check FILE` and `edge-ocr config example`."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from edge_ocr.cli import EXIT_OK, EXIT_USAGE, report_error
from edge_ocr.config import load, machine_warnings
from edge_ocr.errors import ConfigError, EdgeOcrError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `config`."""
    parser.add_argument("action", choices=("check", "example", "reference"))
    parser.add_argument("file", nargs="?", type=Path, help="check: the TOML file")


def example_text() -> str:
    """The committed, commented example with every key and its default."""
    return resources.files("edge_ocr").joinpath("config.example.toml").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """Print the example, or check a file: exit 0 when valid, 2 with every problem named when not."""
    if args.action == "example":
        sys.stdout.write(example_text())
        return EXIT_OK
    if args.action == "reference":
        from edge_ocr.config.reference import reference_markdown

        sys.stdout.write(reference_markdown())
        return EXIT_OK
    if args.file is None:
        print("edge-ocr: config check needs a FILE", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load(args.file)
    except ConfigError as exc:
        report_error(exc)
        count = len(exc.problems)
        print(f"edge-ocr: {count} problem{'s' if count > 1 else ''} in {args.file}", file=sys.stderr)
        return EXIT_USAGE
    except EdgeOcrError as exc:
        report_error(exc)
        return EXIT_USAGE
    for warning in machine_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)
    m = config.mqtt
    broker = (
        f"{m.host}:{m.port or (8883 if m.tls else 1883)}{' (TLS)' if m.tls else ''}" if m.enabled else "off"
    )
    print(
        f"ok: {args.file}: device {config.device_id}, source {config.source.kind}, "
        f"trigger {config.gate.trigger}, mqtt {broker}, images {config.store.images}"
    )
    return EXIT_OK
