"""`edge-ocr scan FILE|DIR...`: print the text of images, TIFF pages and PDFs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.common import (
    Progress,
    add_code_arguments,
    add_engine_arguments,
    open_code_scanner,
    open_engine,
)
from edge_ocr.documents import DEFAULT_MAX_PIXELS, expand_inputs
from edge_ocr.reader import FileFailure, read_file
from edge_ocr.results import Code, PageResult

FORMATS = ("text", "json", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `scan`."""
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE|DIR")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    parser.add_argument(
        "--max-image-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse larger images (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_engine_arguments(parser)
    add_code_arguments(parser)


def format_code(code: Code) -> str:
    """One line per code: symbology and text with control characters escaped (base64 for binary)."""
    if code.text is None:
        payload = "base64:" + code.to_dict()["bytes_b64"]
    else:
        payload = "".join(
            c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in code.text
        )
    return f"[{code.symbology}] {payload}"


def format_text(result: PageResult, many: bool) -> str:
    """Plain text: a header per file when several are printed, a marker before later pages; codes last."""
    if many:
        page = f" [page {result.page}]" if result.page > 1 else ""
        header = f"==> {result.source}{page} <==\n"
    else:
        header = f"--- page {result.page} ---\n" if result.page > 1 else ""
    body = result.text + ("\n" if result.lines else "")
    if result.codes:
        body += ("\n" if result.lines else "") + "codes:\n"
        body += "".join(f"  {format_code(c)}\n" for c in result.codes)
    return header + body


class _Writer:
    """Streams results in the chosen format (JSON arrays are closed at the end)."""

    def __init__(self, out: TextIO, fmt: str, many: bool) -> None:
        self.out, self.fmt, self.many, self.count = out, fmt, many, 0

    def write(self, result: PageResult) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        elif self.fmt == "json":
            prefix = "[\n" if self.count == 0 else ",\n"
            self.out.write(prefix + json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            self.out.write(("\n" if self.count else "") + format_text(result, self.many))
        self.out.flush()
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("[]\n" if self.count == 0 else "\n]\n")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    """Scan every input; exit 0 if all were read, 1 if some failed, 2 on usage/setup errors."""
    files = expand_inputs(args.inputs)
    if not files:
        print("edge-ocr: no supported files in the given folders", file=sys.stderr)
        return EXIT_FAILED
    ok, codes = open_code_scanner(args)
    if not ok:
        return EXIT_USAGE
    if args.codes_only and codes is None:
        print("edge-ocr: --codes-only and --no-codes exclude each other", file=sys.stderr)
        return EXIT_USAGE
    engine = None if args.codes_only else open_engine(args)
    if engine is None and not args.codes_only:
        return EXIT_USAGE
    pipeline = engine.pipeline if engine else None
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    writer = _Writer(out, args.format, many=len(files) > 1)
    progress = Progress(len(files), not args.no_progress)
    failures = 0
    try:
        for path in files:
            for item in read_file(pipeline, path, max_pixels=args.max_image_pixels, codes=codes):
                if isinstance(item, FileFailure):
                    failures += 1
                    progress.close()
                    print(
                        f"edge-ocr: {item.source}: {item.reason.removeprefix(item.source + ': ')}",
                        file=sys.stderr,
                    )
                else:
                    writer.write(item)
            progress.step(path.name)
    finally:
        progress.close()
        writer.close()
        if codes is not None:
            codes.close()
        if args.output:
            out.close()
    return EXIT_FAILED if failures else EXIT_OK
