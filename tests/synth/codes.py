"""Seeded barcode test images: codes drawn by writers other than the readers under test, on labels, degraded.

segno (QR, Micro QR) and python-barcode (EAN, UPC-A, Code 128, Code 39, ITF, GS1-128) are test-only
dependencies imported where used; zxing-cpp's own writer draws only what neither of them can.
Code 39 Full ASCII (`Code39Ext`) is encoded into its character pairs here (code39_full_ascii) and
drawn by python-barcode as plain Code 39, which is all a Full ASCII symbol is.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    import segno

# One representative valid payload per symbology. GS1 payloads are in their (AI)value form; readers
# return them without brackets and with 0x1D after variable-length elements (see expected_data).
SYMBOLOGIES: dict[str, str | bytes] = {
    "QRCode": "https://example.com/asset/A-1042?s=7",
    "MicroQRCode": "EDGE42",
    "RMQRCode": "EDGE-OCR 42",
    "DataMatrix": "SN:0042-ALPHA/7",
    "Aztec": "EDGE-OCR AZTEC 42",
    "PDF417": "EDGE-OCR PDF417 SAMPLE 42",
    "EAN13": "5901234123457",
    "EAN8": "96385074",
    "UPCA": "036000291452",
    "UPCE": "01234565",
    "Code128": "EDGE-ocr 42",
    "Code39": "EDGE-42",
    "Code39Ext": "Lot a-7/b.c",  # Code 39 Full ASCII: +A for a, /O for /
    "Code93": "CODE93 EDGE",
    "Codabar": "A123456B",
    "ITF": "12345670",
    "DataBar": "(01)09501101530003",
    "DataBarExpanded": "(01)09501101530003(10)ABC12(21)X7",
    "GS1-128": "(01)09501101530003(10)AB12(21)XYZ",
    "GS1-DataMatrix": "(01)09501101530003(17)261231(10)LOT7(21)S42",
}

# How readers report some keys: GS1 variants as their carrier, UPC-A as the EAN-13 with a leading 0,
# Code 39 Full ASCII as Code 39 (with the pairs applied).
REPORTED_AS = {"GS1-128": "Code128", "GS1-DataMatrix": "DataMatrix", "UPCA": "EAN13"}
REPORTED_AS |= {"Code39Ext": "Code39"}
GS1 = frozenset({"GS1-128", "GS1-DataMatrix", "DataBar", "DataBarExpanded"})
LINEAR = frozenset(
    {"EAN13", "EAN8", "UPCA", "UPCE", "Code128", "Code39", "Code93", "Codabar", "ITF", "DataBar"}
    | {"DataBarExpanded", "GS1-128", "Code39Ext"}
)

DEGRADATIONS = ("blur", "perspective", "low-contrast", "glare", "small", "noise-jpeg")
SETS = ("clean", *DEGRADATIONS)  # written as gen-<kind>, plus gen-nocode

_PYTHON_BARCODE = {"EAN13": "ean13", "EAN8": "ean8", "UPCA": "upca", "Code128": "code128"}
_PYTHON_BARCODE |= {"Code39": "code39", "Code39Ext": "code39", "ITF": "itf", "GS1-128": "gs1_128"}
_ZXING = {"DataMatrix", "Aztec", "PDF417", "RMQRCode", "UPCE", "Code93", "Codabar", "DataBar"}
_ZXING |= {"DataBarExpanded", "GS1-DataMatrix"}
_QUIET_1D = 12  # modules each side (EAN needs 11, most others 10)
_QUIET_2D = 3  # modules for zxing-cpp's matrix codes (segno keeps QR's own 4 and Micro QR's 2)
_BAR_HEIGHT = 50  # modules; zxing-cpp draws its 1-D codes this tall too
# GS1 elements of predefined length (General Specifications, by the AI's first two digits): no 0x1D after.
_GS1_FIXED = frozenset({"00", "01", "02", "03", "04", "20", "31", "32", "33", "34", "35", "36", "41"})
_GS1_FIXED |= frozenset(f"1{d}" for d in range(1, 10))
_GS1_ELEMENT = re.compile(r"\((\d{2,4})\)([^(]*)")


def expected_symbology(name: str) -> str:
    """The zxing-cpp format name a reader reports for a SYMBOLOGIES key."""
    return REPORTED_AS.get(name, name)


def gs1_data(hri: str) -> bytes:
    """GS1 '(AI)value' text as transmitted: brackets dropped, 0x1D after each variable-length element."""
    elements = _GS1_ELEMENT.findall(hri)
    if not elements or "".join(f"({ai}){v}" for ai, v in elements) != hri:
        raise ValueError(f"not a GS1 '(AI)value' string: {hri!r}")
    out = []
    for i, (ai, value) in enumerate(elements):
        out.append(ai + value)
        if i < len(elements) - 1 and ai[:2] not in _GS1_FIXED:
            out.append("\x1d")
    return "".join(out).encode("ascii")


def upce_to_gtin13(upce: str) -> str:
    """A UPC-E number (8 digits) expanded to its UPC-A, as the 13-digit GTIN readers report."""
    if len(upce) != 8 or not upce.isdigit():
        raise ValueError(f"UPC-E needs 8 digits: {upce!r}")
    n, d, check = upce[0], upce[1:7], upce[7]
    last = int(d[5])
    if last <= 2:
        body = d[0:2] + d[5] + "0000" + d[2:5]
    elif last == 3:
        body = d[0:3] + "00000" + d[3:5]
    elif last == 4:
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + d[5]
    return "0" + n + body + check


def expected_data(name: str, payload: str | bytes) -> bytes:
    """The bytes a reader should return for a code rendered from this payload."""
    if isinstance(payload, bytes):
        return payload
    if name in GS1:
        return gs1_data(payload)
    if name == "UPCA":
        payload = "0" + payload
    elif name == "UPCE":
        payload = upce_to_gtin13(payload)
    return payload.encode("utf-8")


# Code 39 Full ASCII (ISO/IEC 16388), by character code: the Code 39 characters a Full ASCII encoder
# prints. Written from the table, not derived from the reader side (edge_ocr.codes.code39).
_FULL_ASCII = (
    ["%U"]  # NUL
    + [f"${c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]  # SOH..SUB
    + [f"%{c}" for c in "ABCDE"]  # ESC FS GS RS US
    + [" "]
    + [f"/{c}" for c in "ABCDEFGHIJKL"]  # ! " # $ % & ' ( ) * + ,
    + ["-", ".", "/O"]
    + list("0123456789")
    + ["/Z"]  # :
    + [f"%{c}" for c in "FGHIJ"]  # ; < = > ?
    + ["%V"]  # @
    + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    + [f"%{c}" for c in "KLMNO"]  # [ \ ] ^ _
    + ["%W"]  # `
    + [f"+{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]  # a..z
    + [f"%{c}" for c in "PQRST"]  # { | } ~ DEL
)


def code39_full_ascii(text: str) -> str:
    """ASCII text as the Code 39 characters of its Full ASCII symbol ('12ab' -> '12+A+B')."""
    if not text.isascii():
        raise ValueError(f"Code 39 Full ASCII carries ASCII only: {text!r}")
    return "".join(_FULL_ASCII[ord(c)] for c in text)


def check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit (EAN, UPC, ITF-14) for the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def rasterise(dark: np.ndarray, module_px: int, quiet: int, height: int = _BAR_HEIGHT) -> np.ndarray:
    """Modules (True = dark; 1-D rows are stretched to `height` modules) as black-on-white pixels."""
    dark = dark.astype(bool)
    if dark.ndim == 1:  # 1-D codes need their quiet zone left and right only; a little above and below
        dark = np.pad(np.repeat(dark[None, :], height, axis=0), ((quiet // 3,), (quiet,)))
    else:
        dark = np.pad(dark, quiet)
    img = np.where(dark, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(img, module_px, axis=0), module_px, axis=1)


def segno_image(symbol: segno.QRCode, module_px: int = 4) -> np.ndarray:
    """A segno QR or Micro QR symbol with its standard quiet zone (tests build ECI symbols themselves)."""
    dark = np.array([list(row) for row in symbol.matrix], dtype=np.uint8) & 1
    return rasterise(dark.astype(bool), module_px, symbol.default_border_size)


def _segno(name: str, payload: str | bytes, module_px: int) -> np.ndarray:
    """QR and Micro QR from segno; never segno.make, which turns a short QR payload into a Micro QR."""
    import segno

    symbol = segno.make_micro(payload) if name == "MicroQRCode" else segno.make_qr(payload)
    return segno_image(symbol, module_px)


def _python_barcode(name: str, payload: str | bytes, module_px: int) -> np.ndarray:
    """Retail and industrial 1-D codes from python-barcode's bar pattern, rasterised here at whole modules."""
    import barcode

    text = payload.decode("latin-1") if isinstance(payload, bytes) else payload
    cls = barcode.get_barcode_class(_PYTHON_BARCODE[name])
    if name == "GS1-128":
        # python-barcode writes the leading FNC1 itself; separators between elements are FNC1 too.
        code = cls(gs1_data(text).decode("ascii").replace("\x1d", "\xf1"))
    elif name == "Code39":
        code = cls(text, add_checksum=False)
    elif name == "Code39Ext":
        code = cls(code39_full_ascii(text), add_checksum=False)
    else:
        code = cls(text)
    (bars,) = code.build()
    return rasterise(np.frombuffer(bars.encode("ascii"), np.uint8) == ord("1"), module_px, _QUIET_1D)


