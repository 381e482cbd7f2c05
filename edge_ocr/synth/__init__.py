"""Synthetic, labelled OCR test images: labels, plates, receipts, signs, line crops and pages.

Everything is deterministic for a seed and needs only locally installed fonts.
"""

from edge_ocr.synth.degrade import degrade
from edge_ocr.synth.fonts import FontsMissingError, find_fonts
from edge_ocr.synth.generate import make_sample, write_set
from edge_ocr.synth.kinds import render
from edge_ocr.synth.sample import KINDS, LEVELS, Sample

__all__ = [
    "KINDS",
    "LEVELS",
    "FontsMissingError",
    "Sample",
    "degrade",
    "find_fonts",
    "make_sample",
    "render",
    "write_set",
]
