"""Hostile inputs for the fuzz suite, built from small parameters so that hypothesis (tests/test_fuzz.py)
and a seeded random generator (benchmarks/fuzz.py) draw from the same space.

Images start as a valid small file of each format the reader accepts, then one mutation: a byte set,
a cut, a splice of junk, a header's width/height rewritten (checksums fixed, so the decoder believes it),
or many pages/frames. Configs are TOML tables of known and unknown sections, keys and values of every
type; search queries mix FTS5 syntax, quotes, SQL and control characters.
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

FORMATS = ("png", "jpeg", "tiff", "gif", "bmp", "webp", "pdf")
OPS = ("none", "flip", "truncate", "splice", "dims", "pages")
# Header sizes worth trying: empty, tiny, around the 16-bit and 32-bit edges, and a bomb.
DIMS = (0, 1, 3, 255, 65535, 65536, 70000, 60000, 2**31 - 1, 2**32 - 1)
PDF_SIZES = ("0", "-5", "1", "14400", "1000000", "1e12", "nan", "[")
SIDES = (16, 256, 1500)


@dataclass(frozen=True)
class Mutation:
    """One change to a valid file: which, where (offset), what (value), how much (length)."""

    op: str
    offset: int = 0
    value: int = 0
    length: int = 1

    def describe(self) -> str:
        return f"{self.op}(offset={self.offset}, value={self.value}, length={self.length})"


def random_mutation(rng: random.Random) -> Mutation:
    """The benchmark's draw: the same space hypothesis explores in the tests."""
    return Mutation(rng.choice(OPS), rng.randrange(1 << 20), rng.randrange(1 << 32), rng.randrange(1, 4096))


# ---- valid starting files ------------------------------------------------------------------------


@functools.cache
def _label() -> np.ndarray:
    """A small printed label with a QR code, so every stage (detect, recognise, codes) has work."""
    from tests.daemon_helpers import label

    return label(["LOT 4471-AX2"], qr="FUZZ-1", size=20)


def _pil(image: np.ndarray):
    from PIL import Image

    return Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def _frames_file(fmt: str, count: int, side: int) -> bytes:
    """A TIFF, GIF or PDF of `count` blank pages of side x side pixels (compressed: a small file)."""
    if fmt == "pdf":
        return _pdf_pages(count, side)
    blank = _pil(np.full((side, side, 3), 250, np.uint8))
    out = io.BytesIO()
    extra = {"compression": "tiff_deflate"} if fmt == "tiff" else {}
    blank.save(out, format=fmt.upper(), save_all=True, append_images=[blank] * (count - 1), **extra)
    return out.getvalue()


def _pdf_pages(count: int, side: int) -> bytes:
    from tests.pdfmaker import _pdf

    kids = " ".join(f"{3 + i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
    ]
    objects += [f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] >>".encode()] * count
    return _pdf(objects)


@functools.cache
def base_file(fmt: str) -> bytes:
    """A valid file of the format: the label (two pages for TIFF, GIF and PDF)."""
    image = _label()
    if fmt in ("png", "jpeg", "bmp", "webp"):
        ok, data = cv2.imencode("." + ("jpg" if fmt == "jpeg" else fmt), image)
        assert ok, fmt
        return data.tobytes()
    if fmt == "pdf":
        import tempfile
        from pathlib import Path

        from tests.pdfmaker import image_pdf

        with tempfile.TemporaryDirectory() as tmp:
            return image_pdf(Path(tmp) / "x.pdf", image, dpi=100).read_bytes()
    out = io.BytesIO()
    first = _pil(image)
    first.save(out, format=fmt.upper(), save_all=True, append_images=[first.rotate(180)])
    return out.getvalue()


# ---- mutations -----------------------------------------------------------------------------------


def mutate(fmt: str, m: Mutation, max_pages: int = 48) -> bytes:
    """The format's valid file changed by m (or a file of up to max_pages pages for op "pages")."""
    data = bytearray(base_file(fmt))
    if m.op == "flip":
        data[m.offset % len(data)] = m.value & 0xFF
    elif m.op == "truncate":
        del data[m.offset % len(data) :]
    elif m.op == "splice":
        at = m.offset % len(data)
        junk = random.Random(m.value).randbytes(m.length % 512)
        data[at:at] = junk
    elif m.op == "dims":
        return _set_dims(fmt, bytes(data), DIMS[m.value % len(DIMS)], m.length % 3)
    elif m.op == "pages":
        multi = fmt if fmt in ("tiff", "gif", "pdf") else "tiff"
        return _frames_file(multi, 1 + m.value % max_pages, SIDES[m.length % len(SIDES)])
    return bytes(data)


