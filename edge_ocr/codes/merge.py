"""Merge what several readers found: one entry per (symbology, payload, position)."""

from __future__ import annotations

from dataclasses import replace

from edge_ocr.codes.code39 import is_full_ascii_of
from edge_ocr.results import Code

# zxing-cpp names some variants more finely than ZBar; codes of one family are the same symbol.
_FAMILY = {
    "Code39Std": "Code39",
    "Code39Ext": "Code39",
    "DataBarOmni": "DataBar",
    "DataBarStk": "DataBar",
    "DataBarStkOmni": "DataBar",
    "DataBarExp": "DataBarExpanded",
    "DataBarExpStk": "DataBarExpanded",
    "DataBarLtd": "DataBarLimited",
    "QRCodeModel2": "QRCode",
    "QRCodeModel1": "QRCode",
    "ITF14": "ITF",
    "CompactPDF417": "PDF417",
}
# ZBar reports UPC-A and UPC-E as the EAN-13 they expand to; zxing-cpp keeps UPC-E apart.
_SAME_NUMBER = {"UPCA": "EAN13", "UPCE": "EAN13"}


def canonical_name(symbology: str) -> str:
    """zxing-cpp's variant names folded into the family name the output uses (DataBarOmni -> DataBar)."""
    return _FAMILY.get(symbology, symbology)


def family(symbology: str) -> str:
    """The symbology family used to compare codes from different readers."""
    name = canonical_name(symbology)
    return _SAME_NUMBER.get(name, name)


def _box(code: Code) -> tuple[float, float, float, float]:
    xs = [p[0] for p in code.polygon] or [0.0]
    ys = [p[1] for p in code.polygon] or [0.0]
    return min(xs), min(ys), max(xs), max(ys)


def same_place(a: Code, b: Code) -> bool:
    """True when either code's centre lies inside the other's box (grown by a quarter of its size)."""
    for one, other in ((a, b), (b, a)):
        x0, y0, x1, y1 = _box(one)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ox0, oy0, ox1, oy1 = _box(other)
        gx, gy = 0.25 * (ox1 - ox0) + 4, 0.25 * (oy1 - oy0) + 4
        if ox0 - gx <= cx <= ox1 + gx and oy0 - gy <= cy <= oy1 + gy:
            return True
    return False


def same_symbol(a: Code, b: Code) -> bool:
    """One symbol seen twice: same family, same payload (bytes, or text where a reader transcoded)."""
    if family(a.symbology) != family(b.symbology):
        return False
    if a.data != b.data and (a.text is None or a.text != b.text):
        return False
    return same_place(a, b)


def degenerate(code: Code) -> bool:
    """A decode located at a single point is a reader's artefact, not a printed symbol."""
    x0, y0, x1, y1 = _box(code)
    return max(x1 - x0, y1 - y0) < 2


# 2-D symbols carry Reed-Solomon error correction: two of them at one spot are two symbols
# (nested or overlapping), not a misread. 1-D codes have at most a check digit.
_MATRIX = {"QRCode", "MicroQRCode", "RMQRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode"}


def _centre_inside(a: Code, b: Code) -> bool:
    x0, y0, x1, y1 = _box(a)
    bx0, by0, bx1, by1 = _box(b)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return bx0 - 2 <= cx <= bx1 + 2 and by0 - 2 <= cy <= by1 + 2


def conflicting(a: Code, b: Code) -> bool:
    """Two readers decoding different payloads of one 1-D code at one spot: at least one misread."""
    return (
        family(a.symbology) == family(b.symbology)
        and family(a.symbology) not in _MATRIX
        and a.data != b.data
        and _centre_inside(a, b)
        and _centre_inside(b, a)
    )


def _full_ascii_pair(interpreted: Code, raw: Code) -> bool:
    """True when zxing-cpp applied Code 39 Full ASCII (it reports Code39Ext only then) and its
    text is exactly the Full ASCII reading of the raw characters the other reader saw."""
    return (
        interpreted.symbology == "Code39Ext"
        and "zxing" in interpreted.readers
        and raw.symbology == "Code39"
        and is_full_ascii_of(interpreted.data, raw.data)
    )


def _resolve(a: Code, b: Code) -> Code | None:
    """The side to keep in a conflict, otherwise neither: zxing-cpp's when it decoded bytes above
    ASCII (Code 128 FNC4 extended characters, which ZBar turns into other letters), or when it
    read Code 39 Full ASCII whose pairs are exactly the raw characters ZBar reports (+A for a)."""
    for one, other in ((a, b), (b, a)):
        if "zxing" in one.readers and not one.data.isascii() and other.data.isascii():
            return one
        if _full_ascii_pair(one, other):
            return one
    return None


def merge_codes(codes: list[Code]) -> list[Code]:
    """De-duplicate, keeping the first reader's entry and noting every reader that agreed; drop
    degenerate decodes, and both sides of a disagreement between readers (a wrong payload is worse
    than none: the retry ladder or the next frame gets another chance) unless _resolve keeps one.
    The kept side names only its own readers. Symbology names stay as the readers gave them
    (Code39Ext among them, so a later merge can still check it); report with canonical_name."""
    codes = [c for c in codes if not degenerate(c)]
    losers: set[int] = set()
    for i, a in enumerate(codes):
        for j in range(i + 1, len(codes)):
            b = codes[j]
            if set(a.readers).isdisjoint(b.readers) and conflicting(a, b):
                keep = _resolve(a, b)
                losers.update(k for k, c in ((i, a), (j, b)) if c is not keep)
    codes = [c for i, c in enumerate(codes) if i not in losers]
    merged: list[Code] = []
    for code in codes:
        for i, kept in enumerate(merged):
            if same_symbol(kept, code):
                extra = tuple(r for r in code.readers if r not in kept.readers)
                merged[i] = replace(kept, readers=kept.readers + extra)
                break
        else:
            merged.append(code)
    merged.sort(key=lambda c: (round(_box(c)[1] / 20), _box(c)[0]))
    return merged
