"""Seeded entry points: one sample from a seed, or a whole labelled set written to disk."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from tests.synth.degrade import degrade
from tests.synth.kinds import render
from tests.synth.sample import KINDS, LEVELS, Sample

FORMATS: tuple[str, ...] = ("jpg", "png")
JPEG_WRITE_QUALITY = 95  # photo-level JPEG damage is already in the pixels; this only avoids adding more


def make_sample(kind: str, seed: int, level: str = "photo") -> Sample:
    """Return the sample for (kind, seed) at a level; the text is the same at every level."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    content, looks = np.random.SeedSequence([int(seed), zlib.crc32(kind.encode())]).spawn(2)
    clean = render(kind, np.random.default_rng(content))
    return degrade(clean, np.random.default_rng(looks), level)


def sample_seed(seed: int, index: int) -> int:
    """Return the seed of item `index` in a set, so any item can be regenerated alone."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0])


def write_set(
    out_dir: Path,
    count: int,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    level: str = "photo",
    fmt: str = "jpg",
) -> list[Path]:
    """Write `count` images with NAME.gt.txt ground truth, cycling through kinds; return the image paths."""
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError("kinds is empty")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"unknown kind(s) {', '.join(bad)}; expected some of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, JPEG_WRITE_QUALITY] if fmt == "jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    paths = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        sample = make_sample(kind, sample_seed(seed, i), level)
        name = f"{kind}-{i:04d}"
        path = out_dir / f"{name}.{fmt}"
        ok, buf = cv2.imencode(f".{fmt}", sample.image, params)
        if not ok:
            raise RuntimeError(f"OpenCV could not encode {path.name}")
        path.write_bytes(buf.tobytes())
        (out_dir / f"{name}.gt.txt").write_text("\n".join(sample.lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
