"""What each retry-ladder step buys: on every image where the first pass (both readers) reads nothing,
run each step alone and record the images it rescues, its cost, and any false positive.

    .venv/bin/python benchmarks/codes_ladder.py [--quick]

Same sets as codes_peers.py. "rescued" counts images whose expected payload the step alone decodes;
"only" those no other step rescues; ms is the step's median cost per failed frame (its variants read
by both readers). The default ladder order in edge_ocr/codes/scanner.py follows this table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from codes_peers import gray_of, load_sets  # noqa: E402

from edge_ocr.code_eval import is_read  # noqa: E402
from edge_ocr.codes import CodeOptions, CodeScanner  # noqa: E402
from edge_ocr.codes.ladder import STEPS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, default=REPO / "bench-out" / "codes_ladder.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    scanner = CodeScanner(CodeOptions(retry_steps=()))
    steps = {name: CodeScanner(CodeOptions(retry_steps=(name,), retry_budget_ms=1e9)) for name in STEPS}
    stats = {name: {"rescued": set(), "ms": [], "false_positives": 0} for name in STEPS}
    failed_frames = first_pass_ms = 0
    first_ms: list[float] = []
    for set_name, samples in load_sets(args.quick).items():
        for sample in samples:
            gray = gray_of(sample.image)
            t = time.perf_counter()
            first = scanner.scan(gray).codes
            first_ms.append((time.perf_counter() - t) * 1000)
            if first:
                continue
            failed_frames += 1
            key = f"{set_name}/{sample.image.name}"
            for name, step_scanner in steps.items():
                t = time.perf_counter()
                codes = step_scanner.scan(gray).codes
                stats[name]["ms"].append((time.perf_counter() - t) * 1000 - first_ms[-1])
                decoded = [(c.text, c.data) for c in codes]
                if sample.has_code and is_read(decoded, sample):
                    stats[name]["rescued"].add(key)
                elif not sample.has_code and decoded:
                    stats[name]["false_positives"] += 1
    first_pass_ms = statistics.median(first_ms)
    rows = []
    for name, s in stats.items():
        others = set().union(*(o["rescued"] for n, o in stats.items() if n != name))
        ms = statistics.median(s["ms"]) if s["ms"] else 0.0
        rows.append(
            {
                "step": name,
                "rescued": len(s["rescued"]),
                "only": len(s["rescued"] - others),
                "ms_median": round(ms, 1),
                "rescued_per_10ms": round(10 * len(s["rescued"]) / ms, 2) if ms > 0 else None,
                "false_positives": s["false_positives"],
                "images": sorted(s["rescued"]),
            }
        )
    rows.sort(key=lambda r: -(r["rescued_per_10ms"] or 0))
    print(f"frames where the first pass read nothing: {failed_frames}")
    print(f"first pass median: {first_pass_ms:.1f} ms")
    print("| step | rescued | only this step | ms per failed frame | rescued per 10 ms | false positives |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['step']} | {r['rescued']} | {r['only']} | {r['ms_median']} | "
            f"{r['rescued_per_10ms']} | {r['false_positives']} |"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"failed_frames": failed_frames, "steps": rows}, indent=1))
    scanner.close()
    for s in steps.values():
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
