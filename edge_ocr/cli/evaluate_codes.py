"""The codes half of `edge-ocr eval`: read rate, false positives and time per image, per folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from edge_ocr.cli.common import Progress, table_lines
from edge_ocr.code_eval import CodeFolderReport, CodeSample
from edge_ocr.codes import CodeScanner
from edge_ocr.reader import FileFailure, read_file


def score_folders(
    groups: dict[Path, list[CodeSample]], scanner: CodeScanner, progress: Progress, show_errors: bool
) -> list[CodeFolderReport]:
    """Decode every sample with the scanner (no OCR) and score it."""
    reports = []
    for folder, samples in sorted(groups.items()):
        report = CodeFolderReport(str(folder))
        for sample in samples:
            t = time.perf_counter()
            pages = list(read_file(None, sample.image, codes=scanner))
            elapsed = (time.perf_counter() - t) * 1000
            progress.step(sample.image.name)
            if any(isinstance(p, FileFailure) for p in pages):
                report.failures += 1
                continue
            decoded = [(c.text, c.data) for p in pages if not isinstance(p, FileFailure) for c in p.codes]
            if not report.add_image(sample, decoded, elapsed) and show_errors:
                progress.close()
                what = "missed" if sample.has_code else "false positive"
                print(f"{sample.image}: {what}; decoded {[t for t, _ in decoded]!r}", file=sys.stderr)
        reports.append(report)
    return reports


def _row(d: dict) -> str:
    rate = f"{d['read_rate']:.3f}" if d["read_rate"] is not None else "-"
    med = f"{d['ms_median']:.1f}" if d["ms_median"] is not None else "-"
    return (
        f"{d['folder'][-38:]:<38} {d['images']:>6} {d['with_code']:>6} {d['read']:>5} {rate:>6} "
        f"{d['without_code']:>6} {d['false_positives']:>4} {med:>8} {d['failures']:>5}"
    )


def report_document(reports: list[CodeFolderReport], readers: tuple[str, ...]) -> tuple[dict, list[str]]:
    """The JSON document and the text table of the code folders (with an overall line)."""
    overall = CodeFolderReport("overall")
    for r in reports:
        overall.add(r)
    rows = [r.to_dict() for r in reports]
    document = {"readers": list(readers), "folders": rows, "overall": overall.to_dict()}
    header = (
        f"{'folder':<38} {'images':>6} {'codes':>6} {'read':>5} {'rate':>6} "
        f"{'nocode':>6} {'FP':>4} {'ms med':>8} {'fail':>5}"
    )
    lines = table_lines(f"codes: readers {', '.join(readers)}", header, [*rows, overall.to_dict()], _row)
    return document, lines


def run_codes(
    args: argparse.Namespace, groups: dict[Path, list[CodeSample]], scanner: CodeScanner
) -> tuple[bool, dict, list[str]]:
    """Score code folders: (no input failed, JSON document, text table)."""
    progress = Progress(sum(len(v) for v in groups.values()), not args.no_progress)
    try:
        reports = score_folders(groups, scanner, progress, args.show_errors)
    finally:
        progress.close()
    document, lines = report_document(reports, scanner.options.readers)
    return document["overall"]["failures"] == 0, document, lines
