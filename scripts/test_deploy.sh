#!/usr/bin/env bash
# make test-deploy: the Ansible role applied for real (see tests/deploy/run_deploy.py for what it shows).
# A Debian bookworm root made with debootstrap (cached in $EDGE_OCR_TEST_CACHE, default
# /var/cache/edge-ocr-test/), booted with systemd-nspawn, provisioned from the x86_64-cp311 offline
# bundle by ansible-playbook through the community.docker.nsenter connection, with a real mosquitto
# on 127.0.0.1. Needs root and network access to the Debian mirror and PyPI (or their site mirrors).
#   scripts/test_deploy.sh [--keep] [--fresh-root]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deploy: needs root (debootstrap, systemd-nspawn, nsenter)" >&2
  exit 2
fi
APT_WHO=test-deploy
source scripts/apt.sh
apt_install debootstrap systemd-container mosquitto python3-venv
# The controller's tools in a venv of their own: ansible (the full package: community.docker's
# nsenter connection) and paho-mqtt (the test's MQTT subscriber). Not a project dependency.
VENV="${EDGE_OCR_DEPLOY_VENV:-.venv-deploy}"
if [ ! -x "$VENV/bin/ansible-playbook" ] || ! "$VENV/bin/python" -c 'import paho.mqtt' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q "ansible>=9,<13" "paho-mqtt>=2.1"
fi
exec "$VENV/bin/python" tests/deploy/run_deploy.py "$@"
