"""Options shared by the subcommands that run the OCR engine."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from edge_ocr import service
from edge_ocr.cli import report_error
from edge_ocr.codes import CodeScanner
from edge_ocr.codes.names import RETRY_STEPS
from edge_ocr.config import CodesSection, Config, OcrSection, override
from edge_ocr.config.sections import RUNTIMES
from edge_ocr.errors import EdgeOcrError
from edge_ocr.ocr import defaults
from edge_ocr.ocr.engine import Engine, EngineSettings, load_engine


def parse_roi(text: str) -> tuple[float, float, float, float]:
    """'x,y,w,h' in pixels, or in fractions of the image when every value is at most 1."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--roi {text!r}: expected four numbers x,y,w,h") from None
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"--roi {text!r}: expected four numbers x,y,w,h")
    return values  # type: ignore[return-value]  # ranges: OcrSection's rules, as for [ocr] roi


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Model, runtime and reading options: each overrides its [ocr] key (defaults live in OcrSection)."""
    d = OcrSection()
    g = parser.add_argument_group("engine")
    g.add_argument("--pack", help="model pack (default: the manifest's default; see `edge-ocr models`)")
    g.add_argument("--variant", help="model variant, e.g. fp16 or int8 (default: the manifest's)")
    g.add_argument("--models-dir", type=Path, help="folder holding manifest.json (default: shipped)")
    g.add_argument("--threads", type=int, help=f"inference threads (default: {d.threads})")
    g.add_argument("--runtime", choices=RUNTIMES, help=f"TFLite runtime (default: {d.runtime})")
    g.add_argument(
        "--memory",
        choices=defaults.MEMORY_CHOICES,
        help=f"low-memory mode: low, normal, or auto = low below {defaults.LOW_MEMORY_BELOW_MB} MB of RAM "
        f"(default: {d.memory})",
    )
    g.add_argument(
        "--max-side",
        type=int,
        help=f"long side of the detector's fine pass in pixels (default: {d.max_side})",
    )
    g.add_argument(
        "--second-opinion",
        metavar="auto|none|PACK[/VARIANT]",
        help="recogniser that re-reads unsure lines (default: the pack's choice, see `edge-ocr models`)",
    )
    r = parser.add_argument_group("reading")
    r.add_argument(
        "--min-confidence", type=float, help=f"drop lines below this confidence (default: {d.min_confidence})"
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
        metavar="CONF",
        help=f"re-read lines read less surely than this (default: {d.second_opinion_below})",
    )
    r.add_argument("--no-classify", action="store_true", help="skip the 0/180 line classifier")
    r.add_argument("--no-rotate", action="store_true", help="do not detect pages turned 90/270 degrees")


# [ocr] key -> the flag that overrides it
OCR_FLAGS = {
    "pack": "--pack",
    "variant": "--variant",
    "threads": "--threads",
    "runtime": "--runtime",
    "memory": "--memory",
    "max_side": "--max-side",
    "second_opinion": "--second-opinion",
    "min_confidence": "--min-confidence",
    "roi": "--roi",
    "allow": "--allow",
    "second_opinion_below": "--second-opinion-below",
}


def _given(args: argparse.Namespace, flags: dict[str, str]) -> dict[str, tuple[str, object]]:
    """The flags given on the command line, as section key -> (flag, value)."""
    out: dict[str, tuple[str, object]] = {}
    for key, flag in flags.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if value is not None:
            out[key] = (flag, list(value) if isinstance(value, tuple) else value)
    return out


def ocr_section(args: argparse.Namespace, base: OcrSection) -> OcrSection:
    """The [ocr] section with the command line's flags put in, checked by the section's rules."""
    values = _given(args, OCR_FLAGS)
    if args.no_classify:
        values["classify"] = ("--no-classify", False)
    if args.no_rotate:
        values["detect_rotation"] = ("--no-rotate", False)
    return override(base, values, "ocr")


def engine_settings(args: argparse.Namespace, config: Config | None = None) -> EngineSettings:
    """EngineSettings from the configuration with the command line's overrides."""
    config = config or Config()
    return service.engine_settings(replace(config, ocr=ocr_section(args, config.ocr)), args.models_dir)


def open_engine(args: argparse.Namespace, config: Config | None = None) -> Engine | None:
    """Load the engine, or print why not (setup errors are exit status 2)."""
    try:
        settings = engine_settings(args, config)
        engine = load_engine(settings)
        if settings.options.allowlist:
            engine.pipeline.decoder(settings.options.allowlist)
        return engine
    except (EdgeOcrError, ValueError) as exc:
        report_error(exc)
        return None


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


CODE_FLAGS = {"readers": "--code-readers", "retry": "--code-retry", "budget_ms": "--code-budget-ms"}


def add_code_arguments(parser: argparse.ArgumentParser, codes_only: bool = True) -> None:
    """Barcode and QR options: each overrides its [codes] key (defaults live in CodesSection)."""
    d = CodesSection()
    g = parser.add_argument_group("codes")
    if codes_only:
        g.add_argument("--codes-only", action="store_true", help="decode codes only, skip text (fast)")
    g.add_argument("--no-codes", action="store_true", help="text only, do not look for codes")
    g.add_argument(
        "--code-readers",
        type=_names,
        metavar="LIST",
        help=f"comma-separated readers: zxing, zbar (default: {','.join(d.readers)}, merged)",
    )
    g.add_argument(
        "--code-retry",
        type=_names,
        metavar="LIST",
        help=f"retry steps when nothing decodes, in order ({', '.join(RETRY_STEPS)}); '' for none",
    )
    g.add_argument(
        "--code-budget-ms", type=float, help=f"time a frame may spend in retry steps (default: {d.budget_ms})"
    )


def open_code_scanner(
    args: argparse.Namespace, config: Config | None = None
) -> tuple[bool, CodeScanner | None]:
    """(ok, scanner): scanner is None when codes are off; ok is False after printing a setup error."""
    if args.no_codes:
        return True, None
    config = config or Config()
    try:
        section = override(config.codes, _given(args, CODE_FLAGS), "codes")
        return True, CodeScanner(service.code_options(replace(config, codes=section)))
    except EdgeOcrError as exc:
        report_error(exc)
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