def _put(b: bytearray, value: bytes, width_at: int, height_at: int, w: bool, h: bool) -> None:
    """The packed size written at the width's and/or the height's offset."""
    for wanted, at in ((w, width_at), (h, height_at)):
        if wanted:
            b[at : at + len(value)] = value


def _set_dims(fmt: str, data: bytes, size: int, which: int) -> bytes:
    """Rewrite the header's width (which 0), height (1) or both (2) as a decoder reads them."""
    b = bytearray(data)
    w, h = which in (0, 2), which in (1, 2)
    if fmt == "png":  # IHDR: width, height at 16 and 20, then its CRC at 29
        _put(b, struct.pack(">I", size), 16, 20, w, h)
        b[29:33] = struct.pack(">I", zlib.crc32(bytes(b[12:29])))
    elif fmt == "jpeg":  # the frame header (SOF0/SOF2): height, width as 16-bit
        at = max(b.find(b"\xff\xc0"), b.find(b"\xff\xc2"))
        if at >= 0:
            _put(b, struct.pack(">H", size & 0xFFFF), at + 7, at + 5, w, h)
    elif fmt == "gif":  # logical screen and the first image descriptor, 16-bit little-endian
        desc = b.find(b"\x2c", 13)
        for base in (6, desc + 5) if desc > 0 else (6,):
            _put(b, struct.pack("<H", size & 0xFFFF), base, base + 2, w, h)
    elif fmt == "bmp":  # signed 32-bit width and height (a negative height is top-down)
        _put(b, struct.pack("<i", size if size < 2**31 else size - 2**32), 18, 22, w, h)
    elif fmt == "tiff":
        _tiff_dims(b, size, w, h)
    elif fmt == "webp":  # lossy VP8: 14-bit width and height after the start code
        at = b.find(b"\x9d\x01\x2a")
        if at >= 0:
            _put(b, struct.pack("<H", size & 0x3FFF), at + 3, at + 5, w, h)
    elif fmt == "pdf":
        box = PDF_SIZES[size % len(PDF_SIZES)]
        start = b.find(b"/MediaBox [")
        end = b.find(b"]", start)
        if start >= 0 and end > start:
            b[start:end] = f"/MediaBox [0 0 {box if w else 612} {box if h else 792}".encode()
    return bytes(b)


def _tiff_dims(b: bytearray, size: int, w: bool, h: bool) -> None:
    """ImageWidth (256) / ImageLength (257) in the first IFD, as SHORT or LONG as written."""
    order = "<" if b[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", b[4:8])
    if ifd + 2 > len(b):
        return
    (count,) = struct.unpack(order + "H", b[ifd : ifd + 2])
    for i in range(min(count, 64)):
        at = ifd + 2 + 12 * i
        tag, kind = struct.unpack(order + "HH", b[at : at + 4])
        if (tag == 256 and w) or (tag == 257 and h):
            if kind == 3:
                b[at + 8 : at + 10] = struct.pack(order + "H", size & 0xFFFF)
            else:
                b[at + 8 : at + 12] = struct.pack(order + "I", size & 0xFFFFFFFF)


# ---- configs and queries -------------------------------------------------------------------------

KNOWN_SECTIONS = ("device", "source", "gate", "ocr", "codes", "store", "mqtt", "service")


def known_keys() -> dict[str, list[str]]:
    """Every section's keys as the loader knows them (source: of every kind)."""
    from dataclasses import fields

    from edge_ocr.config import SECTIONS, SOURCE_KINDS

    keys = {name: [f.name for f in fields(cls)] for name, cls in SECTIONS.items()}
    keys["source"] = sorted({f.name for kind in SOURCE_KINDS.values() for f in fields(kind.settings)})
    return keys


def toml_document(table: dict[str, Any]) -> str:
    """TOML text for a table whose values may be nested tables, lists, any scalar (inline tables)."""
    import json
    import math

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=True)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    out = []
    for section, body in table.items():
        if isinstance(body, dict):
            out.append(f"[{json.dumps(section)}]")
            out += [f"{json.dumps(str(k))} = {value(v)}" for k, v in body.items()]
        else:
            out.insert(0, f"{json.dumps(section)} = {value(body)}")
    return "\n".join(out) + "\n"
