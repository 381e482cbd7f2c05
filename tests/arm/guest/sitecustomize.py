"""Loaded at start-up by the emulated aarch64 Python of `make test-arm` only (this folder is on its
PYTHONPATH, never on a device's or the x86 venv's).

ctypes.util.find_library, which pyzbar uses to find libzbar, runs `/sbin/ldconfig -p`. Under
qemu-user an exec is not emulated: the kernel runs the host's x86 /sbin/ldconfig, which lists the
host's libraries, so the lookup would succeed only when the host has libzbar0 installed. Here the
lookup answers from the arm64 root instead, as the board's own ldconfig would: the soname of
lib<name>.so.N in the root's multiarch folders (QEMU's -L maps these paths to the root). The
library itself is then loaded by the emulated dynamic loader through the root's ld.so.cache;
tests/arm/guest_report.py checks in /proc/self/maps that the file mapped is the root's aarch64 one.
"""

from __future__ import annotations

import ctypes.util
import os
import platform
import re

GUEST_LIB_DIRS = ("/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib", "/lib")


def _guest_find_library(name: str) -> str | None:
    pattern = re.compile(rf"lib{re.escape(name)}\.so\.\d+$")
    for folder in GUEST_LIB_DIRS:
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if pattern.match(entry):
                return entry
    return None


if platform.machine() == "aarch64" and os.environ.get("EDGE_OCR_ARM_ROOT"):
    ctypes.util.find_library = _guest_find_library
