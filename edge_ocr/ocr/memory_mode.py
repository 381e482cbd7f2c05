"""Low-memory mode for the small board: when to use it (the machine's RAM) and telling glibc to hand
freed memory back; engine.py wires what the mode changes."""

from __future__ import annotations

import ctypes
from pathlib import Path

from edge_ocr.errors import ModelError
from edge_ocr.ocr import defaults


def mem_total_mb(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    """The machine's RAM as the kernel reports it; None where there is no /proc/meminfo."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# glibc mallopt parameters (malloc.h) and the values low-memory mode sets
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
LOW_MEMORY_MALLOC = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, 256 * 1024), (M_TRIM_THRESHOLD, 256 * 1024))


def return_freed_memory() -> bool:
    """Make glibc hand freed blocks back to the kernel instead of keeping them for reuse: one arena for all
    threads, blocks of 256 KiB and more mapped on their own, the heap's free top trimmed at 256 KiB.

    On-demand models free tens of MB after each stage; kept by malloc per thread and fragmented, that
    was 30 MB of peak RSS on the bundled footage. False where this is not glibc (nothing changed).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in LOW_MEMORY_MALLOC)


def is_low_memory(choice: str, total_mb: float | None = None) -> bool:
    """Low-memory mode: asked for, or "auto" on a board with less than LOW_MEMORY_BELOW_MB of RAM.

    Each model is loaded only while its stage runs, the detector on 320-pixel tiles (its activations
    are most of its memory and shrink with the tile's area), the second opinion as one copy: half the
    daemon's peak RSS (README, "Memory on the small board"), for reloading the models per image.
    """
    if choice not in defaults.MEMORY_CHOICES:
        raise ModelError(f"memory {choice!r}: choose one of {', '.join(defaults.MEMORY_CHOICES)}")
    if choice != "auto":
        return choice == "low"
    total = mem_total_mb() if total_mb is None else total_mb
    return total is not None and total < defaults.LOW_MEMORY_BELOW_MB
