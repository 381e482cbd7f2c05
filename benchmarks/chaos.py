"""The daemon under faults for N minutes: files into its inbox (some written across a SIGKILL), random
SIGKILLs of the daemon and of mosquitto, the state disk filled and freed; then every invariant checked
(each file read once and in done/, every scan published with no seq gap, the database intact). The
short run is tests/test_chaos.py; this is the long one, in rounds of --round-minutes with new seeds:

    .venv/bin/python benchmarks/chaos.py --minutes 20 [--seed 1] [--round-minutes 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos_run import ChaosReport, run_chaos

# the report's counters, summed over rounds
TOTALS = tuple(f.name for f in fields(ChaosReport) if f.type == "int")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--round-minutes", type=float, default=5.0, help="one daemon, broker and store per round")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", type=Path, default=Path("bench-out/chaos.json"))
    args = ap.parse_args()
    end = time.monotonic() + args.minutes * 60
    rounds, failed = [], 0
    seed = args.seed
    while time.monotonic() < end:
        seconds = min(args.round_minutes * 60, end - time.monotonic())
        work = Path(tempfile.mkdtemp(prefix=f"chaos-{seed}-"))
        report = run_chaos(seconds, seed, work)  # its folder removed unless something failed
        rounds.append({"seed": seed, **report.__dict__})
        failed += bool(report.problems)
        print(f"round seed {seed}: {report.summary()}", flush=True)
        if report.problems:
            print(f"  kept for a look: {work}", flush=True)
        seed += 1
    totals = {k: sum(r[k] for r in rounds) for k in TOTALS}
    totals["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)
    totals["rounds"], totals["rounds_with_problems"] = len(rounds), failed
    print("totals: " + json.dumps(totals))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"totals": totals, "rounds": rounds}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
