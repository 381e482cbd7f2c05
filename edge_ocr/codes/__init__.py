"""Barcode and 2-D code reading: two readers behind one interface, merged, with a retry ladder."""

from edge_ocr.codes.scanner import CodeOptions, CodeScan, CodeScanner

__all__ = ["CodeOptions", "CodeScan", "CodeScanner"]
