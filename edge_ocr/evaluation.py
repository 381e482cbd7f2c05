"""Accuracy measures for OCR output against ground truth: word P/R/F1 and character error rate."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_PUNCT = "\"'`.,;:!?()[]{}<>«»“”‘’"


def words(text: str) -> list[str]:
    """Tokens for scoring: quotes unified, NFKC, whitespace split, outer punctuation stripped, case kept."""
    out = []
    text = text.translate(_QUOTES)  # typographic quotes are not reading errors
    for token in unicodedata.normalize("NFKC", text).split():
        token = token.strip(_PUNCT)
        if token:
            out.append(token)
    return out


@dataclass(frozen=True)
class WordScore:
    """Counts behind word-level precision and recall (order-independent multisets)."""

    matched: int
    predicted: int
    expected: int

    @property
    def precision(self) -> float:
        """Share of predicted words that are in the ground truth."""
        return self.matched / self.predicted if self.predicted else (1.0 if not self.expected else 0.0)

    @property
    def recall(self) -> float:
        """Share of ground-truth words that were read."""
        return self.matched / self.expected if self.expected else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: WordScore) -> WordScore:
        return WordScore(
            self.matched + other.matched,
            self.predicted + other.predicted,
            self.expected + other.expected,
        )


def word_score(predicted: str, expected: str) -> WordScore:
    """Multiset intersection of words: each ground-truth word can be matched once."""
    p, e = Counter(words(predicted)), Counter(words(expected))
    return WordScore(sum((p & e).values()), sum(p.values()), sum(e.values()))


def letters_digits(text: str) -> str:
    """Upper-case ASCII letters and digits of a text, nothing else: what a plate is compared on."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).upper() if c.isascii() and c.isalnum())


def plate_found(predicted: str, plate: str) -> bool:
    """A plate is found when its letters and digits appear, in order and contiguous, in those read.

    Separators, spaces and line breaks do not count (plates print them in many ways), so a
    plate read as two lines next to each other in reading order is found too.
    """
    wanted = letters_digits(plate)
    return bool(wanted) and wanted in letters_digits(predicted)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), two-row dynamic programme."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(predicted: str, expected: str) -> float:
    """Character error rate of one line, whitespace runs collapsed to one space."""
    p = " ".join(unicodedata.normalize("NFKC", predicted).split())
    e = " ".join(unicodedata.normalize("NFKC", expected).split())
    if not e:
        return 0.0 if not p else 1.0
    return levenshtein(p, e) / len(e)


def ground_truth_for(image: Path) -> Path | None:
    """IMAGE.gt.txt next to the image: either name.ext.gt.txt or name.gt.txt."""
    for candidate in (image.with_name(image.name + ".gt.txt"), image.with_suffix(".gt.txt")):
        if candidate.is_file():
            return candidate
    return None
