#!/usr/bin/env bash
# Set up this checkout: system packages (Debian/Raspberry Pi OS/Ubuntu) and a virtual environment.
#   scripts/setup.sh          runtime only (what a device needs)
#   scripts/setup.sh test     plus test tools, and a second environment with tflite-runtime
#   scripts/setup.sh bench    plus the peers measured in benchmarks/ (RapidOCR, Tesseract)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-run}"
PY="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

APT_RUN=(libzbar0)  # fonts-dejavu-core only for tests (tests/synth renders with it)
APT_TEST=(fonts-dejavu-core poppler-utils mosquitto mosquitto-clients)
APT_BENCH=(tesseract-ocr tesseract-ocr-eng)

source scripts/apt.sh

case "$MODE" in
  run) apt_install "${APT_RUN[@]}" ;;
  test) apt_install "${APT_RUN[@]}" "${APT_TEST[@]}" ;;
  bench) apt_install "${APT_RUN[@]}" "${APT_TEST[@]}" "${APT_BENCH[@]}" ;;
  *) echo "usage: scripts/setup.sh [run|test|bench]" >&2; exit 2 ;;
esac

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
case "$MODE" in
  run) "$VENV/bin/python" -m pip install -q -e . ;;
  test) "$VENV/bin/python" -m pip install -q -e ".[test]" ;;
  bench) "$VENV/bin/python" -m pip install -q -e ".[test,bench]" ;;
esac

# tflite-runtime 2.14 (what Raspberry Pi OS Bookworm users install) needs numpy<2 and
# Python <= 3.11: the engine tests run on it too, in an environment of its own.
if [ "$MODE" = test ] && "$PY" -c 'import sys; sys.exit(sys.version_info[:2] > (3, 11))'; then
  TFL=".venv-tflite"
  [ -x "$TFL/bin/python" ] || "$PY" -m venv "$TFL"
  "$TFL/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$TFL/bin/python" -m pip install -q "numpy<2" "tflite-runtime==2.14.0" pytest segno python-barcode lxml
  "$TFL/bin/python" -m pip install -q opencv-python-headless"<4.11" pyclipper pillow pypdfium2 zxing-cpp pyzbar paho-mqtt cryptography
  # Last, without dependencies (ai-edge-litert is replaced by tflite-runtime here): installed earlier,
  # the next install's resolver check would print an ERROR about the missing ai-edge-litert.
  "$TFL/bin/python" -m pip install -q --no-deps -e .
fi
