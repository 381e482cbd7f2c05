"""Document exports: results (with their page images, for PDF) as text, JSON, hOCR, ALTO or PDF.

Used by `edge-ocr scan --format` and `edge-ocr export` (from the local store). Every format
streams except ALTO, whose header needs every page first (it keeps results, never images).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, BinaryIO, Protocol

from edge_ocr.errors import EdgeOcrError
from edge_ocr.results import PageResult

if TYPE_CHECKING:
    import numpy as np

FORMATS = ("text", "json", "jsonl", "hocr", "alto", "pdf")
BINARY_FORMATS = ("pdf",)  # never written to a terminal


class ExportError(EdgeOcrError):
    """A document cannot be written: a PDF or ALTO file needs at least one page (nothing is written)."""


@dataclass
class ExportPage:
    """One page to export: its result and, for PDF, its image."""

    result: PageResult
    image: np.ndarray | None = None  # BGR uint8 page image, if available
    jpeg: bytes | None = (
        None  # an already-encoded JPEG of the page (e.g. kept by the store); used as is in PDF
    )
    scan_id: int | None = None  # store id, when exported from the store
    captured_at: str | None = None  # ISO 8601 time, when exported from the store


class PageWriter(Protocol):
    """What every format's writer does: take pages one by one, then finish the document."""

    def write(self, page: ExportPage) -> None: ...

    def close(self) -> None: ...


def open_writer(fmt: str, out: BinaryIO, many: bool = False) -> PageWriter:
    """A streaming writer for one document; `many` puts a header before each file in text."""
    if fmt == "text":
        from edge_ocr.export.text import TextWriter

        return TextWriter(out, many)
    if fmt in ("json", "jsonl"):
        from edge_ocr.export.jsonfmt import JsonWriter

        return JsonWriter(out, lines=fmt == "jsonl")
    if fmt == "hocr":
        from edge_ocr.export.hocr import HocrWriter

        return HocrWriter(out)
    if fmt == "alto":
        from edge_ocr.export.alto import AltoWriter

        return AltoWriter(out)
    if fmt == "pdf":
        from edge_ocr.export.pdf import PdfWriter

        return PdfWriter(out)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def export(pages: Iterable[ExportPage], fmt: str, out: BinaryIO) -> None:
    """Write all pages as one document in the given format.

    Raises ExportError, having written nothing, for a PDF or ALTO document without pages
    (other formats write an empty document). Text puts a `==> SOURCE <==` header before each
    page when the pages come from more than one file or stored scan (as `scan` does for several
    files), so text keeps the results (not the images) to decide that first.
    """
    many = False
    if fmt == "text":
        pages = [replace(p, image=None, jpeg=None) for p in pages]
        many = len({(p.result.source, p.scan_id) for p in pages}) > 1
    writer = open_writer(fmt, out, many)
    for page in pages:
        writer.write(page)
    writer.close()
