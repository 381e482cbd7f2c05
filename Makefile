# The two commands of the README. Both set everything up first (system packages, virtualenv).
.PHONY: demo test lint bench models

demo:  ## set up, then read the bundled sample images with the shipped models
	scripts/setup.sh run
	.venv/bin/edge-ocr scan --format text edge_ocr/samples

test:  ## set up, then run the whole test suite (LiteRT), and the engine tests on tflite-runtime
	scripts/setup.sh test
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	scripts/setup.sh bench
	.venv/bin/python benchmarks/ocr_peers.py
