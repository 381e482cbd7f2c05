"""Benchmark datasets: seeded synthetic sets written to bench-out/data/, plus real page scans if present.

Run it alone to (re)build the synthetic sets: `.venv/bin/python benchmarks/datasets.py [--force]`.
Every set is a list of (image path, ground-truth text); synthetic file names start with their kind.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = REPO / "bench-out" / "data"
SHARED_TEXT = REPO.parent / "shared" / "eval" / "text"
SHARED_DOCS = SHARED_TEXT / "tesseract_testing_docs"
SCENE_KINDS = ("label", "plate", "receipt", "sign", "line")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
QUICK_PER_KIND = 2  # --quick: this many images of each kind (and of each real set)


@dataclass(frozen=True)
class SynthSpec:
    """How one synthetic set is made; stored beside the images so a changed spec regenerates them."""

    level: str
    kinds: tuple[str, ...]
    per_kind: int
    seed: int
    fmt: str = "jpg"


SYNTH: dict[str, SynthSpec] = {
    "photo": SynthSpec("photo", SCENE_KINDS, per_kind=30, seed=20240601),
    "hard": SynthSpec("hard", SCENE_KINDS, per_kind=15, seed=20240602),
    "pages": SynthSpec("scan", ("page",), per_kind=8, seed=20240603),
}
# Real photos nobody here made (../shared/eval/text, never copied into the repo); they lead every table.
REAL: dict[str, Path] = {
    "plates_eu_dev": SHARED_TEXT / "plates_eu_dev",
    "plates_us_dev": SHARED_TEXT / "plates_us_dev",
    "receipts_sroie_dev": SHARED_TEXT / "receipts_sroie_dev",
    "tesseract_docs": SHARED_DOCS,
}
# How a set is scored (shared/eval/README.md): plates found, word F1 case-folded, or word F1.
METRIC: dict[str, str] = {
    "plates_eu_dev": "plates",
    "plates_us_dev": "plates",
    "receipts_sroie_dev": "words_casefold",
}
ALL_NAMES: tuple[str, ...] = (*REAL, *SYNTH)


class Dataset(NamedTuple):
    """A named list of (image path, ground truth) pairs."""

    name: str
    items: list[tuple[Path, str]]


def kind_of(path: Path) -> str:
    """Synthetic kind from a file name such as `receipt-0007.jpg`; the set name for real scans."""
    head = path.name.split("-", 1)[0]
    return head if "-" in path.name and head.isalpha() else "real"


def image_record(dataset: str, path: Path, ms: float, stages: dict, text: str, truth: str) -> dict:
    """One image's result as the benchmark JSON files store it."""
    return {
        "dataset": dataset,
        "file": path.name,
        "kind": kind_of(path),
        "ms": ms,
        "stages": stages,
        "text": text,
        "truth": truth,
    }


def gt_path(image: Path) -> Path:
    """The NAME.gt.txt file that belongs to NAME.ext."""
    return image.with_name(image.stem + ".gt.txt")


def _pairs(folder: Path) -> list[tuple[Path, str]]:
    """Every image in a folder that has ground truth, sorted by name."""
    out = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() in IMAGE_SUFFIXES and gt_path(image).is_file():
            out.append((image, gt_path(image).read_text(encoding="utf-8")))
    return out


def _spec_file(folder: Path) -> Path:
    return folder / "spec.json"


def _is_current(folder: Path, spec: SynthSpec) -> bool:
    """True when the folder holds a complete set made from exactly this spec."""
    try:
        stored = json.loads(_spec_file(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    want = json.loads(json.dumps(asdict(spec)))
    return stored == want and len(_pairs(folder)) == spec.per_kind * len(spec.kinds)


def build_synth(name: str, force: bool = False) -> Path:
    """Write a synthetic set unless an identical one is already there; return its folder."""
    spec = SYNTH[name]
    folder = DATA_ROOT / name
    if not force and _is_current(folder, spec):
        return folder
    if str(REPO) not in sys.path:  # the generator is tests.synth, part of the repository, not of the wheel
        sys.path.insert(0, str(REPO))
    from tests.synth import write_set  # imported late: generation is rare, loading sets is not

    if folder.exists():
        shutil.rmtree(folder)
    write_set(folder, spec.per_kind * len(spec.kinds), seed=spec.seed, kinds=spec.kinds, level=spec.level)
    _spec_file(folder).write_text(json.dumps(asdict(spec), indent=1) + "\n", encoding="utf-8")
    return folder


def _first_per_kind(items: list[tuple[Path, str]], per_kind: int) -> list[tuple[Path, str]]:
    """Keep the first `per_kind` items of each kind (the --quick subset)."""
    seen: dict[str, int] = {}
    out = []
    for path, text in items:
        kind = kind_of(path)
        if seen.get(kind, 0) < per_kind:
            seen[kind] = seen.get(kind, 0) + 1
            out.append((path, text))
    return out


def load(name: str, quick: bool = False, force: bool = False) -> Dataset | None:
    """One dataset by name (built first if synthetic); None when a real set is not on this machine."""
    if name in SYNTH:
        items = _pairs(build_synth(name, force))
    elif name in REAL:
        if not REAL[name].is_dir():
            return None
        items = _pairs(REAL[name])
    else:
        raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(ALL_NAMES)}")
    if quick:
        items = _first_per_kind(items, QUICK_PER_KIND)
    return Dataset(name, items)


def load_all(names: tuple[str, ...] | list[str] = ALL_NAMES, quick: bool = False) -> list[Dataset]:
    """The named datasets that exist here, announcing any that are skipped."""
    out = []
    for name in names:
        ds = load(name, quick)
        if ds is None:
            print(f"[datasets] {name}: {REAL[name]} not found, skipped")
        elif ds.items:
            out.append(ds)
    return out


def main() -> None:
    """Build the synthetic sets and list what every dataset holds."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="regenerate the synthetic sets")
    ap.add_argument("--quick", action="store_true", help="list the --quick subsets")
    args = ap.parse_args()
    for name in ALL_NAMES:
        ds = load(name, args.quick, args.force)
        if ds is None:
            print(f"{name}: missing ({REAL[name]})")
            continue
        kinds: dict[str, int] = {}
        for path, _ in ds.items:
            kinds[kind_of(path)] = kinds.get(kind_of(path), 0) + 1
        words = sum(len(text.split()) for _, text in ds.items)
        print(f"{name}: {len(ds.items)} images, {words} words, kinds {kinds}")


if __name__ == "__main__":
    main()
