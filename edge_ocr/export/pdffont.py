"""An invisible font for the PDF text layer: any Unicode text, nothing drawn, no font file to ship.

Like Tesseract's searchable PDFs, the text layer uses a Type0 font (Identity-H, two-byte CIDs)
over a CIDFontType2 whose every CID maps to one invisible glyph 500/1000 em wide. Each distinct
character of the document gets its own CID, and the ToUnicode CMap maps CIDs back to the
characters, so text extraction, search and copy work for any script (characters outside the
Basic Multilingual Plane too). The TrueType program is built here (a handful of tables, a
glyph that paints nothing) and embedded, so that viewers need no substitute font.
"""

from __future__ import annotations

import struct
from functools import cache

FONT_NAME = "EdgeOcrInvisible"
UNITS_PER_EM = 1000
ADVANCE = 500  # every glyph's width: text space advances half the font size per character
ASCENT, DESCENT = 800, -200  # ascent - descent = 1 em: a word's box is exactly font-size tall
MAX_CID = 0xFFFF
CREATED = 3850070400  # 2026-01-01 in seconds since 1904 (TrueType's epoch); fixed, so output is reproducible


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _name_table() -> bytes:
    names = {1: FONT_NAME, 2: "Regular", 3: f"{FONT_NAME} 1.0", 4: FONT_NAME, 6: FONT_NAME}
    records, storage = b"", b""
    for name_id, value in names.items():  # Windows platform, Unicode BMP, US English; sorted by id
        encoded = value.encode("utf-16-be")
        records += struct.pack(">6H", 3, 1, 0x409, name_id, len(encoded), len(storage))
        storage += encoded
    return struct.pack(">3H", 0, len(names), 6 + len(records)) + records + storage


def _glyph() -> bytes:
    """The one glyph: a two-point contour with no area, from the em box's bottom-left to its top-right.

    It paints nothing, but its bounding box is the whole em box, which viewers use as the
    character's box (pdfium drops text whose box has no width, as a fully empty glyph's box
    has once a word is turned 90 degrees).
    """
    header = struct.pack(">5h", 1, 0, DESCENT, ADVANCE, ASCENT)  # one contour; xMin yMin xMax yMax
    flags = bytes([0x01, 0x01])  # both points on the curve, coordinates as 16-bit deltas
    return (
        header + struct.pack(">2H", 1, 0) + flags + struct.pack(">4h", 0, ADVANCE, DESCENT, ASCENT - DESCENT)
    )


def _tables() -> dict[bytes, bytes]:
    glyphs = 2  # .notdef (empty) and the glyph every CID shows
    glyf = _glyph()
    head = struct.pack(
        ">4I2H2q4h2H3h",
        0x00010000,  # version
        0x00010000,  # fontRevision
        0,  # checkSumAdjustment, set once the whole font is known
        0x5F0F3CF5,  # magicNumber
        0x000B,  # flags: baseline at y=0, left sidebearing at x=0, integer scaling
        UNITS_PER_EM,
        CREATED,  # created
        CREATED,  # modified
        0,
        DESCENT,
        ADVANCE,
        ASCENT,  # xMin yMin xMax yMax
        0,  # macStyle
        3,  # lowestRecPPEM
        2,  # fontDirectionHint
        0,  # indexToLocFormat: short offsets (half the byte offset)
        0,  # glyphDataFormat
    )
    hhea = struct.pack(
        ">I3hH11hH", 0x00010000, ASCENT, DESCENT, 0, ADVANCE, 0, 0, ADVANCE, 1, 0, 0, 0, 0, 0, 0, 0, glyphs
    )
    maxp = struct.pack(">I14H", 0x00010000, glyphs, 2, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)
    hmtx = struct.pack(">HhHh", ADVANCE, 0, ADVANCE, 0)
    loca = struct.pack(">3H", 0, 0, len(glyf) // 2)  # .notdef has no outline; glyph 1 follows
    # cmap: a format 4 subtable holding only the required final segment (PDF selects glyphs by CID)
    cmap = struct.pack(">2H", 0, 1) + struct.pack(">2HI", 3, 1, 12)
    cmap += struct.pack(">8H", 4, 24, 0, 2, 2, 0, 0, 0xFFFF) + struct.pack(">4H", 0, 0xFFFF, 1, 0)
    post = struct.pack(">2I2h5I", 0x00030000, 0, -100, 50, 1, 0, 0, 0, 0)
    return {
        b"cmap": cmap,
        b"glyf": glyf,
        b"head": head,
        b"hhea": hhea,
        b"hmtx": hmtx,
        b"loca": loca,
        b"maxp": maxp,
        b"name": _name_table(),
        b"post": post,
    }


@cache
def font_program() -> bytes:
    """The TrueType font file (embedded as FontFile2): glyphs that paint nothing, 500 units wide."""
    tables = _tables()
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    directory = struct.pack(
        ">I4H", 0x00010000, count, power * 16, power.bit_length() - 1, (count - power) * 16
    )
    offset = 12 + 16 * count
    body, head_at = b"", 0
    for tag in sorted(tables):
        data = tables[tag]
        head_at = offset + len(body) if tag == b"head" else head_at
        directory += tag + struct.pack(">3I", _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(directory + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
    return bytes(font)


class CidMap:
    """Gives each distinct character of a document a CID (1, 2, ...) and encodes text with them."""

    def __init__(self) -> None:
        self.cids: dict[str, int] = {}

    def encode(self, text: str) -> str:
        """The text as a PDF hex string of two-byte CIDs, e.g. <00010002>."""
        codes = []
        for char in text:
            cid = self.cids.get(char)
            if cid is None:
                cid = min(len(self.cids) + 1, MAX_CID)  # past 65535 distinct characters, the last is reused
                self.cids.setdefault(char, cid)
            codes.append(f"{cid:04X}")
        return "<" + "".join(codes) + ">"

    def to_unicode(self) -> bytes:
        """The ToUnicode CMap: each CID back to its character (UTF-16BE, surrogate pairs included)."""
        first: dict[int, str] = {}
        for char, cid in self.cids.items():
            first.setdefault(cid, char)
        entries = sorted(first.items())
        blocks = []
        for start in range(0, len(entries), 100):  # at most 100 entries per bfchar block
            chunk = entries[start : start + 100]
            rows = "".join(f"<{cid:04X}> <{char.encode('utf-16-be').hex().upper()}>\n" for cid, char in chunk)
            blocks.append(f"{len(chunk)} beginbfchar\n{rows}endbfchar\n")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "".join(blocks)
            + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")

    def cid_to_gid(self) -> bytes:
        """The CIDToGIDMap stream: CID 0 to .notdef, every used CID to glyph 1."""
        return b"\0\0" + b"\0\1" * max(self.cids.values(), default=0)
