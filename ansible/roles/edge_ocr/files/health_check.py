#!/usr/bin/env python3
"""Is the restarted edge-ocr daemon healthy? Installed by the Ansible role (edge_ocr) as
/opt/edge-ocr/health-check.py and run after every restart it makes; standard library only.

Healthy: the unit is active (READY=1 was sent), `edge-ocr status --format json` describes the unit's
current main process (not a status.json left by the previous daemon), that process runs the expected
release (its mapped files come from /opt/edge-ocr/releases/RELEASE) and the expected model pack
(models_dir), and it has read at least --min-frames frames. Polls until --timeout; exit 0 and one
line when healthy, else exit 1 and the reason. A daemon whose every frame fails is reported at once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def main_pid() -> tuple[str, int]:
    out = subprocess.run(
        ["systemctl", "show", "--property=ActiveState,MainPID", "edge-ocr"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return props.get("ActiveState", "?"), int(props.get("MainPID", "0") or 0)


def status(home: str, config: str) -> dict:
    out = subprocess.run(
        [f"{home}/current/bin/edge-ocr", "status", "--config", config, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {"_error": (out.stderr or out.stdout).strip()[-300:]}


def runs_release(pid: int, release_dir: str) -> bool:
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as fh:
            return any(release_dir + "/" in line for line in fh)
    except OSError:
        return False


def check(args: argparse.Namespace) -> tuple[bool, bool, str]:
    """(healthy, hopeless, why)"""
    release_dir = os.path.realpath(f"{args.home}/releases/{args.release}")
    models_dir = os.path.realpath(f"{args.home}/models/{args.models}")
    state, pid = main_pid()
    if state != "active" or pid == 0:
        return False, state == "failed", f"the unit is {state}"
    st = status(args.home, args.config)
    if "_error" in st:
        return False, False, f"no status yet: {st['_error']}"
    frames = st.get("frames", {})
    read, failed = frames.get("processed", 0), frames.get("failed", 0)
    if st.get("pid") != pid or not st.get("running"):
        who = f"pid {st.get('pid')}, main pid {pid}"
        return False, False, f"status.json is not from the running daemon ({who})"
    if not runs_release(pid, release_dir):
        return False, True, f"pid {pid} does not run release {args.release} ({release_dir})"
    if st.get("models_dir") != models_dir:
        return False, True, f"the daemon loaded models from {st.get('models_dir')}, not {models_dir}"
    if read < args.min_frames:
        why = f"{read} frames read (at least {args.min_frames} wanted), {failed} failed"
        if st.get("last_error"):
            why += f", last error: {st['last_error']}"
        return False, failed >= 3 and read == 0, why
    return (
        True,
        False,
        (
            f"healthy: pid {pid}, release {args.release}, model pack {args.models}, {read} frames read, "
            f"{failed} failed, mqtt {'connected' if st.get('mqtt_connected') else 'not connected'}"
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", default="/opt/edge-ocr")
    parser.add_argument("--release", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--config", default="/etc/edge-ocr/config.toml")
    parser.add_argument("--min-frames", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout
    while True:
        healthy, hopeless, why = check(args)
        if healthy:
            print(why)
            return 0
        if hopeless or time.monotonic() >= deadline:
            waited = args.timeout - max(deadline - time.monotonic(), 0)
            print(f"health check failed after {waited:.0f} s: {why}")
            return 1
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
