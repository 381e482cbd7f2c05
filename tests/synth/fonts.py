"""Locate installed TrueType fonts by style, so rendering needs no bundled or downloaded fonts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

from edge_ocr.errors import EdgeOcrError

STYLES: tuple[str, ...] = ("sans", "serif", "mono", "bold")

DEFAULT_SEARCH_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)

# File stems of Latin text faces we know how to classify; script-specific faces are left out on purpose.
KNOWN_FACES: dict[str, tuple[str, ...]] = {
    "sans": (
        "DejaVuSans",
        "DejaVuSansCondensed",
        "LiberationSans-Regular",
        "LiberationSansNarrow-Regular",
        "NotoSans-Regular",
        "FreeSans",
        "Roboto-Regular",
        "OpenSans-Regular",
        "Arial",
        "arial",
    ),
    "serif": (
        "DejaVuSerif",
        "DejaVuSerifCondensed",
        "LiberationSerif-Regular",
        "NotoSerif-Regular",
        "FreeSerif",
        "Times New Roman",
        "times",
    ),
    "mono": (
        "DejaVuSansMono",
        "LiberationMono-Regular",
        "NotoSansMono-Regular",
        "NotoMono-Regular",
        "FreeMono",
        "cour",
    ),
    "bold": (
        "DejaVuSans-Bold",
        "DejaVuSansCondensed-Bold",
        "LiberationSans-Bold",
        "LiberationSansNarrow-Bold",
        "NotoSans-Bold",
        "FreeSansBold",
        "Roboto-Bold",
        "OpenSans-Bold",
        "Arial Bold",
        "arialbd",
    ),
}

_STYLE_OF_STEM = {stem: style for style, stems in KNOWN_FACES.items() for stem in stems}


class FontsMissingError(EdgeOcrError, RuntimeError):
    """No usable font is installed, so no text can be rendered."""


def find_fonts(search_dirs: Sequence[Path] | None = None) -> dict[str, list[Path]]:
    """Return known Latin fonts under the search dirs by style, so renderers can pick real faces."""
    dirs = tuple(Path(d) for d in (DEFAULT_SEARCH_DIRS if search_dirs is None else search_dirs))
    found = _scan(dirs)
    if not any(found.values()):
        where = ", ".join(str(d) for d in dirs) or "(no directories)"
        raise FontsMissingError(
            f"no usable TrueType font found under {where}; "
            "install one, e.g. `apt-get install fonts-dejavu-core` (or fonts-liberation)"
        )
    return {style: list(paths) for style, paths in found.items()}


@lru_cache(maxsize=8)
def _scan(dirs: tuple[Path, ...]) -> dict[str, tuple[Path, ...]]:
    """Walk the dirs once per process, since font scanning is slow next to rendering one sample."""
    found: dict[str, list[Path]] = {style: [] for style in STYLES}
    seen: set[str] = set()
    for d in dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.rglob("*")):
            if path.suffix.lower() not in (".ttf", ".otf") or path.stem in seen:
                continue
            style = _STYLE_OF_STEM.get(path.stem)
            if style is not None:
                seen.add(path.stem)
                found[style].append(path)
    for style in STYLES:
        order = KNOWN_FACES[style]
        found[style].sort(key=lambda p: order.index(p.stem))
    return {style: tuple(paths) for style, paths in found.items()}


@lru_cache(maxsize=512)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """Open a font at a pixel size once, because FreeType loading dominates small renders."""
    return ImageFont.truetype(str(path), size)


class FontPicker:
    """Choose faces for a render, falling back to any installed style when one is missing."""

    def __init__(self, fonts: dict[str, list[Path]] | None = None) -> None:
        """Keep the style table; it is scanned from the default dirs when not given."""
        self.fonts = fonts if fonts is not None else find_fonts()

    def pick(self, style: str, rng: np.random.Generator) -> Path:
        """Return a random face of a style, or of the nearest style that is installed."""
        for candidate in (style, "sans", "serif", "mono", "bold"):
            paths = self.fonts.get(candidate) or []
            if paths:
                return paths[int(rng.integers(len(paths)))]
        raise FontsMissingError("font table is empty; install fonts-dejavu-core")

    def bold_of(self, regular: Path, rng: np.random.Generator) -> Path:
        """Return the bold face of the same family as a regular face, so headings match body text."""
        family = regular.stem.split("-")[0]
        for path in self.fonts.get("bold") or []:
            if path.stem.split("-")[0] == family:
                return path
        return self.pick("bold", rng)

    def font(self, path: Path, size: int) -> ImageFont.FreeTypeFont:
        """Return the loaded font at a pixel size."""
        return load_font(path, max(6, int(size)))
