"""Keep the TFLite runtime's start-up chatter off stderr, while its real warnings and errors still show."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

# Lines LiteRT and tflite-runtime write straight to fd 2 (not via Python) when a process first loads a
# model: nothing a user can act on.
CHATTER: tuple[bytes, ...] = (
    b"INFO: Created TensorFlow Lite XNNPACK delegate",
    b"INFO: Initialized TensorFlow Lite runtime.",
)

# fd 2 is one per process: two captures at once would restore each other's descriptor.
_LOCK = threading.Lock()


def without_chatter(text: bytes) -> bytes:
    """Drop only the known INFO lines, so anything else the runtime printed is passed on unchanged."""
    return b"".join(line for line in text.splitlines(keepends=True) if not line.startswith(CHATTER))


def _crash_dumps_follow_stderr() -> bool:
    """True when faulthandler was enabled on stderr (PYTHONFAULTHANDLER, as the systemd unit sets)."""
    asked = os.environ.get("PYTHONFAULTHANDLER") or "faulthandler" in sys._xoptions
    return bool(asked) and faulthandler.is_enabled()


def _write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (a full pipe): loop so no runtime message is cut short."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _flush_stderr() -> None:
    """Flush Python's stderr buffer, so its text is not mixed into (or out of order with) the capture."""
    if sys.stderr is not None:
        sys.stderr.flush()


@contextlib.contextmanager
def runtime_chatter_hidden() -> Iterator[None]:
    """Catch fd 2 (the C++ runtime bypasses sys.stderr), then pass on all but CHATTER, even on error."""
    # Meant for model loading, which runs before any worker thread starts; should another thread write
    # to stderr meanwhile, its lines come out when the block ends, not lost.
    with _LOCK, contextlib.ExitStack() as stack:
        try:
            sink: IO[bytes] = stack.enter_context(tempfile.TemporaryFile())
            saved = os.dup(2)
        except OSError:  # no usable temp dir, or fd 2 closed: better chatter than a failed model load
            saved = -1
        if saved < 0:
            yield
            return
        refault = _crash_dumps_follow_stderr()
        try:
            if refault:  # a native crash while captured must still dump its stack to the real stderr
                faulthandler.enable(file=saved, all_threads=True)
            _flush_stderr()  # Python's own earlier text goes out first, in order
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            if refault:
                faulthandler.enable(file=2, all_threads=True)
            os.close(saved)
            with contextlib.suppress(OSError):  # a closed stderr must not turn into a failed load
                sink.seek(0)
                _write_all(2, without_chatter(sink.read()))
