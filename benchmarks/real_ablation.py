"""What each pipeline choice buys on the real photo sets: the default against one change at a time.

Each variant is the default engine with one setting turned back (second opinion off or at
another threshold, PP-OCRv4's DB thresholds, no line classifier, the fine pass always to max_side).
Plates found, receipts word F1 (case-folded), detector tiles run, mean ms per image; in one
process, variants one after another. Development only:

    .venv/bin/python benchmarks/real_ablation.py [--quick] [--variants default no-second-opinion]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    """Run each variant over the real sets and print one row per variant."""
    from ocr_peers import score

    from edge_ocr.documents import iter_file_pages
    from edge_ocr.ocr.engine import load_engine

    table = variants()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--variants", nargs="+", default=list(table), choices=list(table))
    ap.add_argument("--datasets", nargs="+", default=[d for d in REAL if d != "tesseract_docs"])
    args = ap.parse_args()
    datasets = load_all(args.datasets, args.quick)
    if not datasets:
        print("[real_ablation] no real set found (../shared/eval/text); skipped")
        return
    heads = [f"{d.name} ({'found' if METRIC.get(d.name) == 'plates' else 'F1'})" for d in datasets]
    print("| variant | " + " | ".join(heads) + " | detector tiles | mean ms |")
    print("|---|" + "---:|" * (len(datasets) + 2))
    for name in args.variants:
        pipeline = load_engine(table[name]).pipeline
        tiles = pipeline.detector.session = CountingSession(pipeline.detector.session)
        cells, records = [], []
        for ds in datasets:
            images = []
            for path, truth in ds.items:
                pages = [p.image for p in iter_file_pages(path)]
                t = time.perf_counter()
                text = "\n".join(pipeline.read(page).text for page in pages)
                images.append(image_record(ds.name, path, (time.perf_counter() - t) * 1000, {}, text, truth))
            s = score(images)
            cells.append(str(s["plates_found"]) if METRIC.get(ds.name) == "plates" else f"{s['f1']:.3f}")
            records += images
        mean_ms = sum(im["ms"] for im in records) / len(records)
        print(f"| {name} | " + " | ".join(cells) + f" | {tiles.calls} | {mean_ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
