"""`edge-ocr models [list|verify]`: what packs are installed, and are their files intact."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.errors import ModelError
from edge_ocr.models import Manifest, verify_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `models`."""
    parser.add_argument("action", nargs="?", choices=("list", "verify"), default="list")
    parser.add_argument("--models-dir", type=Path, help="folder holding manifest.json")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    """List packs with their files and measured checks, or verify every file's sha256."""
    try:
        manifest = Manifest.load(args.models_dir)
    except ModelError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "verify":
        bad = 0
        for name, pack in manifest.data["packs"].items():
            entries = [pack["dict"], *pack["models"]]
            for entry in entries:
                try:
                    verify_file(manifest.root / entry["file"], entry["sha256"])
                    print(f"ok   {name}: {entry['file']}")
                except ModelError as exc:
                    bad += 1
                    print(f"FAIL {name}: {exc}")
        return EXIT_FAILED if bad else EXIT_OK
    if args.format == "json":
        print(json.dumps(manifest.data, indent=2))
        return EXIT_OK
    print(f"models in {manifest.root} (default: {manifest.default_pack} {manifest.default_variant})")
    for name in manifest.pack_names:
        pack = manifest.data["packs"][name]
        print(f"\n{name}: {pack.get('description', '')}")
        if pack.get("second_opinion"):
            print(f"  second opinion: {pack['second_opinion']} re-reads unsure lines (--second-opinion)")
        for m in sorted(pack["models"], key=lambda m: (m["variant"], m["role"], m["input_shape"])):
            check = m.get("check", {})
            ms = check.get("ms_median_2threads")
            print(
                f"  {m['variant']:<5} {m['role']:<4} {'x'.join(map(str, m['input_shape'])):<14} "
                f"{m['bytes'] / 1e6:5.1f} MB  {m.get('quantization', '')}"
                + (f", {ms:.1f} ms" if ms is not None else "")
            )
    return EXIT_OK
