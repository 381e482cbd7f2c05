"""A short `edge-ocr run` under emulation: start the daemon command given after `--`, watch its store
(read-only) until the asset tag's text and its QR code are stored, then stop it with SIGTERM as
systemd would, and require a clean exit (0) within the grace time.

The whole footage (90 frames, ~46 read) takes ~20 s native but many minutes emulated, so the
run stops once what `make demo` searches for is in the store; `edge-ocr search` (also emulated)
must then find it. Exits 1 when the daemon fails, stops early without storing both, or does not
stop cleanly.

    python tests/arm/short_run.py --state-dir DIR [--timeout 900] -- COMMAND...
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

TEXT = "%PUMP STATION%"
CODE = "%assets.example/00417-PS3%"


def stored(db: Path) -> tuple[bool, bool]:
    """Whether the tag's text line and its QR payload are in the store yet."""
    if not db.exists():
        return False, False
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            text = conn.execute("SELECT count(*) FROM lines WHERE text LIKE ?", (TEXT,)).fetchone()[0]
            code = conn.execute("SELECT count(*) FROM codes WHERE text LIKE ?", (CODE,)).fetchone()[0]
    except sqlite3.Error:  # the schema is being created: look again later
        return False, False
    return text > 0, code > 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before giving up")
    parser.add_argument("--grace", type=float, default=120, help="seconds allowed to stop after SIGTERM")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    db = args.state_dir / "edge_ocr.db"
    started = time.monotonic()
    proc = subprocess.Popen(command)
    found = (False, False)
    while proc.poll() is None and time.monotonic() - started < args.timeout:
        found = stored(db)
        if all(found):
            break
        time.sleep(2)
    seen_at = time.monotonic() - started
    stopped_by_us = proc.poll() is None
    if stopped_by_us:
        proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=args.grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        print(f"short-run: the daemon did not stop within {args.grace:.0f} s of SIGTERM: killed")
        return 1
    total = time.monotonic() - started
    found = stored(db)
    frames = {}
    status = args.state_dir / "status.json"
    if status.exists():
        frames = json.loads(status.read_text()).get("frames", {})
    how = "SIGTERM sent" if stopped_by_us else "the daemon ended by itself"
    print(
        f"short-run: text stored {found[0]}, QR stored {found[1]} after {seen_at:.0f} s; {how}; "
        f"exit {rc} after {total:.0f} s; frames {json.dumps(frames)}"
    )
    return 0 if rc == 0 and all(found) else 1


if __name__ == "__main__":
    sys.exit(main())
