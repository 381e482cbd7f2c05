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


def normalise_line(crop: np.ndarray, height: int) -> np.ndarray:
    """Resize to the model height keeping the aspect ratio; scale pixels to [-1, 1]."""
    h, w = crop.shape[:2]
    width = max(1, round(w * height / h))
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

    def line_probabilities(self, crop: np.ndarray) -> np.ndarray:
        """The [frames, classes] probabilities of one whole line (windows stitched)."""
        jobs = self._jobs(0, normalise_line(crop, self.height))
        outputs = self._run(jobs)
        return np.concatenate([outputs[n][j.keep[0] : j.keep[1]] for n, j in enumerate(jobs)], axis=0)

    def iter_probabilities(self, crops: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
        """Line by line, so memory holds one line's frames, not a whole page's."""
        for crop in crops:
            yield self.line_probabilities(crop)

    def recognise(self, crops: Sequence[np.ndarray], decoder: CTCDecoder) -> list[Decoded]:
        """Text and confidence for each crop."""
        return [decoder.decode(p) for p in self.iter_probabilities(crops)]
