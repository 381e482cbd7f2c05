"""Compare two `edge-ocr scan --format jsonl` outputs of the same files: x86 against aarch64.

Same pages in the same order; per page the same size, rotation and text origin; the same lines
(text identical, in order) with every polygon corner within --box-px and every confidence within
--conf; the same codes (symbology, text, bytes, readers, orientation) with corners within
--box-px. Prints one line per page, every difference found, and the largest box and confidence
differences; exits 1 when anything differs beyond the tolerances.

    python -m tests.arm.compare_scans X86.jsonl ARM.jsonl [--box-px 1] [--conf 0.03] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PAGE_FIELDS = ("width", "height", "rotation", "text_origin")
CODE_FIELDS = ("symbology", "text", "bytes_b64", "readers", "orientation", "content_type")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def corner_diff(a: list, b: list) -> float | None:
    """Largest coordinate difference between two polygons, None when their corner counts differ."""
    if len(a) != len(b):
        return None
    return max((abs(p - q) for pa, pb in zip(a, b) for p, q in zip(pa, pb)), default=0.0)


class Comparison:
    def __init__(self, box_px: float, conf: float) -> None:
        self.box_px = box_px
        self.conf = conf
        self.problems: list[str] = []
        self.max_box = 0.0
        self.max_conf = 0.0
        self.lines = 0
        self.codes = 0

    def polygon(self, where: str, a: list, b: list) -> None:
        diff = corner_diff(a, b)
        if diff is None:
            self.problems.append(f"{where}: {len(a)} corners vs {len(b)}")
            return
        self.max_box = max(self.max_box, diff)
        if diff > self.box_px:
            self.problems.append(f"{where}: box differs by {diff:.2f} px (> {self.box_px}): {a} vs {b}")

    def page(self, a: dict, b: dict) -> None:
        where = f"{a['source']} p{a['page']}"
        for key in PAGE_FIELDS:
            if a.get(key) != b.get(key):
                self.problems.append(f"{where}: {key} {a.get(key)!r} vs {b.get(key)!r}")
        texts_a = [line["text"] for line in a["lines"]]
        texts_b = [line["text"] for line in b["lines"]]
        if texts_a != texts_b:
            self.problems.append(f"{where}: lines differ:\n    x86: {texts_a}\n    arm: {texts_b}")
        else:
            for i, (la, lb) in enumerate(zip(a["lines"], b["lines"])):
                self.lines += 1
                diff = abs(la["confidence"] - lb["confidence"])
                self.max_conf = max(self.max_conf, diff)
                if diff > self.conf:
                    self.problems.append(
                        f"{where} line {i} {la['text']!r}: confidence {la['confidence']} vs "
                        f"{lb['confidence']} (> {self.conf})"
                    )
                self.polygon(f"{where} line {i} {la['text']!r}", la["polygon"], lb["polygon"])
        keys_a = [tuple(str(c.get(k)) for k in CODE_FIELDS) for c in a["codes"]]
        keys_b = [tuple(str(c.get(k)) for k in CODE_FIELDS) for c in b["codes"]]
        if keys_a != keys_b:
            self.problems.append(f"{where}: codes differ:\n    x86: {keys_a}\n    arm: {keys_b}")
        else:
            for ca, cb in zip(a["codes"], b["codes"]):
                self.codes += 1
                self.polygon(f"{where} code {ca['symbology']} {ca['text']!r}", ca["polygon"], cb["polygon"])

    def run(self, x86: list[dict], arm: list[dict]) -> None:
        ids_a = [(p["source"], p["page"]) for p in x86]
        ids_b = [(p["source"], p["page"]) for p in arm]
        if ids_a != ids_b:
            self.problems.append(f"pages differ:\n    x86: {ids_a}\n    arm: {ids_b}")
        if not x86:
            self.problems.append("no pages to compare")
        by_id = dict(zip(ids_b, arm))
        for page in x86:
            other = by_id.get((page["source"], page["page"]))
            if other is not None:
                before = len(self.problems)
                self.page(page, other)
                status = "same" if len(self.problems) == before else "DIFFERENT"
                print(
                    f"  {status:9} {page['source']} p{page['page']}: {len(page['lines'])} lines, "
                    f"{len(page['codes'])} codes; x86 {page['timings_ms'].get('total', 0) / 1000:.1f} s, "
                    f"arm {other['timings_ms'].get('total', 0) / 1000:.1f} s (emulated)"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("x86", type=Path)
    parser.add_argument("arm", type=Path)
    parser.add_argument("--box-px", type=float, default=1.0, help="largest corner difference allowed")
    parser.add_argument("--conf", type=float, default=0.03, help="largest confidence difference allowed")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    cmp = Comparison(args.box_px, args.conf)
    print(f"comparing {args.x86} (x86_64) with {args.arm} (aarch64):")
    cmp.run(read_jsonl(args.x86), read_jsonl(args.arm))
    print(
        f"  {cmp.lines} lines and {cmp.codes} codes compared; max box diff {cmp.max_box:.2f} px "
        f"(allowed {args.box_px}), max confidence diff {cmp.max_conf:.4f} (allowed {args.conf})"
    )
    for problem in cmp.problems:
        print(f"  DIFF: {problem}")
    if args.json:
        figures = {
            "lines": cmp.lines,
            "codes": cmp.codes,
            "max_box_px": round(cmp.max_box, 3),
            "max_conf": round(cmp.max_conf, 4),
            "problems": cmp.problems,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    print("  result: " + ("identical within the tolerances" if not cmp.problems else "DIFFERENT"))
    return 1 if cmp.problems else 0


if __name__ == "__main__":
    sys.exit(main())
