"""edge_ocr: offline OCR and barcode scanning for field hardware."""

__version__ = "0.1.0"
