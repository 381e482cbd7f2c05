#!/usr/bin/env bash
# Run the test suite on LiteRT, then the engine tests again on tflite-runtime (when installed).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q "$@"
if [ -x .venv-tflite/bin/python ]; then
  echo "--- engine tests on tflite-runtime 2.14 (numpy<2) ---"
  EDGE_OCR_RUNTIME=tflite_runtime .venv-tflite/bin/python -m pytest -q -m engine "$@"
fi
