"""Read whole files page by page with one pipeline: shared by `scan`, `eval` and the daemon."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ocr.codes import CodeScanner
from edge_ocr.documents import DEFAULT_MAX_PIXELS, PageImage, iter_file_pages, source_name
from edge_ocr.errors import ImageError
from edge_ocr.ocr.pipeline import OcrOptions, OcrPipeline
from edge_ocr.results import PageResult


@dataclass
class FileFailure:
    """An input that could not be read, with the reason to show the user; source is the file's
    documents.source_name (printable even when the name is not UTF-8)."""

    source: str
    reason: str


@dataclass
class ReadPage:
    """One page's result, with the pixels it was read from when the caller asked to keep them."""

    result: PageResult
    image: np.ndarray | None = None  # BGR uint8; None unless keep_images (or no pixels were decoded)


def read_page(
    pipeline: OcrPipeline | None,
    page: PageImage,
    options: OcrOptions | None = None,
    codes: CodeScanner | None = None,
) -> PageResult:
    """Text (OCR, or a PDF page's own text layer) and codes of one page; no pipeline: codes only."""
    result = _read_text(pipeline, page, options)
    if codes is not None and page.image is not None:
        scan = codes.scan(page.image)
        result.codes = scan.codes
        result.timings_ms.update(scan.timings_ms)
    return result


def _read_text(pipeline: OcrPipeline | None, page: PageImage, options: OcrOptions | None) -> PageResult:
    if pipeline is None:
        return PageResult(page.source, page.page, page.width, page.height, text_origin="none")
    if page.text_lines is not None:
        return PageResult(
            page.source,
            page.page,
            page.width,
            page.height,
            list(page.text_lines),
            {"total": 0.0},
            0,
            "pdf-text",
        )
    assert page.image is not None
    return pipeline.read(page.image, page.source, page.page, options)


def read_file(
    pipeline: OcrPipeline | None,
    path: Path,
    options: OcrOptions | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    codes: CodeScanner | None = None,
) -> Iterator[PageResult | FileFailure]:
    """Every page of a file as a result; a decoding problem becomes one FileFailure."""
    for item in read_pages(pipeline, path, options, max_pixels, codes):
        yield item if isinstance(item, FileFailure) else item.result


def read_pages(
    pipeline: OcrPipeline | None,
    path: Path,
    options: OcrOptions | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    codes: CodeScanner | None = None,
    keep_images: bool = False,
) -> Iterator[ReadPage | FileFailure]:
    """As read_file; keep_images also hands back each page's pixels (PDF text pages are rasterised)."""
    try:
        need_pixels = codes is not None or keep_images
        pages = iter_file_pages(path, max_pixels, need_pixels=need_pixels, want_text=pipeline is not None)
        for page in pages:
            t = time.perf_counter()
            result = read_page(pipeline, page, options, codes)
            result.timings_ms["total"] = (time.perf_counter() - t) * 1000
            yield ReadPage(result, page.image if keep_images else None)
    except ImageError as exc:
        yield FileFailure(source_name(path), str(exc))
    except MemoryError:
        yield FileFailure(source_name(path), "out of memory while reading; lower max_image_pixels")
