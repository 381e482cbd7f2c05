"""The code stage: the configured readers, merged, and a time-boxed retry ladder when nothing decodes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from edge_ocr.codes.base import CodeReader
from edge_ocr.codes.ladder import STEPS, map_back
from edge_ocr.codes.merge import canonical_name, merge_codes
from edge_ocr.codes.names import DEFAULT_BUDGET_MS, DEFAULT_RETRY, DEFAULT_ZBAR_DENSITY, READERS
from edge_ocr.errors import ConfigError, ImageError
from edge_ocr.results import Code


@dataclass(frozen=True)
class CodeOptions:
    """Which readers run and how hard to retry."""

    readers: tuple[str, ...] = READERS
    retry_steps: tuple[str, ...] = DEFAULT_RETRY
    retry_budget_ms: float = DEFAULT_BUDGET_MS
    zbar_density: int = DEFAULT_ZBAR_DENSITY

    def validate(self) -> None:
        """Refuse unknown readers and steps by name."""
        if not self.readers:
            raise ConfigError("codes: at least one reader is needed (zxing, zbar)")
        for name in self.readers:
            if name not in READERS:
                raise ConfigError(f"codes: unknown reader {name!r} (known: {', '.join(READERS)})")
        for name in self.retry_steps:
            if name not in STEPS:
                raise ConfigError(f"codes: unknown retry step {name!r} (known: {', '.join(STEPS)})")
        if not 1 <= self.zbar_density <= 8:
            raise ConfigError("codes: zbar_density must be between 1 and 8")
        if self.retry_budget_ms < 0:
            raise ConfigError("codes: retry_budget_ms must be >= 0")


@dataclass
class CodeScan:
    """The codes of one frame and where the time went."""

    codes: list[Code]
    timings_ms: dict[str, float] = field(default_factory=dict)
    steps_tried: list[str] = field(default_factory=list)


def make_reader(name: str, density: int = 1) -> CodeReader:
    """Import a reader only when it is used; a missing library is a setup error that says what to install."""
    try:
        if name == "zxing":
            from edge_ocr.codes.zxing_reader import ZxingReader

            return ZxingReader()
        from edge_ocr.codes.zbar_reader import ZbarReader

        return ZbarReader(density)
    except ImportError as exc:
        hint = "pip install zxing-cpp" if name == "zxing" else "apt install libzbar0; pip install pyzbar"
        raise ConfigError(f"codes: reader {name!r} is not available ({exc}); {hint}") from None


MIN_SIDE = 8  # pixels; a frame whose long side is shorter holds no readable code (1-px line scans can)


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit single channel, contiguous (both readers want it); float images in 0..1 are scaled."""
    if image.ndim not in (2, 3) or image.size == 0:
        raise ImageError(f"codes: expected a non-empty 2-D image, got shape {image.shape}")
    if image.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) and float(np.nanmax(image)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image.astype(np.float32) * scale), 0, 255).astype(np.uint8)
    if image.ndim == 3:
        channels = image.shape[2]
        if channels == 1:
            image = image[:, :, 0]
        else:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if channels == 4 else cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(image)


class CodeScanner:
    """Runs the readers side by side (they release the GIL) and merges their codes."""

    def __init__(self, options: CodeOptions | None = None) -> None:
        self.options = options or CodeOptions()
        self.options.validate()
        self.readers = [make_reader(name, self.options.zbar_density) for name in self.options.readers]
        # A lone zxing-cpp has no thorough variant; the "dense" step then has nothing to add.
        self.thorough = [make_reader("zbar")] if "zbar" in self.options.readers else []
        self._pool = ThreadPoolExecutor(1) if len(self.readers) > 1 else None

    def read_once(self, gray: np.ndarray, readers: list[CodeReader] | None = None) -> list[Code]:
        """All readers on one image, side by side, merged (symbologies as the readers name them)."""
        readers = self.readers if readers is None else readers
        # A second thread only pays when there is a second reader (the "dense" step has one).
        parallel = self._pool is not None and len(readers) > 1
        background = [r for r in readers if r.releases_gil][:1] if parallel else []
        foreground = [r for r in readers if r not in background]
        found: list[Code] = []
        if background:
            # Start the GIL-free reader first and let it reach its C call before a GIL-holding
            # reader takes the interpreter; otherwise the two would simply take turns.
            ready = threading.Event()
            future = self._pool.submit(background[0].read, gray, ready.set)
            ready.wait(0.05)
        for reader in foreground:
            found += reader.read(gray)
        if background:
            found += future.result()
        return merge_codes(found)

    def scan(self, image: np.ndarray) -> CodeScan:
        """Codes in a frame; the ladder runs only when the plain read finds nothing."""
        t0 = time.perf_counter()
        gray = to_gray(image)
        if max(gray.shape) < MIN_SIDE:
            return CodeScan([], {"codes": (time.perf_counter() - t0) * 1000})
        codes = self.read_once(gray)
        scan = CodeScan(codes, {"codes": 0.0})
        deadline = t0 + self.options.retry_budget_ms / 1000
        for name in self.options.retry_steps if not codes else ():
            if time.perf_counter() >= deadline:
                break
            step = STEPS[name]
            scan.steps_tried.append(name)
            for variant, back in step.make(gray):
                found = self.read_once(variant, self.thorough if step.thorough else None)
                scan.codes += [replace(c, polygon=map_back(c.polygon, back), step=name) for c in found]
            if scan.codes:
                scan.codes = merge_codes(scan.codes)
                break
        # Variant names (Code39Ext) stay until every merge is done; the output uses family names.
        scan.codes = [replace(c, symbology=canonical_name(c.symbology)) for c in scan.codes]
        scan.timings_ms["codes"] = (time.perf_counter() - t0) * 1000
        return scan

    def close(self) -> None:
        """Stop the helper thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
