"""Options shared by the subcommands that run the OCR engine."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from edge_ocr.codes import CodeOptions, CodeScanner
from edge_ocr.codes.ladder import STEPS
from edge_ocr.errors import EdgeOcrError
from edge_ocr.ocr.detect import DetectorSettings
from edge_ocr.ocr.engine import Engine, EngineSettings, load_engine
from edge_ocr.ocr.pipeline import OcrOptions


def parse_roi(text: str) -> tuple[float, float, float, float]:
    """'x,y,w,h' in pixels, or in fractions of the image when every value is at most 1."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--roi {text!r}: expected four numbers x,y,w,h") from None
    if len(values) != 4 or min(values) < 0 or values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"--roi {text!r}: expected x,y,w,h with w and h > 0")
    return values  # type: ignore[return-value]


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Model, runtime and reading options."""
    g = parser.add_argument_group("engine")
    g.add_argument("--pack", help="model pack (default: the manifest's default; see `edge-ocr models`)")
    g.add_argument("--variant", help="model variant, e.g. fp16 or int8 (default: the manifest's)")
    g.add_argument("--models-dir", type=Path, help="folder holding manifest.json (default: shipped)")
    g.add_argument("--threads", type=int, default=2, help="inference threads (default: 2)")
    g.add_argument("--runtime", default="auto", choices=["auto", "litert", "tflite_runtime"])
    g.add_argument(
        "--max-side",
        type=int,
        default=DetectorSettings.max_side,
        help="long side of the detector's fine pass in pixels (default: %(default)s)",
    )
    g.add_argument(
        "--second-opinion",
        default="auto",
        metavar="auto|none|PACK[/VARIANT]",
        help="recogniser that re-reads unsure lines (default: the pack's choice, see `edge-ocr models`)",
    )
    r = parser.add_argument_group("reading")
    r.add_argument(
        "--min-confidence",
        type=float,
        default=OcrOptions.min_confidence,
        help="drop lines below this confidence (default: %(default)s)",
    )
    r.add_argument("--roi", type=parse_roi, help="region of interest x,y,w,h (pixels, or fractions <= 1)")
    r.add_argument(
        "--allow",
        metavar="CHARS",
        help="only these characters, ranges allowed, e.g. '0-9A-Z-' (applied inside decoding)",
    )
    r.add_argument(
        "--second-opinion-below",
        type=float,
        default=OcrOptions.second_opinion_below,
        metavar="CONF",
        help="re-read lines read less surely than this with the second opinion (default: %(default)s)",
    )
    r.add_argument("--no-classify", action="store_true", help="skip the 0/180 line classifier")
    r.add_argument("--no-rotate", action="store_true", help="do not detect pages turned 90/270 degrees")


def engine_settings(args: argparse.Namespace) -> EngineSettings:
    """EngineSettings from parsed arguments."""
    if args.threads < 1:
        raise EdgeOcrError("--threads must be at least 1")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise EdgeOcrError("--min-confidence must be between 0 and 1")
    if not 0.0 <= args.second_opinion_below <= 1.0:
        raise EdgeOcrError("--second-opinion-below must be between 0 and 1")
    options = OcrOptions(
        min_confidence=args.min_confidence,
        roi=args.roi,
        allowlist=args.allow,
        classify=not args.no_classify,
        detect_rotation=not args.no_rotate,
        second_opinion_below=args.second_opinion_below,
    )
    detector = replace(DetectorSettings(), max_side=args.max_side)
    return EngineSettings(
        pack=args.pack,
        variant=args.variant,
        models_dir=args.models_dir,
        threads=args.threads,
        runtime=args.runtime,
        second_opinion=args.second_opinion,
        detector=detector,
        options=options,
    )


def open_engine(args: argparse.Namespace) -> Engine | None:
    """Load the engine, or print why not (setup errors are exit status 2)."""
    try:
        engine = load_engine(engine_settings(args))
        if args.allow:
            engine.pipeline.decoder(args.allow)
        return engine
    except (EdgeOcrError, ValueError) as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return None


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def add_code_arguments(parser: argparse.ArgumentParser, codes_only: bool = True) -> None:
    """Barcode and QR options."""
    g = parser.add_argument_group("codes")
    if codes_only:
        g.add_argument("--codes-only", action="store_true", help="decode codes only, skip text (fast)")
    g.add_argument("--no-codes", action="store_true", help="text only, do not look for codes")
    g.add_argument(
        "--code-readers",
        type=_names,
        default=CodeOptions.readers,
        metavar="LIST",
        help="comma-separated readers: zxing, zbar (default: both, merged)",
    )
    g.add_argument(
        "--code-retry",
        type=_names,
        default=CodeOptions.retry_steps,
        metavar="LIST",
        help=f"retry steps when nothing decodes, in order ({', '.join(STEPS)}); '' for none",
    )
    g.add_argument(
        "--code-budget-ms",
        type=float,
        default=CodeOptions.retry_budget_ms,
        help="time a frame may spend in retry steps (default: %(default)s)",
    )


def open_code_scanner(args: argparse.Namespace) -> tuple[bool, CodeScanner | None]:
    """(ok, scanner): scanner is None when codes are off; ok is False after printing a setup error."""
    if args.no_codes:
        return True, None
    try:
        options = CodeOptions(args.code_readers, args.code_retry, args.code_budget_ms)
        return True, CodeScanner(options)
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return False, None


def table_lines(title: str, header: str, rows: list[dict], fmt_row) -> list[str]:
    """A report table: a title line, the header, one formatted line per row."""
    return [title, header, *(fmt_row(d) for d in rows)]


class Progress:
    """A one-line progress bar on stderr, shown only on a terminal and for several inputs."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled and total > 1 and sys.stderr.isatty()
        self.done = 0

    def step(self, label: str) -> None:
        """Advance by one input."""
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {label[-40:]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        """Clear the bar's line."""
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")
            sys.stderr.flush()
