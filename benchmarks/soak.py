"""Soak: the daemon on looping footage for N minutes; RSS over time and frames processed per minute.

    .venv/bin/python benchmarks/soak.py --minutes 30 [--interval 10] [--mqtt]

Runs `edge-ocr run` as a subprocess on the bundled footage (looping, as fast as it goes), samples
VmRSS from /proc every --interval seconds and the daemon's status.json, and reports RSS after warm-up
(the first 20% of the run, at least 2 minutes) against the end: target growth <= 5%. MQTT is off,
or with --mqtt on, publishing to a local mosquitto (tests/broker.py) with a subscriber counting what
arrives, so the publisher's memory and the outbox depth over time are part of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
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
    parser.add_argument("--mqtt", action="store_true", help="publish to a local mosquitto")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        return soak(args, stack)


def soak(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    state = Path(tempfile.mkdtemp(prefix="soak-", dir=REPO / "bench-out"))
    config = state / "soak.toml"
    text = (
        f'[source]\nkind = "video"\npath = "{FOOTAGE}"\nrealtime = false\nloop = true\n'
        "[gate]\nrepeat_window_s = 5.0\n[service]\nstatus_interval_s = 5.0\n"
    )
    recorder = None
    if args.mqtt:
        from tests.broker import Broker, Recorder

        broker = stack.enter_context(Broker())
        recorder = Recorder.for_broker(broker, ["edge_ocr/+/scan", "edge_ocr/+/code"]).start()
        stack.callback(recorder.stop)
        text += f"[mqtt]\nenabled = true\nport = {broker.port}\nstats_interval_s = 10.0\n"
    config.write_text(text)
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
                    "outbox_unsent": status.get("store", {}).get("outbox_unsent"),
                    "received": len(recorder.messages()) if recorder else None,
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
    if recorder is not None:
        time.sleep(2)  # what the daemon sent while stopping
        final = json.loads((state / "status.json").read_text()).get("store", {})
        summary["mqtt"] = {
            "messages_received": len(recorder.messages()),
            "distinct_message_ids": len({m["message_id"] for m in recorder.payloads_json()}),
            "outbox_unsent_max": max(s["outbox_unsent"] or 0 for s in samples),
            "outbox_unsent_at_stop": final.get("outbox_unsent"),
            "outbox_sent_at_stop": final.get("outbox_sent"),
        }
    args.out.write_text(json.dumps({"summary": summary, "samples": samples}, indent=1))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
