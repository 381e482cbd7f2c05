"""Searchable PDF: each page is the image, with the recognised words as invisible, selectable text.

Written by a small PDF writer of our own (no PDF library on the device). Pages stream out one at
a time, so only the current page's image is ever held. Page size: the pixel size at 150 dpi
(a 1240x1754 scan is A4); pages whose long side would pass 200 inches (PDF viewers' limit) are
scaled down to it. The image is embedded as JPEG (DCTDecode): the page's `jpeg` bytes as they
are, else `image` encoded at quality 85, else none (a blank white page; also when `jpeg` is
damaged and there is no `image`). Each word is drawn in text render mode 3 (invisible) over its
estimated box (words.py): font size = box height, horizontally scaled (Tz) to the box width,
rotated with its line (lines within 5 degrees of an axis are set straight on it). The font is
pdffont.py's invisible CID font, so text in any script can be searched and copied.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, BinaryIO

from edge_ocr import __version__
from edge_ocr.export import ExportError
from edge_ocr.export.pdffont import ADVANCE, DESCENT, FONT_NAME, UNITS_PER_EM, CidMap, font_program
from edge_ocr.export.words import Frame, line_quad, split_words, text_frame
from edge_ocr.results import TextLine

if TYPE_CHECKING:
    import numpy as np

    from edge_ocr.export import ExportPage

DPI = 150
MAX_PAGE_PT = 14400  # 200 inches: the largest page Acrobat and most viewers accept
JPEG_QUALITY = 85
# Lines tilted at most this far from an axis are placed on the axis: poppler (pdftotext, Evince,
# Okular) splits slightly tilted words into fragments; a word's ends move by 4% of its width at most.
SNAP_DEGREES = 5.0
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def page_scale(width: int, height: int, dpi: int = DPI) -> float:
    """Points per pixel: 72/dpi, less where the page would be larger than viewers accept."""
    scale = 72.0 / dpi
    return min(scale, MAX_PAGE_PT / max(width, height, 1))


def jpeg_info(data: bytes) -> tuple[int, int, int, bool]:
    """Width, height, colour components and whether an Adobe APP14 marker is present (CMYK inversion)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    pos, adobe = 2, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("corrupt JPEG: marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xEE and data[pos + 4 : pos + 9] == b"Adobe":
            adobe = True
        if marker in _SOF and pos + 10 <= len(data):
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            components = data[pos + 9]
            if width and height and components in (1, 3, 4):
                return width, height, components, adobe
            raise ValueError(f"unsupported JPEG: {width}x{height}, {components} components")
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            break
        pos += 2 + length
    raise ValueError("corrupt JPEG: no frame header")


def encode_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """A BGR (or grey) uint8 image as JPEG bytes."""
    import cv2

    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("cannot encode the page image as JPEG")
    return encoded.tobytes()


def _num(value: float) -> str:
    """A PDF number: at most 3 decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _stream(data: bytes, extra: str = "", compress: bool = True) -> bytes:
    if compress:
        data, extra = zlib.compress(data), extra + " /Filter /FlateDecode"
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"


class PdfWriter:
    """Streams pages into one PDF; close() writes the page tree, the font, the xref table and trailer."""

    def __init__(self, out: BinaryIO, dpi: int = DPI) -> None:
        self.out, self.dpi = out, dpi
        self.pos = 0
        self.offsets: dict[int, int] = {}
        self.next_number = 1
        self.catalog, self.pages_root = self._reserve(), self._reserve()
        self.kids: list[int] = []
        self.font: int | None = None  # the Type0 font object, reserved when a page first has text
        self.cids = CidMap()

    def write(self, page: ExportPage) -> None:
        """Append one page: its image (if any) and its invisible words."""
        if self.pos == 0:  # the header waits for a page: a document without pages is not written at all
            self._emit(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        r = page.result
        scale = page_scale(r.width, r.height, self.dpi)
        width_pt, height_pt = r.width * scale, r.height * scale
        resources, ops = [], []
        image = self._image(page)
        if image is not None:
            resources.append(f"/XObject << /Im0 {image} 0 R >>")
            ops.append(f"q {_num(width_pt)} 0 0 {_num(height_pt)} 0 0 cm /Im0 Do Q")
        text = [op for line in r.lines for op in self._line(line, scale, height_pt)]
        if text:
            if self.font is None:
                self.font = self._reserve()
            resources.append(f"/Font << /F0 {self.font} 0 R >>")
            ops += ["BT", "3 Tr", *text, "ET"]
        contents = self._object(_stream("\n".join(ops).encode("ascii")))
        number = self._object(
            f"<< /Type /Page /Parent {self.pages_root} 0 R"
            f" /MediaBox [0 0 {_num(width_pt)} {_num(height_pt)}]"
            f" /Resources << {' '.join(resources)} >> /Contents {contents} 0 R >>".encode("ascii")
        )
        self.kids.append(number)

    def close(self) -> None:
        """Finish the document; ExportError when no page was written (readers refuse a PDF without pages)."""
        if not self.kids:
            raise ExportError("nothing to export: a PDF needs at least one page")
        kids = " ".join(f"{k} 0 R" for k in self.kids)
        self._object(f"<< /Type /Pages /Kids [{kids}] /Count {len(self.kids)} >>".encode(), self.pages_root)
        if self.font is not None:
            self._font_objects(self.font)
        self._object(f"<< /Type /Catalog /Pages {self.pages_root} 0 R >>".encode(), self.catalog)
        info = self._object(f"<< /Producer (edge-ocr {__version__}) >>".encode())
        size = self.next_number
        xref = self.pos
        rows = [f"xref\n0 {size}\n0000000000 65535 f \n"]
        rows += [f"{self.offsets[n]:010d} 00000 n \n" for n in range(1, size)]
        rows.append(f"trailer\n<< /Size {size} /Root {self.catalog} 0 R /Info {info} 0 R >>\n")
        rows.append(f"startxref\n{xref}\n%%EOF\n")
        self._emit("".join(rows).encode("ascii"))
        self.out.flush()

    def _line(self, line: TextLine, scale: float, height_pt: float) -> list[str]:
        """Text operators for a line's words; a line within SNAP_DEGREES of an axis is put on it."""
        angle = text_frame(line_quad(line)).angle
        axis = round(angle / 90) * 90
        ops = []
        for word in split_words(line):
            frame = text_frame(word.quad)
            if abs(angle - axis) <= SNAP_DEGREES:
                frame = frame.turned_to(axis)
            if frame.height >= 0.5 and frame.width >= 0.5:
                ops.append(self._word(word.text, frame, scale, height_pt))
        return ops

    def _word(self, text: str, frame: Frame, scale: float, height_pt: float) -> str:
        """Text operators placing one word over its box: baseline, size, stretch and angle."""
        dx, dy = frame.direction
        # the baseline sits 0.2 em above the box's bottom: the font's descent is 0.2 em
        lift = frame.height * -DESCENT / UNITS_PER_EM
        bx, by = frame.origin[0] + lift * dy, frame.origin[1] - lift * dx
        size = frame.height * scale
        stretch = 100 * frame.width / (len(text) * frame.height * ADVANCE / UNITS_PER_EM)
        matrix = " ".join(_num(v) for v in (dx, -dy, dy, dx, bx * scale, height_pt - by * scale))
        return f"/F0 {_num(size)} Tf {_num(stretch)} Tz {matrix} Tm {self.cids.encode(text)} Tj"

    def _image(self, page: ExportPage) -> int | None:
        """The page's JPEG as an image XObject; None (a blank page) when there is no usable image.

        A kept JPEG that cannot be parsed gives way to the pixels, or to a blank page: a damaged
        stored image must not cost the export of the text.
        """
        found = None
        if page.jpeg is not None:
            try:
                found = page.jpeg, jpeg_info(page.jpeg)
            except ValueError:
                found = None
        if found is None and page.image is not None:
            data = encode_jpeg(page.image)
            found = data, jpeg_info(data)
        if found is None:
            return None
        data, (width, height, components, adobe) = found
        space = {1: "/DeviceGray", 3: "/DeviceRGB", 4: "/DeviceCMYK"}[components]
        decode = " /Decode [1 0 1 0 1 0 1 0]" if components == 4 and adobe else ""
        extra = (
            f" /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {space}"
            f" /BitsPerComponent 8 /Filter /DCTDecode{decode}"
        )
        return self._object(_stream(data, extra, compress=False))

    def _font_objects(self, type0: int) -> None:
        cid_font, descriptor = self._reserve(), self._reserve()
        program = font_program()
        file2 = self._object(_stream(program, f" /Length1 {len(program)}"))
        to_unicode = self._object(_stream(self.cids.to_unicode()))
        cid_to_gid = self._object(_stream(self.cids.cid_to_gid()))
        bbox = f"[0 {DESCENT} {ADVANCE} {UNITS_PER_EM + DESCENT}]"
        self._object(
            f"<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 5 /FontBBox {bbox}"
            f" /ItalicAngle 0 /Ascent {UNITS_PER_EM + DESCENT} /Descent {DESCENT}"
            f" /CapHeight {UNITS_PER_EM + DESCENT} /StemV 80 /FontFile2 {file2} 0 R >>".encode(),
            descriptor,
        )
        self._object(
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME}"
            " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
            f" /FontDescriptor {descriptor} 0 R /DW {ADVANCE} /CIDToGIDMap {cid_to_gid} 0 R >>".encode(),
            cid_font,
        )
        self._object(
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H"
            f" /DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>".encode(),
            type0,
        )

    def _reserve(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _object(self, body: bytes, number: int | None = None) -> int:
        number = self._reserve() if number is None else number
        self.offsets[number] = self.pos
        self._emit(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        return number

    def _emit(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)
