"""Soak: the daemon on looping footage for N minutes; RSS over time and frames processed per minute.

    .venv/bin/python benchmarks/soak.py --minutes 30 [--interval 10]

Runs `edge-ocr run` as a subprocess on the bundled footage (looping, as fast as it goes, MQTT off),
samples VmRSS from /proc every --interval seconds and the daemon's status.json, and reports RSS after
warm-up (the first 20% of the run, at least 2 minutes) against the end: target growth <= 5%.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOOTAGE = REPO / "edge_ocr" / "samples" / "footage.avi"


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out" / "soak.json")
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="soak-", dir=REPO / "bench-out"))
    config = state / "soak.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{FOOTAGE}"\nrealtime = false\nloop = true\n'
        "[gate]\nrepeat_window_s = 5.0\n[service]\nstatus_interval_s = 5.0\n"
    )
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "edge-ocr"), "run", "--config", str(config), "--state-dir", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=open(state / "daemon.log", "w"),  # noqa: SIM115
    )
    samples = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(args.interval)
            if proc.poll() is not None:
                raise SystemExit(f"the daemon exited with {proc.returncode}; see {state / 'daemon.log'}")
            try:
                status = json.loads((state / "status.json").read_text())
            except (OSError, ValueError):
                status = {}
            frames = status.get("frames", {})
            samples.append(
                {
                    "t_s": round(time.monotonic() - start, 1),
                    "rss_mb": round(rss_mb(proc.pid), 1),
                    "processed": frames.get("processed", 0),
                    "captured": frames.get("captured", 0),
                }
            )
            print(json.dumps(samples[-1]), flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    total = samples[-1]["t_s"]
    warm = max(120.0, 0.2 * total)
    after = [s for s in samples if s["t_s"] >= warm] or samples
    base = statistics.median(s["rss_mb"] for s in after[: max(1, len(after) // 10)])
    end = statistics.median(s["rss_mb"] for s in after[-max(1, len(after) // 10) :])
    growth = (end - base) / base * 100
    minutes = (samples[-1]["t_s"] - samples[0]["t_s"]) / 60
    fpm_read = (samples[-1]["processed"] - samples[0]["processed"]) / minutes
    fpm_captured = (samples[-1]["captured"] - samples[0]["captured"]) / minutes
    summary = {
        "minutes": round(total / 60, 1),
        "rss_after_warmup_mb": round(base, 1),
        "rss_end_mb": round(end, 1),
        "rss_max_mb": max(s["rss_mb"] for s in samples),
        "growth_after_warmup_pct": round(growth, 2),
        "frames_read_per_min": round(fpm_read, 1),
        "frames_captured_per_min": round(fpm_captured, 1),
        "exit_code": proc.returncode,
    }
    args.out.write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
