"""Build settings in one place, so every stage converts, checks and ships with the same numbers."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent
MANIFEST_NAME = "manifest.json"
MAX_SHIPPED_BYTES = 40_000_000
BUILD_VERSION = 2  # bump to invalidate cached conversions in the work dir
THREADS = 2
TIMING_RUNS = 20
TIMING_ROUNDS = 3
DET_SIDE = 640
LINE_H = 48
REC_WIDTHS = (160, 320)
CLS_W = 192
DET_MEAN = (0.485, 0.456, 0.406)
DET_STD = (0.229, 0.224, 0.225)
DET_THRESH = 0.3
CHECK_SEED = 20240601
CALIB_SEED = 777
N_CHECK = {"det": 24, "rec": 40, "cls": 40}
N_CALIB = {"det": 32, "rec": 96, "cls": 96}
ONNX2TF_CALIB = "calibration_image_sample_data_20x128x128x3_float32.npy"
Q_FP16 = "float16 weights, float32 compute"
Q_DYNAMIC = "dynamic-range int8"
Q_FULL = "full-integer int8 (calibrated, float I/O)"


@dataclass
class RunSettings:
    """Options main() sets from the command line; the stages read them here at call time."""

    out: Path = MODELS_DIR  # the models folder shipped into and checked (--out)
    compat_python: str | None = None  # a python with tflite-runtime 2.14 (--compat-python)


RUN = RunSettings()


def log(msg: str) -> None:
    """Progress message on stderr (the table goes to stdout)."""
    print(f"[build_models] {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    """sha256 of a file (a copy of edge_ocr.models.sha256_file: the build venv lacks edge_ocr)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
