"""The `edge-ocr` command: one module per subcommand, dispatched from an explicit table."""

from __future__ import annotations

import argparse
import importlib
import sys

from edge_ocr import __version__

# subcommand -> (module under edge_ocr.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scan", "read text from images, TIFF pages and PDFs"),
    "eval": ("evaluate", "score OCR against ground-truth folders (IMAGE + IMAGE.gt.txt)"),
    "bench": ("bench", "measure this device: model load, per-stage latency, frames per minute"),
    "models": ("models", "list and verify the shipped model packs"),
    "search": ("search", "search stored text and code payloads"),
    "show": ("show", "print one stored scan in full, or draw it over its stored frame (--image)"),
    "export": ("export", "export stored scans as text, JSON, hOCR, ALTO or searchable PDF"),
    "store": ("store_cmd", "the local store: status, retention now"),
    "outbox": ("outbox", "messages waiting for the broker: status, retry, drop"),
    "publish": ("publish", "drain the outbox to the configured MQTT broker until stopped"),
    "run": ("run", "the daemon: capture, read, store, publish (systemd service)"),
    "status": ("status", "the daemon's health from its state directory"),
    "preview": ("preview", "one frame from the configured source, annotated: what the device sees"),
    "config": ("config_cmd", "check a configuration file, or print the commented example"),
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def report_error(exc: Exception) -> None:
    """An error on stderr as `edge-ocr: ...`; a configuration's problems one per line."""
    for line in getattr(exc, "problems", None) or [str(exc)]:
        print(f"edge-ocr: {line}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand's arguments registered."""
    parser = argparse.ArgumentParser(prog="edge-ocr", description="Offline OCR for field devices.")
    parser.add_argument("--version", action="version", version=f"edge-ocr {__version__}")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f"edge_ocr.cli.{module}")
        sub = subs.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(sub)
        sub.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 some inputs failed, 2 usage or setup error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
