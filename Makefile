# The two commands of the README. Both set everything up first (system packages, virtualenv).
.PHONY: demo test ci lint bench models bundle bundle-check test-deploy test-arm

demo:  ## set up, run the daemon on the bundled sample footage, then search what it read
	scripts/setup.sh run
	.venv/bin/edge-ocr run --state-dir .demo-state
	.venv/bin/edge-ocr store --state-dir .demo-state
	.venv/bin/edge-ocr search --state-dir .demo-state pump station
	.venv/bin/edge-ocr search --state-dir .demo-state --codes assets

test:  ## set up, then run the whole test suite (LiteRT), and the engine tests on tflite-runtime
	scripts/setup.sh test
	scripts/test.sh

ci:  ## what CI runs (.ci/run): the three tiers, fast first
	$(MAKE) test
	$(MAKE) test-deploy
	$(MAKE) test-arm

test-arm:  ## the aarch64 tier: Debian 12 arm64 + Python 3.11 under qemu-user (root; README "make test-arm")
	scripts/test_arm.sh
	$(MAKE) bundle-check TARGETS="aarch64-cp310 aarch64-cp313"  # JetPack 6's and Trixie's Pythons

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	scripts/setup.sh bench
	.venv/bin/python benchmarks/ocr_peers.py

# Offline install bundles for the fleet (ansible/README.md): dist/bundle/<target>/ per target.
#   make bundle TARGETS="x86_64-cp311 aarch64-cp311"     (default: all four targets)
TARGETS ?= x86_64-cp311 aarch64-cp311 aarch64-cp310 aarch64-cp313
DEPLOY_VENV ?= .venv-deploy

$(DEPLOY_VENV)/bin/ansible-playbook:  # there only once pip installed ansible: a failed install runs again
	python3 -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install -q "ansible>=9,<13" "paho-mqtt>=2.1"

bundle: $(DEPLOY_VENV)/bin/ansible-playbook  ## build the offline bundles (wheels + hash pins, .debs, model pack)
	$(DEPLOY_VENV)/bin/python scripts/bundle.py --targets "$(TARGETS)"

bundle-check: $(DEPLOY_VENV)/bin/ansible-playbook  ## prove every target's dependency set resolves (no download)
	$(DEPLOY_VENV)/bin/python scripts/bundle.py --check-only --targets "$(TARGETS)"

test-deploy:  ## the Ansible role on a debootstrap root booted with systemd-nspawn (root; about 10 min)
	scripts/test_deploy.sh
