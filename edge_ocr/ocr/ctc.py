"""Greedy CTC decoding with an optional character allow-list applied inside the decode."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edge_ocr.ocr.allowlist import parse_allowlist


@dataclass(frozen=True)
class Decoded:
    """Text of one line with its confidence (mean probability of the emitted characters)."""

    text: str
    confidence: float


class CTCDecoder:
    """Map per-frame class probabilities to text; class 0 is the CTC blank."""

    def __init__(self, charset: list[str], allowlist: str | None = None) -> None:
        self.charset = charset
        self._columns: np.ndarray | None = None
        if allowlist:
            allowed = parse_allowlist(allowlist)
            cols = [0] + [i for i, c in enumerate(charset) if i > 0 and c in allowed]
            missing = allowed - {charset[i] for i in cols[1:]}
            if len(cols) == 1:
                raise ValueError(f"no character of the allow-list {allowlist!r} is in the model")
            if missing:
                shown = "".join(sorted(missing))
                raise ValueError(f"allow-list characters not in the model dictionary: {shown!r}")
            self._columns = np.asarray(cols, dtype=np.int64)

    def best_path(self, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: the best (allowed) class and its probability."""
        if probs.ndim != 2 or probs.shape[1] != len(self.charset):
            raise ValueError(f"probabilities {probs.shape} do not match {len(self.charset)} classes")
        if self._columns is not None:
            sub = probs[:, self._columns]
            best_sub = sub.argmax(axis=1)
            return self._columns[best_sub], sub[np.arange(len(sub)), best_sub]
        best = probs.argmax(axis=1)
        return best, probs[np.arange(len(probs)), best]

    def decode(self, probs: np.ndarray) -> Decoded:
        """Best path: argmax per frame (over allowed classes), collapse repeats, drop blanks."""
        return self.decode_chunks([probs])

    def decode_chunks(self, chunks: Iterable[np.ndarray]) -> Decoded:
        """The same over a line's frames given piece by piece (one recogniser window at a time), so a
        long line never holds all its [frames, classes] probabilities at once."""
        paths = [self.best_path(c) for c in chunks]
        if not paths:
            return Decoded("", 0.0)
        best = np.concatenate([b for b, _ in paths])
        best_p = np.concatenate([p for _, p in paths])
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        idx = best[keep]
        if idx.size == 0:
            return Decoded("", 0.0)
        # NFKC: the multilingual dictionaries also hold full-width forms (：, Ａ) of Latin text
        text = unicodedata.normalize("NFKC", "".join(self.charset[i] for i in idx))
        return Decoded(re.sub(r"\s+", " ", text).strip(), float(best_p[keep].mean()))


class DecoderCache:
    """CTC decoders per allow-list over one dictionary (building the column index is not free)."""

    def __init__(self, charset: list[str]) -> None:
        self.charset = charset
        self._decoders: dict[str | None, CTCDecoder] = {}

    def get(self, allowlist: str | None) -> CTCDecoder:
        """The decoder for this allow-list, built on first use (an invalid list raises ValueError)."""
        if allowlist not in self._decoders:
            self._decoders[allowlist] = CTCDecoder(self.charset, allowlist)
        return self._decoders[allowlist]
