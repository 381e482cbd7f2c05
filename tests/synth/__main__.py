"""Command line: write a labelled synthetic image set, e.g. `python -m tests.synth out/ --count 50`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from edge_ocr.errors import EdgeOcrError
from tests.synth.generate import FORMATS, write_set
from tests.synth.sample import KINDS, LEVELS


def _kinds(value: str) -> tuple[str, ...]:
    """Parse a comma-separated kind list, rejecting unknown kinds with the valid ones listed."""
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown kind(s) {', '.join(bad) or '(none)'}; choose from {','.join(KINDS)}"
        )
    return kinds


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser, kept separate so tests and docs can inspect it."""
    p = argparse.ArgumentParser(
        prog="python -m tests.synth", description="Write synthetic OCR images with ground truth."
    )
    p.add_argument("out_dir", type=Path, help="directory for NAME.jpg|png and NAME.gt.txt pairs")
    p.add_argument("--count", type=int, default=len(KINDS), help="number of images (default: one per kind)")
    p.add_argument("--seed", type=int, default=0, help="seed; the same seed writes the same files")
    p.add_argument("--kinds", type=_kinds, default=KINDS, help=f"comma-separated subset of {','.join(KINDS)}")
    p.add_argument("--level", choices=LEVELS, default="photo", help="degradation level (default: photo)")
    p.add_argument("--format", dest="fmt", choices=FORMATS, default="jpg", help="image format (default: jpg)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = build_parser().parse_args(argv)
    if args.count < 0:
        print("error: --count must be 0 or more", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        paths = write_set(args.out_dir, args.count, args.seed, args.kinds, args.level, args.fmt)
    except EdgeOcrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(paths)} images to {args.out_dir} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
