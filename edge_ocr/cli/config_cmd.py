"""`edge-ocr config check FILE` and `edge-ocr config example`."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from edge_ocr.cli import EXIT_OK, EXIT_USAGE
from edge_ocr.config import load
from edge_ocr.errors import EdgeOcrError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `config`."""
    parser.add_argument("action", choices=("check", "example"))
    parser.add_argument("file", nargs="?", type=Path, help="check: the TOML file")


def example_text() -> str:
    """The committed, commented example with every key and its default."""
    return resources.files("edge_ocr").joinpath("config.example.toml").read_text(encoding="utf-8")


def _warnings(config) -> list[str]:
    """Referenced files that do not exist (not fatal here: they may appear on the device later)."""
    out = []
    for section, key in (
        ("mqtt", "password_file"),
        ("mqtt", "ca_file"),
        ("mqtt", "cert_file"),
        ("mqtt", "key_file"),
    ):
        value = getattr(getattr(config, section), key)
        if value and not Path(value).exists():
            out.append(f"[{section}] {key} = {value!r} does not exist")
    if (
        config.source.kind in ("video", "images", "inbox")
        and config.source.path
        and not Path(config.source.path).exists()
    ):
        out.append(f"[source] path = {config.source.path!r} does not exist")
    return out


def run(args: argparse.Namespace) -> int:
    """Print the example, or check a file: exit 0 when valid, 2 with the key and file named when not."""
    if args.action == "example":
        sys.stdout.write(example_text())
        return EXIT_OK
    if args.file is None:
        print("edge-ocr: config check needs a FILE", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load(args.file)
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for warning in _warnings(config):
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
