"""Plain text: the lines in reading order, codes after them; what `scan` prints by default."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, BinaryIO

from edge_ocr.results import Code, PageResult

if TYPE_CHECKING:
    from edge_ocr.export import ExportPage


def code_payload(code: Code) -> str:
    """A code's payload on one line: control characters escaped, binary payloads as base64."""
    if code.text is None:
        return "base64:" + base64.b64encode(code.data).decode("ascii")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in code.text)


def format_code(code: Code) -> str:
    """One line per code: symbology and text with control characters escaped (base64 for binary)."""
    return f"[{code.symbology}] {code_payload(code)}"


def format_text(
    result: PageResult, many: bool, scan_id: int | None = None, captured_at: str | None = None
) -> str:
    """Plain text: a header per file when several are printed, a marker before later pages; codes last."""
    if many:
        page = f" [page {result.page}]" if result.page > 1 else ""
        stored = ""
        if scan_id is not None:
            stored = f" [scan {scan_id}" + (f", {captured_at}" if captured_at else "") + "]"
        header = f"==> {result.source}{page}{stored} <==\n"
    else:
        header = f"--- page {result.page} ---\n" if result.page > 1 else ""
    body = result.text + ("\n" if result.lines else "")
    if result.codes:
        body += ("\n" if result.lines else "") + "codes:\n"
        body += "".join(f"  {format_code(c)}\n" for c in result.codes)
    return header + body


class TextWriter:
    """Streams pages as plain text, a blank line between pages, flushed after each."""

    def __init__(self, out: BinaryIO, many: bool) -> None:
        self.out, self.many, self.count = out, many, 0

    def write(self, page: ExportPage) -> None:
        """Append one page."""
        text = format_text(page.result, self.many, page.scan_id, page.captured_at)
        self.out.write((("\n" if self.count else "") + text).encode("utf-8"))
        self.out.flush()
        self.count += 1

    def close(self) -> None:
        """Nothing to finish: plain text has no trailer."""
        self.out.flush()
