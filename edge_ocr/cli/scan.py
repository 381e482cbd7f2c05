"""`edge-ocr scan FILE|DIR...`: print the text of images, TIFF pages and PDFs."""

from __future__ import annotations

import argparse
import codecs
import sys
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Literal, TextIO

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, report_error
from edge_ocr.cli.common import (
    Progress,
    add_code_arguments,
    add_engine_arguments,
    open_code_scanner,
    open_engine,
)
from edge_ocr.cli.state import add_config_argument, add_state_argument, load_config, state_dir
from edge_ocr.config import Config
from edge_ocr.documents import DEFAULT_MAX_PIXELS, expand_inputs, source_name
from edge_ocr.errors import EdgeOcrError, StoreFullError
from edge_ocr.export import BINARY_FORMATS, FORMATS, ExportError, ExportPage, PageWriter, open_writer
from edge_ocr.models import sha256_file
from edge_ocr.reader import FileFailure, read_pages
from edge_ocr.service import store_settings
from edge_ocr.store import Store
from edge_ocr.store.settings import IMAGE_MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `scan`."""
    parser.add_argument("inputs", nargs="+", type=Path, metavar="FILE|DIR")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="output format (default: text); hocr, alto and pdf make one document of all pages",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="write here instead of standard output (required for pdf)"
    )
    parser.add_argument(
        "--max-image-pixels",
        type=_positive_int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse larger images (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--store", action="store_true", help="also keep every result in the local store")
    parser.add_argument(
        "--keep-images",
        choices=IMAGE_MODES,
        help="with --store: keep page images (none, results: pages with text or codes, all; "
        "default: [store] images)",
    )
    add_config_argument(parser)
    add_state_argument(parser)
    add_engine_arguments(parser)
    add_code_arguments(parser)


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a usage error, exit 2, naming the option otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (pixels), got {value}")
    return value


class _TextOut:
    """Bytes from a writer, passed on to a text stream (standard output keeps its own encoding)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")()

    def write(self, data: bytes) -> int:
        self.stream.write(self.decoder.decode(data))
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


def _open_output(args: argparse.Namespace) -> BinaryIO:
    """The -o file, or standard output: as text for text and JSON, as bytes for the XML formats."""
    if args.output:
        return args.output.open("wb")
    if args.format in ("hocr", "alto") and hasattr(sys.stdout, "buffer"):
        sys.stdout.flush()
        return sys.stdout.buffer
    return _TextOut(sys.stdout)  # type: ignore[return-value]


def run(args: argparse.Namespace) -> int:
    """Scan every input; exit 0 if all were read, 1 if some failed, 2 on usage/setup errors."""
    if args.format in BINARY_FORMATS and not args.output:
        print(
            f"edge-ocr: --format {args.format} needs -o FILE (binary output is not written to a terminal)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    files = expand_inputs(args.inputs, special=True)  # special files are refused by name, not skipped
    if not files:
        print("edge-ocr: no supported files in the given folders", file=sys.stderr)
        return EXIT_FAILED
    if args.codes_only and args.no_codes:
        print("edge-ocr: --codes-only and --no-codes exclude each other", file=sys.stderr)
        return EXIT_USAGE
    try:  # flags override the configuration's keys (--config, $EDGE_OCR_CONFIG, /etc/edge-ocr/config.toml)
        config = load_config(args)
    except EdgeOcrError as exc:
        report_error(exc)
        return EXIT_USAGE
    ok, codes = open_code_scanner(args, config)
    if not ok:
        return EXIT_USAGE
    engine = None if args.codes_only else open_engine(args, config)
    if engine is None and not args.codes_only:
        return EXIT_USAGE
    pipeline = engine.pipeline if engine else None
    store = _open_store(args, config)
    if store is False:
        return EXIT_USAGE
    # Only the PDF (and a store that keeps images) needs the pixels; otherwise they are never held.
    keep_images = args.format == "pdf" or (store is not None and store.settings.images.keep != "none")
    out = _open_output(args)
    writer = open_writer(args.format, out, many=len(files) > 1)
    progress = Progress(len(files), not args.no_progress)
    failures = 0
    try:
        for path in files:
            try:
                failures += _scan_one(path, args, pipeline, codes, keep_images, store, writer, progress)
            except (StoreFullError, BrokenPipeError):
                raise
            except Exception as exc:  # one input's error, whatever it is: the run goes on
                failures += 1
                progress.close()
                _report(source_name(path), f"{type(exc).__name__}: {exc}")
            progress.step(source_name(path.name))
    except StoreFullError as exc:
        progress.close()
        print(f"edge-ocr: {exc}", file=sys.stderr)
        failures += 1
    finally:
        progress.close()
        written = _finish(writer)
        if codes is not None:
            codes.close()
        if store is not None:
            store.close()
        if args.output:
            out.close()
            if not written:
                args.output.unlink(missing_ok=True)
    return EXIT_FAILED if failures or not written else EXIT_OK


def _scan_one(
    path: Path,
    args: argparse.Namespace,
    pipeline,
    codes,
    keep_images: bool,
    store: Store | None,
    writer: PageWriter,
    progress: Progress,
) -> int:
    """Read one input into the writer (and the store); the number of failures (0 or 1)."""
    pages = read_pages(pipeline, path, max_pixels=args.max_image_pixels, codes=codes, keep_images=keep_images)
    fingerprint = None
    failures = 0
    for item in pages:
        if isinstance(item, FileFailure):
            failures += 1
            progress.close()
            _report(item.source, item.reason.removeprefix(item.source + ": "))
        else:
            if store is not None:
                fingerprint = fingerprint or sha256_file(path)  # the same file twice is recognisable
                store.save_scan(item.result, image=item.image, fingerprint=fingerprint)
            writer.write(ExportPage(item.result, image=item.image))
    return failures


def _report(source: str, reason: str) -> None:
    """One input's error on stderr, never failing on a character the terminal cannot show."""
    line = f"edge-ocr: {source}: {reason}\n"
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    sys.stderr.write(line.encode(encoding, "backslashreplace").decode(encoding, "replace"))


def _open_store(args: argparse.Namespace, config: Config) -> Store | Literal[False] | None:
    """The store for --store (None without it), as the daemon's ([device] id, [store] keys); False
    after printing why it cannot be opened."""
    if not args.store:
        return None
    if args.keep_images:
        config = replace(config, store=replace(config.store, images=args.keep_images))
    try:
        return Store(state_dir(args, config), store_settings(config))
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return False


def _finish(writer: PageWriter) -> bool:
    """End the document; False (and why, on stderr) when there was nothing to write."""
    try:
        writer.close()
    except ExportError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return False
    return True
