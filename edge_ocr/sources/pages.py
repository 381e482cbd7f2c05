"""One file's pages with one page of lookahead, so the last page is known when it is handed out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from edge_ocr.documents import DEFAULT_MAX_PIXELS, PageImage, iter_file_pages
from edge_ocr.errors import ImageError


class PageReader:
    """Decodes a file page by page; a decoding failure ends the pages and is kept in `error`."""

    def __init__(self, path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.path = path
        self.error: str | None = None
        self._pages: Iterator[PageImage] = iter_file_pages(path, max_pixels, need_pixels=True)
        self._next = self._fetch()

    def next(self) -> tuple[PageImage, bool] | None:
        """(page, is_last), or None when there are no (more) pages."""
        current = self._next
        if current is None:
            return None
        self._next = self._fetch()
        return current, self._next is None

    def close(self) -> None:
        """Release the open document (a PDF stays open while its pages are read)."""
        self._pages.close()

    def _fetch(self) -> PageImage | None:
        if self.error is not None:
            return None
        try:
            page = next(self._pages)
        except StopIteration:
            return None
        except ImageError as exc:
            self.error = str(exc)
            return None
        except (OSError, RuntimeError, ValueError, MemoryError) as exc:  # e.g. pdfium failing on one page
            self.error = f"{self.path}: cannot decode: {exc}"
            return None
        if page.image is None:  # need_pixels makes this impossible; refuse rather than hand out no pixels
            self.error = f"{self.path} page {page.page}: no pixels"
            return None
        return page
