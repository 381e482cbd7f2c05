"""hOCR: the XHTML subset Tesseract writes (page, area, paragraph, line, word), for OCR viewers and tools.

Each page is one `ocr_page`, holding one `ocr_carea` with one `ocr_par` of all its lines (the
engine finds lines, not blocks). Word boxes are estimates (see words.py); `x_wconf` is the line's
confidence in percent. Lines within 45 degrees of upright carry a `baseline` (the polygon's
bottom edge); others carry `textangle` instead (counter-clockwise degrees). Barcodes and 2-D
codes follow the text as engine-specific `ocrx_barcode` elements (hOCR reserves the `ocrx_`
and `x_` prefixes for these): `title="bbox ...; x_symbology QRCode"`, the payload as content,
escaped as in the text format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from edge_ocr import __version__
from edge_ocr.export import xmltext
from edge_ocr.export.text import code_payload
from edge_ocr.export.words import LaidLine, line_quad, page_layout, text_frame, union_bbox
from edge_ocr.results import TextLine

if TYPE_CHECKING:
    from edge_ocr.export import ExportPage

CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrx_barcode"

HEAD = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name="ocr-system" content="edge-ocr {__version__}"/>
  <meta name="ocr-capabilities" content="{CAPABILITIES}"/>
 </head>
 <body>
"""
TAIL = " </body>\n</html>\n"


def _bbox(box: tuple[int, int, int, int]) -> str:
    return "bbox {} {} {} {}".format(*box)


def _quoted(value: str) -> str:
    """A title property's string value in double quotes, backslash-escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line_geometry(line: TextLine, box: tuple[int, int, int, int]) -> str:
    """`baseline slope offset` (bottom edge, relative to the box's bottom-left) or `textangle N`."""
    quad = line_quad(line)
    frame = text_frame(quad)
    if abs(frame.angle) > 45:
        return f"textangle {round(frame.angle) % 360}"
    (x3, y3), (x2, y2) = quad[3], quad[2]
    slope = (y2 - y3) / (x2 - x3) if abs(x2 - x3) > 1e-6 else 0.0
    offset = y3 + slope * (box[0] - x3) - box[3]
    return f"baseline {round(slope, 3):g} {round(offset):d}"


class HocrWriter:
    """Streams pages into one hOCR document; close() ends it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.index = out, 0
        self.out.write(HEAD.encode("utf-8"))

    def write(self, page: ExportPage) -> None:
        """Append one page."""
        self.index += 1
        self.out.write(self._page(page).encode("utf-8"))

    def close(self) -> None:
        """End the document."""
        self.out.write(TAIL.encode("utf-8"))
        self.out.flush()

    def _page(self, page: ExportPage) -> str:
        r, n = page.result, self.index
        props = [
            f"image {_quoted(r.source)}",
            _bbox((0, 0, r.width, r.height)),
            f"ppageno {n - 1}",
            f"x_source_page {r.page}",
        ]
        if page.scan_id is not None:
            props.append(f"x_scan_id {page.scan_id}")
        if page.captured_at is not None:
            props.append(f"x_captured_at {_quoted(page.captured_at)}")
        out = [f'  <div class="ocr_page" id="page_{n}" title={xmltext.attr("; ".join(props))}>\n']
        lines, codes = page_layout(r)
        if lines:
            out.append(self._area(n, lines))
        for i, (code, box) in enumerate(codes, 1):
            title = f"{_bbox(box)}; x_symbology {code.symbology}"
            out.append(
                f'   <div class="ocrx_barcode" id="barcode_{n}_{i}" title={xmltext.attr(title)}>'
                f"{xmltext.text(code_payload(code))}</div>\n"
            )
        out.append("  </div>\n")
        return "".join(out)

    def _area(self, n: int, lines: list[LaidLine]) -> str:
        area = _bbox(union_bbox([laid.box for laid in lines]))
        out = [
            f'   <div class="ocr_carea" id="block_{n}_1" title="{area}">\n',
            f'    <p class="ocr_par" id="par_{n}_1" title="{area}">\n',
        ]
        word_no = 0
        for i, laid in enumerate(lines, 1):
            title = f"{_bbox(laid.box)}; {line_geometry(laid.line, laid.box)}"
            spans = []
            for word, wbox in laid.words:
                word_no += 1
                conf = max(0, min(100, round(word.confidence * 100)))
                spans.append(
                    f'<span class="ocrx_word" id="word_{n}_{word_no}" title="{_bbox(wbox)}; x_wconf {conf}">'
                    f"{xmltext.text(word.text)}</span>"
                )
            out.append(f'     <span class="ocr_line" id="line_{n}_{i}" title="{title}">')
            out.append(" ".join(spans) + "</span>\n")
        out.append("    </p>\n   </div>\n")
        return "".join(out)
