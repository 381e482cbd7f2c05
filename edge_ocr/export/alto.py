"""ALTO v4 XML (the libraries' layout-and-text format), valid against the official alto-4-4.xsd.

Coordinates are pixels of the page image (MeasurementUnit pixel). Each page has one PrintSpace
with one TextBlock of all its lines (the engine finds lines, not blocks). Strings are words whose
boxes are estimates (see words.py); WC is the line's confidence. TextLine BASELINE is the
polygon's bottom edge; lines more than half a degree off horizontal also carry their polygon as
a Shape. Barcodes and 2-D codes are Illustration blocks (TYPE "barcode") pointing with TAGREFS
to an OtherTag whose LABEL is the payload (escaped as in the text format) and DESCRIPTION the
symbology. One source image: Description/sourceImageInformation/fileName; several: one
fileIdentifier per page, its fileIdentifierLocation naming the Page ID.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO

from edge_ocr import __version__
from edge_ocr.export import ExportError, xmltext
from edge_ocr.export.text import code_payload
from edge_ocr.export.words import Box, LaidLine, Word, line_quad, page_layout, text_frame, union_bbox

if TYPE_CHECKING:
    from edge_ocr.export import ExportPage

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA_URL = "http://www.loc.gov/alto/v4/alto-4-4.xsd"


def _pos(box: Box) -> str:
    x0, y0, x1, y1 = box
    return f'HPOS="{x0}" VPOS="{y0}" WIDTH="{x1 - x0}" HEIGHT="{y1 - y0}"'


def _points(points) -> str:
    return " ".join(f"{round(x)},{round(y)}" for x, y in points)


def _tilted(quad) -> bool:
    return abs(text_frame(quad).angle) > 0.5


class AltoWriter:
    """Collects pages (their results only) and writes the whole ALTO document on close()."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pages: list[ExportPage] = []

    def write(self, page: ExportPage) -> None:
        """Keep one page; the Description at the top needs every page's source first."""
        self.pages.append(replace(page, image=None, jpeg=None))

    def close(self) -> None:
        """Write the document; ExportError when there are no pages (ALTO requires one)."""
        if not self.pages:
            raise ExportError("nothing to export: an ALTO document needs at least one page")
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<alto xmlns="{NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            f' xsi:schemaLocation="{NAMESPACE} {SCHEMA_URL}" SCHEMAVERSION="4.4">\n',
            self._description(),
            self._tags(),
            "  <Layout>\n",
            *(self._page(n, page) for n, page in enumerate(self.pages, 1)),
            "  </Layout>\n</alto>\n",
        ]
        self.out.write("".join(parts).encode("utf-8"))
        self.out.flush()

    def _description(self) -> str:
        sources = [p.result.source for p in self.pages]
        if len(set(sources)) == 1:
            info = f"      <fileName>{xmltext.text(sources[0])}</fileName>\n"
        else:
            info = "".join(
                f'      <fileIdentifier fileIdentifierLocation="page_{n}">{xmltext.text(source)}'
                "</fileIdentifier>\n"
                for n, source in enumerate(sources, 1)
            )
        return (
            "  <Description>\n"
            "    <MeasurementUnit>pixel</MeasurementUnit>\n"
            f"    <sourceImageInformation>\n{info}    </sourceImageInformation>\n"
            '    <OCRProcessing ID="OCR_0">\n'
            "      <ocrProcessingStep>\n"
            "        <processingStepSettings>word boxes estimated from line polygons"
            "</processingStepSettings>\n"
            "        <processingSoftware>\n"
            "          <softwareName>edge-ocr</softwareName>\n"
            f"          <softwareVersion>{__version__}</softwareVersion>\n"
            "        </processingSoftware>\n"
            "      </ocrProcessingStep>\n"
            "    </OCRProcessing>\n"
            "  </Description>\n"
        )

    def _tags(self) -> str:
        tags = [
            f'    <OtherTag ID="code_{n}_{i}" TYPE="barcode" LABEL={xmltext.attr(code_payload(code))}'
            f" DESCRIPTION={xmltext.attr(code.symbology)}/>\n"
            for n, page in enumerate(self.pages, 1)
            for i, code in enumerate(page.result.codes, 1)
        ]
        return f"  <Tags>\n{''.join(tags)}  </Tags>\n" if tags else ""

    def _page(self, n: int, page: ExportPage) -> str:
        r = page.result
        out = [
            f'    <Page ID="page_{n}" PHYSICAL_IMG_NR="{n}" WIDTH="{r.width}" HEIGHT="{r.height}"'
            ' PROCESSING="OCR_0">\n',
            f"      <PrintSpace {_pos((0, 0, r.width, r.height))}>\n",
        ]
        lines, codes = page_layout(r)
        if lines:
            out.append(self._block(n, lines))
        for i, (_code, box) in enumerate(codes, 1):
            out.append(
                f'        <Illustration ID="barcode_{n}_{i}" TAGREFS="code_{n}_{i}" TYPE="barcode"'
                f" {_pos(box)}/>\n"
            )
        out.append("      </PrintSpace>\n    </Page>\n")
        return "".join(out)

    def _block(self, n: int, lines: list[LaidLine]) -> str:
        out = [f'        <TextBlock ID="block_{n}" {_pos(union_bbox([laid.box for laid in lines]))}>\n']
        word_no = 0
        for i, laid in enumerate(lines, 1):
            quad = line_quad(laid.line)
            baseline = _points((quad[3], quad[2]))
            out.append(f'          <TextLine ID="line_{n}_{i}" {_pos(laid.box)} BASELINE="{baseline}">\n')
            if _tilted(quad):
                out.append(f'            <Shape><Polygon POINTS="{_points(quad)}"/></Shape>\n')
            prev: Box | None = None
            for word, wbox in laid.words:
                word_no += 1
                if prev is not None:
                    out.append(_space(prev, wbox))
                out.append(_string(f"string_{n}_{word_no}", word, wbox))
                prev = wbox
            out.append("          </TextLine>\n")
        out.append("        </TextBlock>\n")
        return "".join(out)


def _string(ident: str, word: Word, box: Box) -> str:
    conf = max(0.0, min(1.0, round(word.confidence, 4)))
    head = f'            <String ID="{ident}" CONTENT={xmltext.attr(word.text)} {_pos(box)} WC="{conf:g}"'
    if not _tilted(word.quad):
        return head + "/>\n"
    return f'{head}><Shape><Polygon POINTS="{_points(word.quad)}"/></Shape></String>\n'


def _space(left: Box, right: Box) -> str:
    """The gap between two words on a line, where it has a width in page axes."""
    gap = right[0] - left[2]
    if gap <= 0:
        return "            <SP/>\n"
    return f'            <SP HPOS="{left[2]}" VPOS="{min(left[1], right[1])}" WIDTH="{gap}"/>\n'
