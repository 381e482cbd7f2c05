"""Scoring code reading on folders of IMAGE + IMAGE.txt (or IMAGE.bin for binary payloads).

Images with neither expect no code: anything decoded there is a false positive.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from edge_ocr.documents import SUPPORTED_SUFFIXES, expand_inputs
from edge_ocr.evaluation import ground_truth_for

# What a reader returned for one symbol: its text (None for binary) and raw bytes.
Decoded = tuple[str | None, bytes]


@dataclass(frozen=True)
class CodeSample:
    """One image and the payload it must yield (both None: the image holds no code)."""

    image: Path
    expected: str | None = None  # from NAME.txt, stripped
    expected_bytes: bytes | None = None  # from NAME.bin, exact

    @property
    def has_code(self) -> bool:
        """True when the image is expected to yield a payload."""
        return self.expected is not None or self.expected_bytes is not None


def load_sample(image: Path) -> CodeSample:
    """NAME.txt (raw UTF-8, surrounding whitespace stripped) or NAME.bin next to NAME.ext."""
    text, binary = image.with_suffix(".txt"), image.with_suffix(".bin")
    if text.is_file() and not text.name.endswith(".gt.txt"):
        return CodeSample(image, text.read_bytes().decode("utf-8", errors="replace").strip())
    if binary.is_file():
        return CodeSample(image, expected_bytes=binary.read_bytes())
    return CodeSample(image)


def find_code_samples(folders: list[Path], all_images: bool = False) -> dict[Path, list[CodeSample]]:
    """Samples by folder: folders with any NAME.txt; with all_images, also folders of code-free images."""
    groups: dict[Path, list[CodeSample]] = {}
    for folder in folders:
        files = expand_inputs([folder])
        images = [p for p in files if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES]
        by_parent: dict[Path, list[CodeSample]] = {}
        for image in images:
            by_parent.setdefault(image.parent, []).append(load_sample(image))
        for parent, samples in by_parent.items():
            has_payloads = any(s.has_code for s in samples)
            has_gt_text = any(ground_truth_for(s.image) for s in samples)
            if (has_payloads or all_images) and not has_gt_text:
                groups[parent] = samples
    return groups


def is_read(decoded: list[Decoded], sample: CodeSample) -> bool:
    """Read when any symbol's text equals the expected text (both stripped) or its bytes the .bin."""
    for text, data in decoded:
        if sample.expected is not None and text is not None and text.strip() == sample.expected:
            return True
        if sample.expected_bytes is not None and data == sample.expected_bytes:
            return True
    return False


@dataclass
class CodeFolderReport:
    """Read rate, false positives and time per image for one folder."""

    folder: str
    with_code: int = 0
    read: int = 0
    without_code: int = 0
    false_positives: int = 0  # code-free images where something decoded
    failures: int = 0
    times_ms: list[float] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add_image(self, sample: CodeSample, decoded: list[Decoded], ms: float) -> bool:
        """Score one image; True when it counts as a success (read, or nothing on a code-free image)."""
        self.times_ms.append(ms)
        if not sample.has_code:
            self.without_code += 1
            self.false_positives += bool(decoded)
            return not decoded
        self.with_code += 1
        if is_read(decoded, sample):
            self.read += 1
            return True
        self.missed.append(sample.image.name)
        return False

    def add(self, other: CodeFolderReport) -> None:
        """Fold another folder into this one (for the overall line)."""
        for name in ("with_code", "read", "without_code", "false_positives", "failures"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.times_ms += other.times_ms
        self.missed += other.missed

    def to_dict(self) -> dict:
        """Figures as printed, for benchmarks to consume."""
        return {
            "folder": self.folder,
            "images": len(self.times_ms),
            "with_code": self.with_code,
            "read": self.read,
            "read_rate": round(self.read / self.with_code, 4) if self.with_code else None,
            "without_code": self.without_code,
            "false_positives": self.false_positives,
            "failures": self.failures,
            "ms_median": round(statistics.median(self.times_ms), 1) if self.times_ms else None,
            "ms_mean": round(statistics.fmean(self.times_ms), 1) if self.times_ms else None,
        }
