"""The exact versions to fetch as aarch64 wheels: the project's runtime dependencies (pyproject.toml,
markers evaluated for the target: CPython 3.11 on Linux aarch64), pinned to what the interpreter
running this script has installed, so the emulated run uses the same versions as the x86 one.

    .venv/bin/python -m tests.arm.pins                      # LiteRT set, from the x86 .venv
    .venv-tflite/bin/python -m tests.arm.pins --tflite      # ai-edge-litert -> tflite-runtime

Prints requirement lines (NAME==VERSION) on stdout; exits 1 naming any dependency that is not
installed here.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
# What the engine tests import beyond the runtime dependencies (pytest; codes rendered by segno and
# python-barcode), pinned the same way when installed here.
TEST_EXTRAS = ("pytest", "segno", "python-barcode")


def target_environment(python: str) -> dict[str, str]:
    """PEP 508 marker values of CPython PYTHON on Linux aarch64."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_machine": "aarch64",
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
    }


def runtime_dependencies(python: str, tflite: bool) -> list[str]:
    """Names of the runtime dependencies that apply to the target, LiteRT swapped for tflite-runtime."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    env = target_environment(python)
    names = []
    for spec in project["dependencies"]:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if tflite and name == "ai-edge-litert":
            name = "tflite-runtime"
        names.append(name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tflite", action="store_true", help="tflite-runtime instead of ai-edge-litert")
    parser.add_argument("--python", default="3.11", help="target Python version for markers")
    args = parser.parse_args()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here != args.python:
        print(f"pins: note: versions come from Python {here}, the target is {args.python}", file=sys.stderr)
    missing, lines = [], []
    for name in runtime_dependencies(args.python, args.tflite):
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    for name in TEST_EXTRAS:
        try:
            lines.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(name)
    if missing:
        print(f"pins: not installed in {sys.prefix}: {', '.join(missing)}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
