"""Barcode and 2-D code reading: two readers behind one interface, merged, with a retry ladder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_ocr.codes.scanner import CodeOptions, CodeScan, CodeScanner

__all__ = ["CodeOptions", "CodeScan", "CodeScanner"]


def __getattr__(name: str) -> Any:
    """Imported on first use, so `edge_ocr.codes.names` (the configuration's check) needs no OpenCV."""
    if name in __all__:
        from edge_ocr.codes import scanner

        return getattr(scanner, name)
    raise AttributeError(f"module 'edge_ocr.codes' has no attribute {name!r}")
