"""Synthetic, labelled OCR test images: labels, plates, receipts, signs, line crops and pages.

Everything is deterministic for a seed and needs only locally installed fonts.
"""

from tests.synth.degrade import degrade
from tests.synth.fonts import FontsMissingError, find_fonts
from tests.synth.generate import make_sample, write_set
from tests.synth.kinds import render
from tests.synth.sample import KINDS, LEVELS, Sample

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
