"""zxing-cpp: reads every common 1-D and 2-D symbology, including Data Matrix, PDF417, Aztec, rMQR."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np
import zxingcpp

from edge_ocr.codes.base import utf8_or_none
from edge_ocr.codes.merge import canonical_name
from edge_ocr.results import Code, eci_numbers

# zxing-cpp refuses an image with a side above this (ValueError); such frames are downscaled for it.
MAX_SIDE = 65535
MAX_PIXELS = 1 << 28  # zxing-cpp indexes pixels with int: far larger frames are read shrunk too

# Symbologies whose transmission can carry ECI designators (ISO/IEC 15424).
_ECI_CAPABLE = {"QRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode", "RMQRCode", "CompactPDF417"}

_CONTENT = {
    "Text": "text",
    "Binary": "binary",
    "Mixed": "mixed",
    "GS1": "gs1",
    "ISO15434": "iso15434",
    "UnknownECI": "unknown-eci",
}


def format_name(fmt: zxingcpp.BarcodeFormat) -> str:
    """zxing-cpp's family name for a format (DataBarOmni -> DataBar): the project's symbology names."""
    return canonical_name(fmt.name)


class ZxingReader:
    """zxing-cpp with its own rotation, downscale and inversion tries; text in Plain mode."""

    name = "zxing"
    releases_gil = False

    @staticmethod
    def _read(gray: np.ndarray, text_mode: zxingcpp.TextMode, formats=None) -> list:
        kwargs = {"text_mode": text_mode}
        if formats is not None:
            kwargs["formats"] = formats
        return zxingcpp.read_barcodes(gray, **kwargs)

    def read(self, gray: np.ndarray, started: Callable[[], None] | None = None) -> list[Code]:
        """Every valid symbol zxing-cpp finds, with polygons in gray's pixels."""
        if started is not None:
            started()
        if max(gray.shape[:2]) > MAX_SIDE or gray.shape[0] * gray.shape[1] > MAX_PIXELS:
            return self._read_downscaled(gray)
        codes = []
        for found in self._read(gray, zxingcpp.TextMode.Plain):
            if not found.valid:
                continue
            pos = found.position
            polygon = tuple(
                (float(p.x), float(p.y))
                for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
            )
            content = _CONTENT.get(found.content_type.name, found.content_type.name.lower())
            text = utf8_or_none(found.bytes) if content == "binary" else found.text
            name = format_name(found.format)
            if found.format == zxingcpp.BarcodeFormat.Code39Ext:
                # zxing-cpp applied Code 39 Full ASCII (+A -> a): kept apart so the merge can check
                # it against ZBar's raw characters; the scanner reports it as Code39.
                name = "Code39Ext"
            # Only non-ASCII payloads can differ by character set; ASCII ones skip the second read.
            needs_eci = name in _ECI_CAPABLE and content != "gs1" and not bytes(found.bytes).isascii()
            eci_data = self._eci(gray, found, polygon) if needs_eci else None
            codes.append(
                Code(
                    symbology=name,
                    data=bytes(found.bytes),
                    text=text,
                    polygon=polygon,
                    orientation=int(found.orientation) % 360,
                    readers=(self.name,),
                    content_type=content,
                    eci_data=eci_data,
                )
            )
        return codes

    def _read_downscaled(self, gray: np.ndarray) -> list[Code]:
        """zxing-cpp cannot take a side above 65535 px: read the frame shrunk (aspect kept) so its long
        side fits, and map the polygons back. A very long strip loses a little resolution along its
        length; ZBar, where configured, still reads the full frame."""
        factor = min(MAX_SIDE / max(gray.shape[:2]), (MAX_PIXELS / (gray.shape[0] * gray.shape[1])) ** 0.5)
        size = (
            max(1, min(MAX_SIDE, int(gray.shape[1] * factor))),
            max(1, min(MAX_SIDE, int(gray.shape[0] * factor))),
        )
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        fx, fy = gray.shape[1] / size[0], gray.shape[0] / size[1]
        return [
            replace(code, polygon=tuple((x * fx, y * fy) for x, y in code.polygon))
            for code in self.read(small)
        ]

    def _eci(self, gray: np.ndarray, found, polygon) -> bytes | None:
        """The symbol's ISO/IEC 15424 transmission when it declares an ECI (read again, cropped)."""
        xs = [p[0] for p in polygon]
        ys = [p[1] for p in polygon]
        pad = 0.25 * max(max(xs) - min(xs), max(ys) - min(ys)) + 8
        x0, y0 = max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad))
        x1, y1 = int(max(xs) + pad) + 1, int(max(ys) + pad) + 1
        crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
        for again in self._read(crop, zxingcpp.TextMode.HexECI, found.format):
            if bytes(again.bytes) != bytes(found.bytes):
                continue
            transmission = bytes.fromhex(again.text.replace(" ", ""))
            return transmission if eci_numbers(transmission) else None
        return None
