"""What each pipeline choice buys on the real photo sets: the default against one change at a time.

Each variant is the default engine with one setting turned back (second opinion off or at
another threshold, PP-OCRv4's DB thresholds, no line classifier, the fine pass always to max_side).
Plates found, receipts word F1 (case-folded), detector tiles run, mean ms per image; in one
process, variants one after another. Development only:

    .venv/bin/python benchmarks/real_ablation.py [--quick] [--variants default no-second-opinion]

--borders 12 16 20 24 28 runs each variant once per detector border (the padding around the image:
a framing change that carries no information) and adds a mean and spread row per variant, so a
difference between variants can be told from the set's own sensitivity to framing. low-memory sets
glibc's malloc options for the rest of the process (memory_mode.return_freed_memory): list it last to
time the other variants as they run on a board with more memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import METRIC, REAL, image_record, load_all


def variants() -> dict:
    """Name -> EngineSettings: the default and one change at a time."""
    from edge_ocr.ocr.db_postprocess import DBParams
    from edge_ocr.ocr.detect import DetectorSettings
    from edge_ocr.ocr.engine import EngineSettings
    from edge_ocr.ocr.pipeline import OcrOptions

    base = EngineSettings()
    v4_db = DBParams(thresh=0.3, box_thresh=0.6, unclip_ratio=1.5, max_candidates=1000, dilate=True)
    return {
        "default": base,
        "no-second-opinion": replace(base, second_opinion="none"),
        "second-opinion-below-0.95": replace(base, options=OcrOptions(second_opinion_below=0.95)),
        "second-opinion-below-0.90": replace(base, options=OcrOptions(second_opinion_below=0.90)),
        "v4-db-thresholds": replace(base, detector=DetectorSettings(db=v4_db)),
        "no-classifier": replace(base, options=OcrOptions(classify=False)),
        "fine-pass-to-max-side": replace(base, detector=DetectorSettings(fine_text_px=float("inf"))),
        "low-memory": replace(base, memory="low"),  # 320-pixel detector tiles, one second-opinion copy
    }


class CountingSession:
    """A model session that counts its calls (detector tiles are deterministic; times are not)."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0
        self.input_shape, self.output_shape = inner.input_shape, inner.output_shape

    def __call__(self, batch):
        self.calls += 1
        return self.inner(batch)


def run_variant(settings, datasets: list) -> tuple[list[float], int, float]:
    """One engine over the sets: per set plates found or word F1, detector tiles, mean ms."""
    from ocr_peers import score

    from edge_ocr.documents import iter_file_pages
    from edge_ocr.ocr.engine import load_engine

    pipeline = load_engine(settings).pipeline
    tiles = pipeline.detector.session = CountingSession(pipeline.detector.session)
    values, records = [], []
    for ds in datasets:
        images = []
        for path, truth in ds.items:
            pages = [p.image for p in iter_file_pages(path)]
            t = time.perf_counter()
            text = "\n".join(pipeline.read(page).text for page in pages)
            images.append(image_record(ds.name, path, (time.perf_counter() - t) * 1000, {}, text, truth))
        s = score(images)
        values.append(float(s["plates_found"]) if METRIC.get(ds.name) == "plates" else s["f1"])
        records += images
    return values, tiles.calls, sum(im["ms"] for im in records) / len(records)


def cell(value: float, plates: bool) -> str:
    return f"{value:.0f}" if plates else f"{value:.3f}"


def main() -> None:
    """Run each variant over the real sets and print one row per variant (and border)."""
    table = variants()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--variants", nargs="+", default=list(table), choices=list(table))
    ap.add_argument("--datasets", nargs="+", default=[d for d in REAL if d != "tesseract_docs"])
    ap.add_argument("--borders", nargs="+", type=int, help="detector borders to run each variant at")
    args = ap.parse_args()
    datasets = load_all(args.datasets, args.quick)
    if not datasets:
        print("[real_ablation] no real set found (../shared/eval/text); skipped")
        return
    plates = [METRIC.get(d.name) == "plates" for d in datasets]
    heads = [f"{d.name} ({'found' if p else 'F1'})" for d, p in zip(datasets, plates)]
    print("| variant | " + " | ".join(heads) + " | detector tiles | mean ms |")
    print("|---|" + "---:|" * (len(datasets) + 2))
    for name in args.variants:
        base = table[name]
        runs = []
        for border in args.borders or [None]:
            framed = replace(base.detector, border=border) if border is not None else base.detector
            settings = replace(base, detector=framed)
            values, tiles, mean_ms = run_variant(settings, datasets)
            runs.append(values)
            label = name if border is None else f"{name}, border {border}"
            cells = " | ".join(cell(v, p) for v, p in zip(values, plates))
            print(f"| {label} | {cells} | {tiles} | {mean_ms:.0f} |", flush=True)
        if len(runs) > 1:
            spread = [
                f"{statistics.fmean(col):.{1 if p else 3}f} ± {statistics.pstdev(col):.{1 if p else 3}f}"
                for col, p in zip(zip(*runs), plates)
            ]
            label = f"{name}, mean ± sd over {len(runs)} borders"
            print(f"| {label} | " + " | ".join(spread) + " | | |", flush=True)


if __name__ == "__main__":
    main()
