"""One daemon per state directory: an exclusive flock on `daemon.lock`, which holds the owner's PID.

flock belongs to the open file, so the kernel drops it when the daemon exits in any way, SIGKILL and
the OOM killer included: a stale lock file never blocks the next start. The file itself is never
deleted (unlinking would let a second daemon lock a fresh inode while the first still holds the old).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from edge_ocr.errors import StoreError

LOCK_NAME = "daemon.lock"


class StateDirLockedError(StoreError):
    """Another daemon holds the state directory."""


class StateLock:
    """The exclusive, non-blocking lock of one state directory, held from acquire() to release()."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True between a successful acquire() and release()."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock and write this PID into the file; StateDirLockedError names the holder."""
        if self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the state directory's lock file: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"PID {holder}" if holder else "another process"
            raise StateDirLockedError(
                f"another edge-ocr daemon ({who}) is already running on {self.path.parent}: "
                f"it holds the lock file {self.path}; stop it first or use another --state-dir"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"{self.path}: cannot lock the state directory: {exc}") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the PID is only for the message; the lock is what counts
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (closing the file releases it); clear the PID so it is not shown stale."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
