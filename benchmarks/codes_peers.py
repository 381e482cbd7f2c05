"""Codes side by side, in one run: edge_ocr (zxing-cpp + ZBar merged, retry ladder) vs zxing-cpp alone
(TextMode.Plain, its default options) vs pyzbar alone, on ../shared/eval/qr/* and a generated set
(gen-<degradation> with the field mix of symbologies, and gen-code39ext: Code 39 Full ASCII labels,
lower case and punctuation as +A-style pairs, which zxing-cpp reads as text and ZBar as raw pairs).

    .venv/bin/python benchmarks/codes_peers.py [--quick] [--json bench-out/codes_peers.json]

Per set: read rate, false positives (images without a payload file), median ms per image; then the
targets: edge_ocr reads every image either peer reads, more than the better peer, zero false positives
on falsepositives-1, and its median time at most 1.5x zxing-cpp's on the images zxing-cpp reads.
Every engine gets the same grayscale array; only the decode call is timed; engines alternate per image.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from edge_ocr.code_eval import CodeSample, Decoded, find_code_samples, is_read  # noqa: E402
from edge_ocr.codes import CodeScanner  # noqa: E402
from edge_ocr.documents import decode_image  # noqa: E402

SHARED_QR = REPO.parent / "shared" / "eval" / "qr"
GEN_DIR = REPO / "bench-out" / "data" / "codes-gen"
GEN_COUNT, GEN_SEED = 40, 20261122
GEN_FULL_ASCII = 21  # Code 39 Full ASCII labels: 3 clean and 3 per degradation
# Bump when tests.synth.codes writes different sets, so a cached set is written afresh.
GEN_VERSION = 2  # 2: Code 39 Full ASCII in the mix and in gen-code39ext


def zxing_alone() -> Callable[[np.ndarray], list[Decoded]]:
    """zxing-cpp with its defaults, raw text (TextMode.Plain) as the eval README asks."""
    import zxingcpp

    def read(gray: np.ndarray) -> list[Decoded]:
        found = zxingcpp.read_barcodes(gray, text_mode=zxingcpp.TextMode.Plain)
        return [(b.text, bytes(b.bytes)) for b in found]

    return read


def pyzbar_alone() -> Callable[[np.ndarray], list[Decoded]]:
    """pyzbar.decode with its defaults; its bytes decoded as UTF-8 for the text."""
    from pyzbar import pyzbar

    def read(gray: np.ndarray) -> list[Decoded]:
        out = []
        for d in pyzbar.decode(gray):
            try:
                text = d.data.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            # ZBar reports UPC-A as EAN-13 with a leading zero; count the 12 digits as its answer too.
            if d.type == "EAN13" and text and text.startswith("0"):
                out.append((text[1:], d.data[1:]))
            out.append((text, d.data))
        return out

    return read


def edge_ocr_scanner() -> tuple[Callable[[np.ndarray], list[Decoded]], CodeScanner]:
    """The shipped default CodeScanner."""
    scanner = CodeScanner()

    def read(gray: np.ndarray) -> list[Decoded]:
        return [(c.text, c.data) for c in scanner.scan(gray).codes]

    return read, scanner


def load_sets(quick: bool) -> dict[str, list[CodeSample]]:
    """Shared eval sets (when present) and the generated set, by set name."""
    sets: dict[str, list[CodeSample]] = {}
    if SHARED_QR.is_dir():
        for folder, samples in find_code_samples(sorted(SHARED_QR.iterdir()), all_images=True).items():
            sets[folder.name] = samples
    else:
        print(f"note: {SHARED_QR} not found; measuring the generated set only", file=sys.stderr)
    try:
        from tests.synth.codes import write_code_set, write_symbology_set
    except ImportError as exc:  # segno / python-barcode are test extras
        print(f"note: generated set skipped ({exc}); install .[test]", file=sys.stderr)
    else:
        marker = GEN_DIR / f".made-{GEN_COUNT}-{GEN_SEED}-v{GEN_VERSION}"
        if not marker.exists():
            shutil.rmtree(GEN_DIR, ignore_errors=True)  # file names follow the symbology drawn
            write_code_set(GEN_DIR, GEN_COUNT, GEN_SEED)
            write_symbology_set(GEN_DIR / "gen-code39ext", "Code39Ext", GEN_FULL_ASCII, GEN_SEED)
            marker.touch()
        for folder, samples in find_code_samples(
            sorted(p for p in GEN_DIR.iterdir() if p.is_dir()), True
        ).items():
            sets[folder.name] = samples
    if quick:
        sets = {k: v[:3] for k, v in sets.items()}
    return sets


def gray_of(path: Path) -> np.ndarray:
    """The image as every engine gets it: decoded (EXIF applied), grayscale."""
    image = decode_image(path.read_bytes(), str(path))[0]
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image)


def measure(sets: dict[str, list[CodeSample]]) -> dict:
    """Every engine on every image, alternating; per image: read flag and ms per engine."""
    ours, scanner = edge_ocr_scanner()
    engines = {"edge_ocr": ours, "zxing-cpp": zxing_alone(), "pyzbar": pyzbar_alone()}
    rows = []
    for name, samples in sets.items():
        for sample in samples:
            gray = gray_of(sample.image)
            row = {"set": name, "image": sample.image.name, "has_code": sample.has_code}
            for engine, read in engines.items():
                t = time.perf_counter()
                decoded = read(gray)
                row[engine + "_ms"] = (time.perf_counter() - t) * 1000
                row[engine] = is_read(decoded, sample) if sample.has_code else bool(decoded)
                # symbols other than the expected one (misreads on the generated, one-code images)
                row[engine + "_other"] = (
                    sum(not is_read([d], sample) for d in decoded) if sample.has_code else 0
                )
            rows.append(row)
    scanner.close()
    return {"engines": list(engines), "rows": rows}


def summarise(data: dict) -> dict:
    """Per-set and overall tables plus the target checks."""
    engines, rows = data["engines"], data["rows"]
    sets: dict[str, dict] = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        rs = [r for r in rows if r["set"] == name]
        coded = [r for r in rs if r["has_code"]]
        free = [r for r in rs if not r["has_code"]]
        sets[name] = {
            "images": len(rs),
            **{
                e: {
                    "read": sum(r[e] for r in coded),
                    "of": len(coded),
                    "false_positives": sum(r[e] for r in free),
                    "ms_median": round(statistics.median(r[e + "_ms"] for r in rs), 1),
                }
                for e in engines
            },
        }
    coded = [r for r in rows if r["has_code"]]
    union = [r for r in coded if r["zxing-cpp"] or r["pyzbar"]]
    zx_ok = [r for r in coded if r["zxing-cpp"]]
    fp_set = [r for r in rows if r["set"] == "falsepositives-1"]
    ratio = (
        statistics.median(r["edge_ocr_ms"] for r in zx_ok)
        / statistics.median(r["zxing-cpp_ms"] for r in zx_ok)
        if zx_ok
        else None
    )
    totals = {e: sum(r[e] for r in coded) for e in engines}
    checks = {
        "images_with_code": len(coded),
        "read": totals,
        "either_peer_reads": len(union),
        "peer_reads_edge_ocr_misses": [f"{r['set']}/{r['image']}" for r in union if not r["edge_ocr"]],
        "edge_ocr_beyond_best_peer": totals["edge_ocr"] - max(totals["zxing-cpp"], totals["pyzbar"]),
        "false_positives_falsepositives_1": {e: sum(r[e] for r in fp_set) for e in engines},
        "false_positives_all_codefree": {e: sum(r[e] for r in rows if not r["has_code"]) for e in engines},
        "misreads_generated": {
            e: sum(r[e + "_other"] for r in rows if r["set"].startswith("gen-")) for e in engines
        },
        "median_ms_where_zxing_reads": {
            e: round(statistics.median(r[e + "_ms"] for r in zx_ok), 2) for e in engines
        }
        if zx_ok
        else None,
        "time_ratio_vs_zxing": round(ratio, 3) if ratio else None,
    }
    return {"sets": sets, "checks": checks}


def print_table(summary: dict, engines: list[str]) -> None:
    """Markdown table for README/benchmarks README."""
    head = " | ".join(f"{e} read | {e} FP | {e} ms" for e in engines)
    print(f"| set | images | {head} |")
    print("|---|---:|" + "---:|" * (3 * len(engines)))
    for name, s in summary["sets"].items():
        cells = " | ".join(
            f"{s[e]['read']}/{s[e]['of']} | {s[e]['false_positives']} | {s[e]['ms_median']}" for e in engines
        )
        print(f"| {name} | {s['images']} | {cells} |")
    print()
    print(json.dumps(summary["checks"], indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three images per set (a smoke run)")
    parser.add_argument("--json", type=Path, default=REPO / "bench-out" / "codes_peers.json")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    data = measure(load_sets(args.quick))
    summary = summarise(data)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**data, **summary}, indent=1))
    print_table(summary, data["engines"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
