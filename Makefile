# The two commands of the README. Both set everything up first (system packages, virtualenv).
.PHONY: demo test lint bench models

demo:  ## set up, run the daemon on the bundled sample footage, then search what it read
	scripts/setup.sh run
	.venv/bin/edge-ocr run --state-dir .demo-state
	.venv/bin/edge-ocr store --state-dir .demo-state
	.venv/bin/edge-ocr search --state-dir .demo-state pump station
	.venv/bin/edge-ocr search --state-dir .demo-state --codes assets

test:  ## set up, then run the whole test suite (LiteRT), and the engine tests on tflite-runtime
	scripts/setup.sh test
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	scripts/setup.sh bench
	.venv/bin/python benchmarks/ocr_peers.py
