"""Recognise line crops: height 48, the narrowest fitting width bucket, long lines in windows."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge_ocr.ocr.ctc import CTCDecoder, Decoded
from edge_ocr.ocr.runtime import Session


@dataclass
class _Job:
    """One model input: a whole line, or one window of a long line."""

    line: int
    bucket: int
    image: np.ndarray  # H x width x 3, normalised, not yet padded
    keep: tuple[int, int]  # output frames of this job that belong to the line


# The longest line read at its own aspect ratio (about 100 windows of 320, a line of ~1,000
# characters); a longer one is squeezed to this width, so one line never costs more than this
# (a 60000x3 image read as one line once took 3.6 GB).
MAX_LINE_PX = 32768


def normalise_line(crop: np.ndarray, height: int, max_width: int = MAX_LINE_PX) -> np.ndarray:
    """Resize to the model height keeping the aspect ratio (up to max_width); scale to [-1, 1]."""
    h, w = crop.shape[:2]
    width = max(1, min(max_width, round(w * height / h)))
    resized = cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)
    if resized.ndim == 2:
        resized = cv2.cvtColor(resized, cv2.COLOR_GRAY2BGR)
    return resized.astype(np.float32) / 127.5 - 1.0


class TextRecogniser:
    """CTC recogniser over static-shape models, one per width bucket."""

    def __init__(self, sessions: Sequence[Session], margin: int = 32) -> None:
        self.sessions = sorted(sessions, key=lambda s: s.input_shape[2])
        self.height = self.sessions[0].input_shape[1]
        self.widths = [s.input_shape[2] for s in self.sessions]
        widest = self.sessions[-1]
        self.stride = widest.input_shape[2] // widest.output_shape[1]
        self.margin = margin - margin % self.stride

    def _jobs(self, index: int, line: np.ndarray) -> list[_Job]:
        """Split a line into model inputs: one bucket, or overlapping windows of the widest."""
        width = line.shape[1]
        for b, bw in enumerate(self.widths):
            if width <= bw:
                return [_Job(index, b, line, (0, self.sessions[b].output_shape[1]))]
        big = len(self.widths) - 1
        tile = self.widths[big]
        padded_w = -(-width // self.stride) * self.stride
        if padded_w != width:
            line = np.pad(line, ((0, 0), (0, padded_w - width), (0, 0)))
        step = tile - 2 * self.margin
        starts = [*list(range(0, padded_w - tile, step)), padded_w - tile]
        cuts = [0]
        for a, b in itertools.pairwise(starts):
            mid = (a + tile + b) // 2
            cuts.append(mid - mid % self.stride)
        cuts.append(padded_w)
        jobs = []
        for k, x0 in enumerate(starts):
            f0, f1 = (cuts[k] - x0) // self.stride, (cuts[k + 1] - x0) // self.stride
            jobs.append(_Job(index, big, line[:, x0 : x0 + tile], (f0, f1)))
        return jobs

    def _run(self, jobs: list[_Job]) -> dict[int, np.ndarray]:
        """Invoke each bucket's model, batching when its model takes more than one input."""
        outputs: dict[int, np.ndarray] = {}
        by_bucket: dict[int, list[tuple[int, _Job]]] = defaultdict(list)
        for n, job in enumerate(jobs):
            by_bucket[job.bucket].append((n, job))
        for b, items in by_bucket.items():
            session = self.sessions[b]
            batch_n, _, _bw, _ = session.input_shape
            for i in range(0, len(items), batch_n):
                chunk = items[i : i + batch_n]
                batch = np.zeros(session.input_shape, dtype=np.float32)
                for slot, (_, job) in enumerate(chunk):
                    batch[slot, :, : job.image.shape[1]] = job.image
                result = session(batch)
                for slot, (n, _) in enumerate(chunk):
                    outputs[n] = result[slot]
        return outputs

    def line_chunks(self, crop: np.ndarray) -> Iterator[np.ndarray]:
        """One line's [frames, classes] probabilities window by window, in order (one in memory)."""
        for job in self._jobs(0, normalise_line(crop, self.height)):
            yield self._run([job])[0][job.keep[0] : job.keep[1]]

    def line_probabilities(self, crop: np.ndarray) -> np.ndarray:
        """The [frames, classes] probabilities of one whole line (windows stitched)."""
        return np.concatenate(list(self.line_chunks(crop)), axis=0)

    def read_line(self, crop: np.ndarray, decoder: CTCDecoder) -> Decoded:
        """Text and confidence of one line, decoded window by window."""
        return decoder.decode_chunks(self.line_chunks(crop))

    def recognise(self, crops: Sequence[np.ndarray], decoder: CTCDecoder) -> list[Decoded]:
        """Text and confidence for each crop, line by line."""
        return [self.read_line(crop, decoder) for crop in crops]
