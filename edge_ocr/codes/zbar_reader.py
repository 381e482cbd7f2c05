"""ZBar through pyzbar: strong on damaged 1-D codes; QR payloads kept as raw bytes."""

from __future__ import annotations

from collections.abc import Callable
from ctypes import c_void_p, cast, string_at

import numpy as np
from pyzbar import wrapper as zb

from edge_ocr.codes.base import clockwise, utf8_or_none
from edge_ocr.results import Code

# zbar >= 0.23: ZBAR_CFG_BINARY (4) stops ZBar guessing a charset and re-encoding QR bytes.
# pyzbar 0.1.9's enum predates it, hence the number.
_CFG_BINARY = 4
_Y800 = int.from_bytes(b"Y800", "little")

_NAMES = {
    "QRCODE": "QRCode",
    "ISBN10": "EAN13",
    "ISBN13": "EAN13",
    "CODE128": "Code128",
    "CODE39": "Code39",
    "CODE93": "Code93",
    "I25": "ITF",
    "CODABAR": "Codabar",
    "DATABAR": "DataBar",
    "DATABAR_EXP": "DataBarExpanded",
    "SQCODE": "SQCode",
}
_ORIENTATION = {0: 0, 1: 90, 2: 180, 3: 270}  # ZBAR_ORIENT_UP, RIGHT, DOWN, LEFT


def symbology(zbar_type: int) -> str:
    """ZBar's type in zxing-cpp's naming (both report UPC-A as the EAN-13 with a leading 0)."""
    try:
        name = zb.ZBarSymbol(zbar_type).name
    except ValueError:
        return f"zbar-{zbar_type}"
    return _NAMES.get(name, name)  # names ZBar shares with zxing-cpp pass through


def qr_text(data: bytes) -> str | None:
    """QR text as ZBar itself would guess it: UTF-8, else Shift_JIS (common in Japan), else None."""
    text = utf8_or_none(data)
    if text is None:
        try:
            text = data.decode("shift_jis")
        except UnicodeDecodeError:
            return None
    return text


def _polygon(symbol) -> tuple[tuple[float, float], ...]:
    """The corners ZBar reports (for 1-D codes: the scan line ends), as a bounding quadrilateral."""
    n = zb.zbar_symbol_get_loc_size(symbol)
    points = np.array(
        [(zb.zbar_symbol_get_loc_x(symbol, i), zb.zbar_symbol_get_loc_y(symbol, i)) for i in range(n)],
        dtype=np.float32,
    )
    if len(points) == 0:
        return ()
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    if len(points) == 4 and x1 - x0 > 1 and y1 - y0 > 1:
        return clockwise([(float(x), float(y)) for x, y in points])
    return ((float(x0), float(y0)), (float(x1), float(y0)), (float(x1), float(y1)), (float(x0), float(y1)))


# ZBar's DataBar decoder prints assertion warnings to stderr on some photos (a line per frame in
# the journal); zxing-cpp reads DataBar, so ZBar leaves it alone.
_DISABLED = (zb.ZBarSymbol.DATABAR, zb.ZBarSymbol.DATABAR_EXP)


class ZbarReader:
    """The ZBar image scanner with default symbologies (DataBar left to zxing-cpp), QR in binary mode.

    density: scan every Nth row and column; 2 halves the time of the first pass (zxing-cpp runs beside
    it), and the retry ladder's "dense" step scans every line when nothing decoded.
    """

    name = "zbar"
    releases_gil = True  # ctypes drops the GIL for every call into libzbar

    def __init__(self, density: int = 1) -> None:
        self.density = density

    def read(self, gray: np.ndarray, started: Callable[[], None] | None = None) -> list[Code]:
        """Every symbol ZBar decodes."""
        gray = np.ascontiguousarray(gray, dtype=np.uint8)
        height, width = gray.shape[:2]
        scanner = zb.zbar_image_scanner_create()
        image = zb.zbar_image_create()
        try:
            zb.zbar_image_scanner_set_config(scanner, zb.ZBarSymbol.QRCODE, _CFG_BINARY, 1)
            zb.zbar_image_scanner_set_config(scanner, 0, zb.ZBarConfig.CFG_X_DENSITY, self.density)
            zb.zbar_image_scanner_set_config(scanner, 0, zb.ZBarConfig.CFG_Y_DENSITY, self.density)
            for symbol_type in _DISABLED:
                zb.zbar_image_scanner_set_config(scanner, symbol_type, zb.ZBarConfig.CFG_ENABLE, 0)
            zb.zbar_image_set_format(image, _Y800)
            zb.zbar_image_set_size(image, width, height)
            zb.zbar_image_set_data(image, cast(gray.ctypes.data, c_void_p), gray.nbytes, None)
            if started is not None:
                started()
            if zb.zbar_scan_image(scanner, image) < 0:
                return []
            codes = []
            symbol = zb.zbar_image_first_symbol(image)
            while symbol:
                data = string_at(zb.zbar_symbol_get_data(symbol), zb.zbar_symbol_get_data_length(symbol))
                name = symbology(symbol.contents.type)
                text = qr_text(data) if name == "QRCode" else utf8_or_none(data)
                codes.append(
                    Code(
                        symbology=name,
                        data=data,
                        text=text,
                        polygon=_polygon(symbol),
                        orientation=_ORIENTATION.get(zb.zbar_symbol_get_orientation(symbol), 0),
                        readers=(self.name,),
                        content_type="text" if text is not None else "binary",
                    )
                )
                symbol = zb.zbar_symbol_next(symbol)
            return codes
        finally:
            zb.zbar_image_destroy(image)
            zb.zbar_image_scanner_destroy(scanner)
