"""`edge-ocr status`: the daemon's health from its state directory (systemd's STATUS= line, and more)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.state import add_config_argument, add_state_argument, load_config, state_dir
from edge_ocr.errors import EdgeOcrError

STALE_S = 60.0  # status.json older than this: the daemon is not running (or hung)
EXIT_NOT_RUNNING = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `status`."""
    add_config_argument(parser)
    add_state_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mqtt_words(status: dict) -> str:
    """Connected with an old error reads as history, not as the present ("connected (lost...)")."""
    error = status.get("mqtt_last_error")
    if status.get("mqtt_connected"):
        return f"connected (since the last failure: {error})" if error else "connected"
    return f"not connected: {error}" if error else "not connected"


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the daemon is running and current, 3 when not (the last known status is still shown)."""
    try:
        folder = state_dir(args, load_config(args))
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    path = folder / "status.json"
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        print(
            f"edge-ocr: no daemon status in {folder} (has `edge-ocr run` been started here?)", file=sys.stderr
        )
        return EXIT_FAILED
    age = time.time() - status.get("updated", 0)
    running = _alive(int(status.get("pid", 0))) and age < STALE_S
    status["running"], status["age_s"] = running, round(age, 1)
    if args.format == "json":
        print(json.dumps(status, indent=2))
    else:
        frames, src, store = status.get("frames", {}), status.get("source", {}), status.get("store", {})
        print(
            f"daemon        {'running' if running else 'NOT RUNNING'} (pid {status.get('pid')}, "
            f"status {age:.0f} s old), device {status.get('device')}"
        )
        print(f"models        {status.get('models_dir')}")
        print(
            f"source        {src.get('name')}: {src.get('reconnects', 0)} reconnects,"
            f" {src.get('stalls', 0)} stalls"
            + (f", last error: {src['last_error']}" if src.get("last_error") else "")
        )
        if src.get("files_failed"):
            print(f"files         {src['files_failed']} could not be read, the last: {src.get('file_error')}")
        print(
            f"frames        {status.get('fps', 0)} fps; " + ", ".join(f"{k} {v}" for k, v in frames.items())
        )
        print("gate          " + (", ".join(f"{k} {v}" for k, v in status.get("gate", {}).items()) or "-"))
        print(f"outbox        {store.get('outbox_unsent', '?')} unsent; mqtt {_mqtt_words(status)}")
        print(
            f"store         {store.get('scans', '?')} scans, disk free "
            f"{store.get('disk_free_bytes', 0) / 1048576:.0f} MiB"
            + (", DISK FULL" if store.get("disk_full") else "")
        )
        if status.get("last_error"):
            print(f"last error    {status['last_error']}")
    return EXIT_OK if running else EXIT_NOT_RUNNING
