"""Typed results shared by the JSON output, the store and MQTT: one serialiser for all."""

from __future__ import annotations

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
        )
