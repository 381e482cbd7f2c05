"""A folder or glob of images and PDFs as a finite source: every page once (or round and round)."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from edge_ocr.config.kinds import ImagesSettings
from edge_ocr.documents import DEFAULT_MAX_PIXELS, SUPPORTED_SUFFIXES, expand_inputs
from edge_ocr.sources.base import EndOfSource, Frame, SourceError, now_ms
from edge_ocr.sources.pages import PageReader

log = logging.getLogger(__name__)


def list_files(pattern: str) -> list[Path]:
    """A folder (recursively), a glob, or one file, as a sorted list of supported files."""
    path = Path(pattern)
    if path.is_dir():
        return expand_inputs([path])
    if path.is_file():
        return [path]
    if glob.has_magic(pattern):
        found = (Path(p) for p in glob.glob(pattern, recursive=True))
        return sorted(p for p in found if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
    return []


class ImagesSource:
    """Each page of each file is a Frame; a file that cannot be decoded is logged, counted and skipped."""

    def __init__(self, settings: ImagesSettings, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.settings = settings
        self.name = f"images:{settings.path}"
        self.max_pixels = max_pixels
        self.files_failed = 0
        self.last_error: str | None = None
        self._root: Path | None = None
        self._files: list[Path] = []
        self._pos = 0
        self._pass_frames = 0
        self._reader: PageReader | None = None
        self._index = 0

    def open(self) -> None:
        """List the files; SourceError when there are none."""
        self.close()
        self._files = self._list()
        self._root = Path(self.settings.path) if Path(self.settings.path).is_dir() else None
        self._pos = 0
        self._pass_frames = 0
        self._index = 0

    def _list(self) -> list[Path]:
        if not self.settings.path:
            raise SourceError(f"{self.name}: [source] path is empty (a folder or a glob such as scans/*.pdf)")
        files = list_files(self.settings.path)
        if not files:
            raise SourceError(f"{self.name}: no images or PDFs found at {self.settings.path}")
        return files

    def read(self, timeout_s: float) -> Frame | None:
        """The next page (decoding takes what it takes; there is no waiting here)."""
        while True:
            if self._reader is None:
                self._next_file()
            assert self._reader is not None
            got = self._reader.next()
            if got is None:
                self._skip(self._reader.error or f"{self._reader.path}: no pages")
                continue
            page, last = got
            if last:
                if self._reader.error:  # later pages failed: what was read is handed out, the rest logged
                    self._skip(self._reader.error)
                else:
                    self._reader.close()
                    self._reader = None
            self._pass_frames += 1
            frame = Frame(page.image, f"images:{self._label(page.source)}", self._index, now_ms(), page.page)
            frame.last_of_item = last
            self._index += 1
            return frame

    def _next_file(self) -> None:
        if self._pos >= len(self._files):
            if not self.settings.loop:
                raise EndOfSource(self.name)
            if self._pass_frames == 0:
                raise SourceError(f"{self.name}: none of the files could be read ({self.last_error})")
            self._files = self._list()  # new files join the next round
            self._pos = 0
            self._pass_frames = 0
        path = self._files[self._pos]
        self._pos += 1
        self._reader = PageReader(path, self.max_pixels)

    def _skip(self, error: str) -> None:
        self.files_failed += 1
        self.last_error = error
        log.warning("%s: skipped: %s", self.name, error)
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _label(self, source: str) -> str:
        if self._root is not None:
            try:
                return str(Path(source).relative_to(self._root))
            except ValueError:
                pass
        return source

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        """Nothing to file away: the folder is only read."""

    def close(self) -> None:
        """Release an open document."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
