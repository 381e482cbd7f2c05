"""Typed results shared by the JSON output, the store and MQTT: one serialiser for all."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextLine:
    """One recognised line: text, confidence in [0, 1], polygon in original image pixels."""

    text: str
    confidence: float
    polygon: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict:
        """JSON-ready form; the polygon starts at the text's own top-left corner, clockwise."""
        return {
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "polygon": [[round(x, 1), round(y, 1)] for x, y in self.polygon],
        }

    @classmethod
    def from_dict(cls, data: dict) -> TextLine:
        """Inverse of to_dict."""
        return cls(
            text=data["text"],
            confidence=float(data["confidence"]),
            polygon=tuple((float(x), float(y)) for x, y in data["polygon"]),
        )


_ECI_DESIGNATOR = re.compile(rb"\\(\\|\d{6})")


def eci_numbers(transmission: bytes) -> list[int]:
    """ECI designators in an ISO/IEC 15424 transmission (after its 3-byte symbology identifier)."""
    found = _ECI_DESIGNATOR.finditer(transmission[3:])
    return [int(m.group(1)) for m in found if m.group(1) != b"\\"]


@dataclass(frozen=True)
class Code:
    """One decoded barcode or 2-D code; the raw bytes are kept so binary and GS1 payloads survive."""

    symbology: str  # zxing-cpp's format name: QRCode, DataMatrix, EAN13, Code128, ...
    data: bytes  # the payload exactly as encoded (GS1 separators stay 0x1D)
    text: str | None  # the payload as text (ECI charsets applied); None when it is not text
    polygon: tuple[tuple[float, float], ...]  # corners in original image pixels
    orientation: int = 0  # clockwise degrees of the symbol against upright
    readers: tuple[str, ...] = ()  # which readers decoded it: "zxing", "zbar"
    content_type: str = "text"  # text | binary | gs1 | iso15434 | mixed | unknown-eci
    # When the symbol declares an ECI (character set): its ISO/IEC 15424 transmission, i.e. the
    # symbology identifier, the \\NNNNNN designators and the raw bytes, so nothing is lost.
    eci_data: bytes | None = None
    step: str = "direct"  # the retry-ladder step that found it

    def to_dict(self) -> dict:
        """JSON-ready form: text when it is text, always the bytes as base64."""
        out = {
            "symbology": self.symbology,
            "text": self.text,
            "bytes_b64": base64.b64encode(self.data).decode("ascii"),
            "polygon": [[round(x, 1), round(y, 1)] for x, y in self.polygon],
            "orientation": self.orientation,
            "readers": list(self.readers),
            "content_type": self.content_type,
            "step": self.step,
        }
        if self.eci_data is not None:
            out["eci"] = eci_numbers(self.eci_data)
            out["eci_bytes_b64"] = base64.b64encode(self.eci_data).decode("ascii")
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Code:
        """Inverse of to_dict."""
        return cls(
            symbology=data["symbology"],
            data=base64.b64decode(data["bytes_b64"]),
            text=data.get("text"),
            polygon=tuple((float(x), float(y)) for x, y in data["polygon"]),
            orientation=int(data.get("orientation", 0)),
            readers=tuple(data.get("readers", ())),
            content_type=data.get("content_type", "text"),
            eci_data=base64.b64decode(data["eci_bytes_b64"]) if "eci_bytes_b64" in data else None,
            step=data.get("step", "direct"),
        )


@dataclass
class PageResult:
    """Everything read from one image or PDF page."""

    source: str
    page: int
    width: int
    height: int
    lines: list[TextLine] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    rotation: int = 0  # clockwise degrees the input was turned from upright (0, 90, 180, 270)
    text_origin: str = "ocr"  # "ocr", or "pdf-text" when a PDF's own text layer was used
    codes: list[Code] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The lines joined in reading order."""
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict:
        """The stable JSON shape other tools consume (see README, "Output formats")."""
        return {
            "source": self.source,
            "page": self.page,
            "width": self.width,
            "height": self.height,
            "lines": [line.to_dict() for line in self.lines],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "rotation": self.rotation,
            "text_origin": self.text_origin,
            "codes": [code.to_dict() for code in self.codes],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PageResult:
        """Inverse of to_dict."""
        return cls(
            source=data["source"],
            page=int(data["page"]),
            width=int(data["width"]),
            height=int(data["height"]),
            lines=[TextLine.from_dict(d) for d in data.get("lines", [])],
            timings_ms=dict(data.get("timings_ms", {})),
            rotation=int(data.get("rotation", 0)),
            text_origin=data.get("text_origin", "ocr"),
            codes=[Code.from_dict(d) for d in data.get("codes", [])],
        )
