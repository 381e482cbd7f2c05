"""A small real filesystem to fill (a tmpfs: root with CAP_SYS_ADMIN), for the full-disk tests."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def small_disk(where: Path, size: str) -> Iterator[str | None]:
    """A tmpfs of `size` ("48m", "1536k") at where: yields None, or why there is none (the caller skips
    or says so); unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]
    done = subprocess.run(mount, capture_output=True)
    if done.returncode != 0:
        yield f"cannot mount a tmpfs ({done.stderr.decode().strip() or 'mount failed'}; not root?)"
        return
    try:
        yield None
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path, keep_bytes: int) -> Path:
    """A file that takes all free space of folder's filesystem but keep_bytes; remove it to free it."""
    st = os.statvfs(folder)
    filler = folder / ".filler"
    with contextlib.suppress(OSError), filler.open("wb") as fh:  # ENOSPC is the point
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - keep_bytes))
    return filler
