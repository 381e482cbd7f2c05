"""Re-read the lines the fast recogniser is unsure of with a stronger one; keep the surer reading."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge_ocr.ocr.ctc import CTCDecoder, Decoded, DecoderCache
from edge_ocr.ocr.parallel import ParallelRecogniser
from edge_ocr.ocr.recognise import TextRecogniser
from edge_ocr.ocr.runtime import release

# A re-reading replaces the first only when it is at least this sure: below it the stronger
# model also "reads" single characters into noise (5 of 10 noise images at 0.0, 2 at 0.8, with
# the same plates found).
ACCEPT_AT = 0.8


class SecondOpinion:
    """A second recogniser with its own dictionary, asked only about low-confidence lines."""

    def __init__(
        self, recogniser: TextRecogniser | ParallelRecogniser, charset: list[str], name: str = ""
    ) -> None:
        self.recogniser = recogniser
        self.charset = charset
        self.name = name
        self._decoders = DecoderCache(charset)

    def decoder(self, allowlist: str | None) -> CTCDecoder:
        """Decoders per allow-list, on this recogniser's own dictionary."""
        return self._decoders.get(allowlist)

    def improve(
        self,
        crops: Sequence[np.ndarray],
        decoded: list[Decoded],
        below: float,
        allowlist: str | None = None,
    ) -> list[Decoded]:
        """Each line read below `below` is read again; the more confident reading wins."""
        out = list(decoded)
        unsure = [i for i, d in enumerate(decoded) if d.confidence < below]
        if not unsure:
            return out
        decoder = self.decoder(allowlist)
        for i, again in zip(unsure, self.recogniser.recognise([crops[i] for i in unsure], decoder)):
            if again.text and again.confidence >= ACCEPT_AT and again.confidence > out[i].confidence:
                out[i] = again
        for session in self.recogniser.sessions:
            release(session)  # on demand (low-memory mode): not held while the next image is detected
        return out