def _zxing(name: str, payload: str | bytes, module_px: int) -> np.ndarray:
    """What only zxing-cpp's writer (zint inside) draws; its options go in as keyword arguments."""
    import zxingcpp

    options = {"gs1": True} if name in ("GS1-128", "GS1-DataMatrix") else {}
    fmt = zxingcpp.BarcodeFormat[REPORTED_AS.get(name, name)]
    symbol = zxingcpp.create_barcode(payload, fmt, **options)
    modules = np.array(zxingcpp.write_barcode_to_image(symbol, add_quiet_zones=False), dtype=np.uint8) < 128
    if name in LINEAR:  # zxing-cpp draws 1-D codes 50 modules tall; one row is the code
        return rasterise(modules[modules.shape[0] // 2], module_px, _QUIET_1D)
    return rasterise(modules, module_px, _QUIET_2D)  # Aztec needs none, Data Matrix 1, PDF417 2


def render_code(symbology: str, payload: str | bytes, module_px: int = 4) -> np.ndarray:
    """A clean code (grayscale uint8, quiet zone included) drawn by a writer other than the readers."""
    if module_px < 1:
        raise ValueError("module_px must be at least 1")
    if symbology in ("QRCode", "MicroQRCode"):
        return _segno(symbology, payload, module_px)
    if symbology in _PYTHON_BARCODE:
        return _python_barcode(symbology, payload, module_px)
    if symbology in _ZXING:
        return _zxing(symbology, payload, module_px)
    raise ValueError(f"unknown symbology {symbology!r}; known: {', '.join(SYMBOLOGIES)}")


# What field labels carry, roughly: the share of each symbology in generated sets.
MIX = {
    "QRCode": 0.3,
    "DataMatrix": 0.25,
    "Code128": 0.2,
    "EAN13": 0.15,
    "EAN8": 0.02,
    "UPCA": 0.02,
    "Code39": 0.02,
    "Code39Ext": 0.01,
    "PDF417": 0.015,
    "ITF": 0.01,
    "Aztec": 0.005,
    "GS1-128": 0.005,
    "GS1-DataMatrix": 0.005,
}
_ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _chars(rng: np.random.Generator, alphabet: str, n: int) -> str:
    """n characters drawn from the alphabet, for payloads and clutter text."""
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def random_payload(name: str, rng: np.random.Generator) -> str:
    """A plausible payload for a symbology (ASCII only, so expected bytes are unambiguous)."""
    digits = "0123456789"
    fixed = {"EAN13": 12, "EAN8": 7, "UPCA": 11}
    if name in fixed:
        body = _chars(rng, digits, fixed[name])
        return body + check_digit(body)
    if name == "ITF":
        return _chars(rng, digits, 2 * int(rng.integers(3, 6)))
    if name == "Code39":
        return _chars(rng, _ALNUM + "-", int(rng.integers(4, 9)))
    if name == "Code39Ext":  # lower case and punctuation: 5-10 characters become 7-12 in the symbol
        return _chars(rng, "abcdefghjkmnpqrstuvwxyz", 2) + _chars(rng, _ALNUM + "-.", int(rng.integers(3, 9)))
    if name == "Code128":
        return _chars(rng, _ALNUM + "-/", int(rng.integers(6, 13)))
    if name in ("GS1-128", "GS1-DataMatrix"):
        gtin = "0" + _chars(rng, digits, 12)
        return f"(01){gtin}{check_digit(gtin)}(10){_chars(rng, _ALNUM, int(rng.integers(3, 8)))}"
    if name == "QRCode":
        forms = (f"https://ex.co/a/{_chars(rng, _ALNUM, 8)}", f"ASSET:{_chars(rng, _ALNUM, 10)}")
        return forms[int(rng.integers(0, 2))]
    return f"SN:{_chars(rng, _ALNUM, int(rng.integers(6, 16)))}"


def _paper(rng: np.random.Generator) -> np.ndarray:
    """A label stock colour (BGR): white to cream, never pure white, so pasted codes show no seam."""
    return np.array([rng.uniform(205, 245), rng.uniform(215, 250), rng.uniform(220, 252)], np.float32)


def _clutter(img: np.ndarray, rng: np.random.Generator) -> None:
    """Printed text lines, rules and a frame, as on a shipping or asset label."""
    h, w = img.shape[:2]
    ink = tuple(int(v) for v in rng.uniform(10, 70, 3))
    cv2.rectangle(img, (6, 6), (w - 7, h - 7), ink, int(rng.integers(1, 4)))
    y = int(rng.integers(20, 40))
    words = _ALNUM + "      "
    while y < h - 20:
        if rng.random() < 0.2:
            cv2.line(img, (12, y), (w - 13, y), ink, int(rng.integers(1, 3)))
            y += int(rng.integers(10, 25))
            continue
        scale = float(rng.uniform(0.4, 0.9))
        text = _chars(rng, words, int(rng.integers(8, 40))).strip() or "LOT"
        x = int(rng.integers(14, max(15, w // 3)))
        cv2.putText(
            img, text, (x, y), int(rng.choice([0, 1, 2, 3])), scale, ink, 1 + int(scale > 0.7), cv2.LINE_AA
        )
        y += int(scale * 30 + rng.integers(8, 24))


def place_codes(
    codes: list[np.ndarray], rng: np.random.Generator, size: tuple[int, int] = (600, 800)
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A BGR label with text clutter and the codes pasted apart; boxes are (x0, y0, x1, y1) per code."""
    h, w = size
    paper = _paper(rng)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = np.round(paper).astype(np.uint8)
    _clutter(img, rng)
    boxes: list[tuple[int, int, int, int] | None] = [None] * len(codes)
    gap = 12
    for i in sorted(range(len(codes)), key=lambda k: -codes[k].size):
        ch, cw = codes[i].shape[:2]
        if ch + 2 * gap > h or cw + 2 * gap > w:
            raise ValueError(f"a {cw}x{ch} code does not fit a {w}x{h} label")
        for _ in range(300):
            x, y = int(rng.integers(gap, w - cw - gap + 1)), int(rng.integers(gap, h - ch - gap + 1))
            box = (x, y, x + cw, y + ch)
            if all(b is None or _apart(box, b, gap) for b in boxes):
                break
        else:
            raise ValueError("the codes do not fit on the label without overlapping")
        boxes[i] = box
        ink = np.array(rng.uniform(5, 45, 3), np.float32)
        dark = 1.0 - codes[i].astype(np.float32)[:, :, None] / 255.0
        img[y : y + ch, x : x + cw] = np.round(paper + (ink - paper) * dark).astype(np.uint8)
    return img, [b for b in boxes if b is not None]


def _apart(a: tuple[int, int, int, int], b: tuple[int, int, int, int], gap: int) -> bool:
    """True when two boxes are at least `gap` pixels apart, so quiet zones never touch."""
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def _border_colour(img: np.ndarray) -> tuple[float, ...]:
    """The median edge colour, to fill what a warp uncovers with the label's own paper."""
    edge = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).reshape(
        -1, img.shape[2] if img.ndim == 3 else 1
    )
    return tuple(float(v) for v in np.median(edge, axis=0))


def _blur(img: np.ndarray, rng: np.random.Generator, module_px: float) -> np.ndarray:
    """Defocus or hand shake, scaled to the module so every code size suffers alike."""
    if rng.random() < 0.5:
        return cv2.GaussianBlur(img, (0, 0), module_px * float(rng.uniform(0.3, 0.75)))
    length = max(3, round(module_px * float(rng.uniform(1.5, 4.0))))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    return cv2.filter2D(img, -1, kernel / max(float(kernel.sum()), 1e-6))


def _perspective(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The label seen obliquely: tilted 40-70 degrees about a random axis, turned, through a pinhole."""
    h, w = img.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    direction = float(rng.uniform(0, 2 * np.pi))
    tilt = np.radians(rng.uniform(40, 70)) * np.array([np.cos(direction), np.sin(direction), 0.0])
    turn = np.radians(rng.uniform(-45, 45)) * np.array([0.0, 0.0, 1.0])
    rot = cv2.Rodrigues(tilt)[0] @ cv2.Rodrigues(turn)[0]
    focal = max(h, w) * float(rng.uniform(0.8, 1.5))
    pts = np.hstack([src - [w / 2, h / 2], np.zeros((4, 1))]) @ rot.T
    dst = focal * pts[:, :2] / (pts[:, 2:] + focal)
    dst = (dst - dst.min(axis=0)) * (max(h, w) / float(np.ptp(dst, axis=0).max())) + 10
    out_w, out_h = (int(v) + 10 for v in dst.max(axis=0))
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(
        img, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=_border_colour(img)
    )


def _low_contrast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A faded thermal print in dim or harsh light: 2-10% of the contrast left, plus sensor noise."""
    factor = float(rng.uniform(0.02, 0.1))
    level = float(rng.uniform(60, 200))
    out = level + (img.astype(np.float32) - float(img.mean())) * factor
    out += rng.normal(0.0, rng.uniform(2.0, 6.0), img.shape).astype(np.float32)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _glare(img: np.ndarray, rng: np.random.Generator, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A specular highlight on a glossy label: a washed-out ellipse over part of one code."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = boxes[int(rng.integers(0, len(boxes)))] if boxes else (0, 0, w, h)
    cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
    a = float(rng.uniform(0.25, 0.6)) * max(x1 - x0, y1 - y0)
    b = a * float(rng.uniform(0.4, 1.0))
    t = float(rng.uniform(0, np.pi))
    dx = np.arange(w, dtype=np.float32)[None, :] - np.float32(cx)
    dy = np.arange(h, dtype=np.float32)[:, None] - np.float32(cy)
    u = dx * np.float32(np.cos(t)) + dy * np.float32(np.sin(t))
    v = -dx * np.float32(np.sin(t)) + dy * np.float32(np.cos(t))
    r2 = (u / np.float32(a)) ** 2 + (v / np.float32(b)) ** 2
    weight = np.float32(rng.uniform(0.8, 1.0)) * np.exp(-0.5 * np.maximum(r2 - 0.6, 0) * 2.5)
    weight = weight[:, :, None] if img.ndim == 3 else weight
    out = img.astype(np.float32) * (1 - weight) + 255.0 * weight
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _small(img: np.ndarray, rng: np.random.Generator, module_px: float) -> np.ndarray:
    """A distant code: modules of 1.2-2 px, softened by the lens."""
    factor = float(rng.uniform(1.2, 2.0)) / module_px
    size = (max(1, round(img.shape[1] * factor)), max(1, round(img.shape[0] * factor)))
    small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.45, 0.85)))


def _noise_jpeg(img: np.ndarray, rng: np.random.Generator, module_px: float) -> np.ndarray:
    """Low-light sensor noise (blotchy, about a third of a module across), then a harsh JPEG."""
    noise = rng.normal(0.0, 1.0, img.shape[:2]).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), max(0.5, module_px / 3))
    noise *= np.float32(rng.uniform(30, 65) / max(float(noise.std()), 1e-6))
    noise = noise[:, :, None] if img.ndim == 3 else noise
    noisy = np.clip(np.round(img.astype(np.float32) + noise), 0, 255).astype(np.uint8)
    quality = int(rng.integers(5, 26))
    ok, buf = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def degrade_code_image(
    img: np.ndarray,
    rng: np.random.Generator,
    kind: str,
    *,
    boxes: list[tuple[int, int, int, int]] | None = None,
    module_px: float = 4.0,
) -> np.ndarray:
    """One photographic fault at a strength that leaves some codes readable; `clean` copies."""
    if kind == "clean":
        return img.copy()
    if kind == "blur":
        return _blur(img, rng, module_px)
    if kind == "perspective":
        return _perspective(img, rng)
    if kind == "low-contrast":
        return _low_contrast(img, rng)
    if kind == "glare":
        return _glare(img, rng, boxes or [])
    if kind == "small":
        return _small(img, rng, module_px)
    if kind == "noise-jpeg":
        return _noise_jpeg(img, rng, module_px)
    raise ValueError(f"unknown degradation {kind!r}; known: clean, {', '.join(DEGRADATIONS)}")


def _pick(rng: np.random.Generator) -> str:
    """A symbology drawn with the MIX weights."""
    names = list(MIX)
    weights = np.array([MIX[n] for n in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def make_labelled(
    rng: np.random.Generator, kind: str, name: str | None = None
) -> tuple[np.ndarray, str, bytes]:
    """One label with one code (of `name`, else a symbology drawn by MIX), degraded by `kind`:
    image, symbology, expected bytes."""
    name = name or _pick(rng)
    payload = random_payload(name, rng)
    h, w = int(rng.integers(480, 721)), int(rng.integers(640, 961))
    unit = render_code(name, payload, 1)
    fit = max(1, int(min((w - 40) / unit.shape[1], (h - 40) / unit.shape[0])))
    low, high = (2, 4) if name in LINEAR else (3, 7)
    module_px = max(1, min(fit, int(rng.integers(low, high + 1))))
    img, boxes = place_codes([render_code(name, payload, module_px)], rng, (h, w))
    out = degrade_code_image(img, rng, kind, boxes=boxes, module_px=module_px)
    return out, name, expected_data(name, payload)


def write_code_set(out_dir: Path, count: int, seed: int = 0) -> list[Path]:
    """`count` images per set (gen-clean, gen-<degradation>, gen-nocode) as SET/NAME.png + SET/NAME.txt.

    The .txt holds the expected payload as raw bytes (no newline); gen-nocode images have none.
    """
    out_dir = Path(out_dir)
    paths = []
    for s, kind in enumerate((*SETS, "nocode")):
        folder = out_dir / f"gen-{kind}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            rng = np.random.default_rng([seed, s, i])
            if kind == "nocode":
                img, _ = place_codes([], rng, (int(rng.integers(480, 721)), int(rng.integers(640, 961))))
                path = folder / f"{i:04d}.png"
            else:
                img, name, data = make_labelled(rng, kind)
                path = folder / f"{i:04d}-{name}.png"
            paths.append(_write_item(path, img, None if kind == "nocode" else data))
    return paths


def _write_item(path: Path, img: np.ndarray, payload: bytes | None) -> Path:
    """One image of a set, with its expected payload beside it (none for a code-free image)."""
    if payload is not None:
        path.with_suffix(".txt").write_bytes(payload)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"cannot write {path}")
    return path


def write_symbology_set(folder: Path, name: str, count: int, seed: int = 0) -> list[Path]:
    """`count` labels that all carry a `name` code, degraded in turn (clean, then each of
    DEGRADATIONS), as NAME.png + NAME.txt in one folder: for symbologies the MIX makes rare."""
    if name not in SYMBOLOGIES:
        raise ValueError(f"unknown symbology {name!r}; known: {', '.join(SYMBOLOGIES)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        kind = SETS[i % len(SETS)]
        img, _, data = make_labelled(np.random.default_rng([seed, i]), kind, name)
        paths.append(_write_item(folder / f"{i:04d}-{kind}.png", img, data))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tests.synth.codes OUT --count N --seed S`: write a labelled code image set."""
    p = argparse.ArgumentParser(prog="python -m tests.synth.codes", description=main.__doc__)
    p.add_argument("out_dir", type=Path, help="folder for the gen-* sets")
    p.add_argument("--count", type=int, default=20, help="images per set (default: 20)")
    p.add_argument("--seed", type=int, default=0, help="seed; the same seed writes the same files")
    args = p.parse_args(argv)
    if args.count < 0:
        p.error("--count must be 0 or more")
    paths = write_code_set(args.out_dir, args.count, args.seed)
    print(f"wrote {len(paths)} images to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
