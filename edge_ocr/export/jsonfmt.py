"""JSON (one array) and JSON Lines (one object a line): the stable result shape, plus store keys."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from edge_ocr.export import ExportPage


def page_dict(page: ExportPage) -> dict:
    """The result's JSON shape; scan_id and captured_at come first when the page is from the store."""
    out: dict = {}
    if page.scan_id is not None:
        out["scan_id"] = page.scan_id
    if page.captured_at is not None:
        out["captured_at"] = page.captured_at
    out.update(page.result.to_dict())
    return out


class JsonWriter:
    """Streams pages as a JSON array (indented, closed by close()) or as JSON Lines."""

    def __init__(self, out: BinaryIO, lines: bool) -> None:
        self.out, self.lines, self.count = out, lines, 0

    def write(self, page: ExportPage) -> None:
        """Append one page, flushed so a reader of a pipe sees it at once."""
        if self.lines:
            text = json.dumps(page_dict(page), ensure_ascii=False) + "\n"
        else:
            prefix = "[\n" if self.count == 0 else ",\n"
            text = prefix + json.dumps(page_dict(page), ensure_ascii=False, indent=2)
        self.out.write(text.encode("utf-8"))
        self.out.flush()
        self.count += 1

    def close(self) -> None:
        """Close the array (an empty one when nothing was written)."""
        if not self.lines:
            self.out.write(b"[]\n" if self.count == 0 else b"\n]\n")
        self.out.flush()
