"""Read different lines at once on copies of one recogniser: one 2-thread model scales poorly."""

from __future__ import annotations

import queue
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from edge_ocr.ocr.ctc import CTCDecoder, Decoded
from edge_ocr.ocr.recognise import TextRecogniser


class ParallelRecogniser:
    """Same answers as one TextRecogniser; each copy owns its interpreters, so none is shared.

    A batch-1 recogniser of PP-OCRv6 small's size gains little from a second thread inside the
    runtime, while two single-thread copies on different lines run about 1.5x as fast
    (benchmarks/second_opinion_copies.py); the runtime releases the GIL while it computes.
    """

    def __init__(self, copies: Sequence[TextRecogniser]) -> None:
        if not copies:
            raise ValueError("ParallelRecogniser needs at least one recogniser")
        self.copies = list(copies)
        self.sessions = self.copies[0].sessions
        self._free: queue.SimpleQueue[TextRecogniser] = queue.SimpleQueue()
        for copy in self.copies:
            self._free.put(copy)
        self._pool = ThreadPoolExecutor(len(self.copies), thread_name_prefix="edge-ocr-read")

    def _read(self, crop: np.ndarray, decoder: CTCDecoder) -> Decoded:
        recogniser = self._free.get()  # never waits: as many copies as pool threads
        try:
            return recogniser.read_line(crop, decoder)
        finally:
            self._free.put(recogniser)

    def recognise(self, crops: Sequence[np.ndarray], decoder: CTCDecoder) -> list[Decoded]:
        """Text and confidence for each crop, in the order given."""
        if len(crops) < 2 or len(self.copies) == 1:
            return self.copies[0].recognise(crops, decoder)
        return list(self._pool.map(lambda crop: self._read(crop, decoder), crops))
