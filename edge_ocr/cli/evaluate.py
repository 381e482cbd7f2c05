"""`edge-ocr eval DIR...`: text (word P/R/F1, CER) and codes (read rate, false positives), per folder."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.common import (
    Progress,
    add_code_arguments,
    add_engine_arguments,
    open_code_scanner,
    open_engine,
    table_lines,
)
from edge_ocr.cli.evaluate_codes import run_codes
from edge_ocr.code_eval import find_code_samples
from edge_ocr.documents import DEFAULT_MAX_PIXELS, SUPPORTED_SUFFIXES, expand_inputs
from edge_ocr.evaluation import WordScore, cer, ground_truth_for, word_score
from edge_ocr.reader import FileFailure, read_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `eval`."""
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--show-errors", action="store_true", help="print each image's missed words")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--codes",
        action="store_true",
        help="score codes only; folders without NAME.txt payloads count as code-free (false positives)",
    )
    add_engine_arguments(parser)
    add_code_arguments(parser, codes_only=False)


def find_samples(folders: list[Path]) -> dict[Path, list[tuple[Path, Path]]]:
    """(image, ground truth) pairs grouped by the folder that holds them."""
    groups: dict[Path, list[tuple[Path, Path]]] = defaultdict(list)
    for path in expand_inputs(folders):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            gt = ground_truth_for(path)
            if gt is not None:
                groups[path.parent].append((path, gt))
    return dict(groups)


@dataclass
class FolderReport:
    """Accumulated scores of one folder."""

    folder: str
    words: WordScore = field(default_factory=lambda: WordScore(0, 0, 0))
    cers: list[float] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    failures: int = 0

    def add(self, other: FolderReport) -> None:
        """Fold another folder into this one (for the overall line)."""
        self.words = self.words + other.words
        self.cers += other.cers
        self.times_ms += other.times_ms
        self.failures += other.failures

    def to_dict(self) -> dict:
        """Figures as printed, for benchmarks to consume."""
        w = self.words
        return {
            "folder": self.folder,
            "images": len(self.times_ms),
            "failures": self.failures,
            "precision": round(w.precision, 4),
            "recall": round(w.recall, 4),
            "f1": round(w.f1, 4),
            "cer": round(statistics.fmean(self.cers), 4) if self.cers else None,
            "cer_images": len(self.cers),
            "ms_mean": round(statistics.fmean(self.times_ms), 1) if self.times_ms else None,
            "ms_median": round(statistics.median(self.times_ms), 1) if self.times_ms else None,
        }


def _format_row(d: dict) -> str:
    cer_text = f"{d['cer']:.3f} ({d['cer_images']})" if d["cer"] is not None else "-"
    ms = f"{d['ms_mean']:.0f}" if d["ms_mean"] is not None else "-"
    return (
        f"{d['folder'][-38:]:<38} {d['images']:>6} {d['precision']:>6.3f} {d['recall']:>6.3f} "
        f"{d['f1']:>6.3f} {cer_text:>12} {ms:>8} {d['failures']:>5}"
    )


def run_text(
    args: argparse.Namespace, groups: dict[Path, list[tuple[Path, Path]]]
) -> tuple[bool, dict, list[str]]:
    """Score text folders: (no input failed, JSON document, text table); raises SetupFailed."""
    engine = open_engine(args)
    if engine is None:
        raise SetupFailed
    total = sum(len(v) for v in groups.values())
    progress = Progress(total, not args.no_progress)
    reports = []
    for folder, samples in sorted(groups.items()):
        report = FolderReport(str(folder))
        for image, gt_path in samples:
            expected = gt_path.read_text(encoding="utf-8")
            t = time.perf_counter()
            pages = list(read_file(engine.pipeline, image, max_pixels=DEFAULT_MAX_PIXELS))
            elapsed = (time.perf_counter() - t) * 1000
            progress.step(image.name)
            if any(isinstance(p, FileFailure) for p in pages):
                report.failures += 1
                continue
            text = "\n".join(p.text for p in pages if not isinstance(p, FileFailure))
            score = word_score(text, expected)
            report.words = report.words + score
            report.times_ms.append(elapsed)
            gt_lines = [line for line in expected.splitlines() if line.strip()]
            if len(gt_lines) == 1:
                report.cers.append(cer(text, gt_lines[0]))
            if args.show_errors and score.matched < score.expected:
                progress.close()
                print(
                    f"{image}: F1 {score.f1:.3f}\n  read: {text!r}\n  want: {expected.strip()!r}",
                    file=sys.stderr,
                )
        reports.append(report)
    progress.close()
    overall = FolderReport("overall")
    for r in reports:
        overall.add(r)
    rows = [r.to_dict() for r in reports]
    document = {
        "pack": engine.pack.name,
        "variant": engine.pack.variant,
        "folders": rows,
        "overall": overall.to_dict(),
    }
    header = (
        f"{'folder':<38} {'images':>6} {'P':>6} {'R':>6} {'F1':>6} {'CER (n)':>12} {'ms/img':>8} {'fail':>5}"
    )
    title = f"pack {engine.pack.name} ({engine.pack.variant}), runtime {engine.runtime}"
    lines = table_lines(title, header, [*rows, overall.to_dict()], _format_row)
    return overall.failures == 0, document, lines


class SetupFailed(Exception):
    """A setup error was already printed; exit with the usage status."""


def run(args: argparse.Namespace) -> int:
    """Evaluate each folder; print per-folder and overall figures (one JSON document with --format json)."""
    missing = [f for f in args.folders if not f.exists()]
    if missing:
        print(f"edge-ocr: no such folder: {', '.join(map(str, missing))}", file=sys.stderr)
        return EXIT_USAGE
    groups = {} if args.codes else find_samples(args.folders)
    code_groups = {} if args.no_codes else find_code_samples(args.folders, all_images=args.codes)
    if not groups and not code_groups:
        print("edge-ocr: no IMAGE + IMAGE.gt.txt (text) or IMAGE + IMAGE.txt (codes) found", file=sys.stderr)
        return EXIT_FAILED
    ok, document, lines = True, {}, []
    try:
        if groups:
            ok, document, lines = run_text(args, groups)
        if code_groups:
            opened, scanner = open_code_scanner(args)
            if not opened or scanner is None:
                raise SetupFailed
            try:
                codes_ok, document["codes"], code_lines = run_codes(args, code_groups, scanner)
            finally:
                scanner.close()
            ok = ok and codes_ok
            lines += ([""] if lines else []) + code_lines
    except SetupFailed:
        return EXIT_USAGE
    print(json.dumps(document, indent=2) if args.format == "json" else "\n".join(lines))
    return EXIT_OK if ok else EXIT_FAILED
