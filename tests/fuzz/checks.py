"""What every fuzz input must come to, shared by tests/test_fuzz.py and benchmarks/fuzz.py."""

from __future__ import annotations

from pathlib import Path

from tests.fuzz.client import Reply

# Peak memory of the reading process for one small hostile input (the worker holds the models, ~250 MB
# once warm): a decoded bomb would pass this by gigabytes.
IMAGE_PEAK_MB = 1024
MAX_LINE = 500  # characters in one line of a message: values are not echoed whole
MAX_LINES = 100  # lines in one message (a config with many bad keys says each once; fuzzed ones have <= 36)


def _fine(reply: Reply, what: str) -> None:
    assert reply.outcome in ("read", "refused"), f"{what}: {reply.message}\n{reply.traceback}"
    if reply.outcome == "refused":
        assert reply.message.strip(), f"{what}: refused without a reason"
        lines = reply.message.splitlines()
        assert len(lines) <= MAX_LINES, f"{what}: a {len(lines)}-line message"
        longest = max(len(line) for line in lines)
        assert longest < MAX_LINE, f"{what}: a {longest}-character line in the message"
        assert "Traceback" not in reply.message, f"{what}: {reply.message}"


def check_image(reply: Reply, path: Path, what: str) -> None:
    """Read, or refused naming the file; within the memory bound."""
    _fine(reply, what)
    if reply.outcome == "refused":
        assert path.name in reply.message, f"{what}: the message does not name the file: {reply.message}"
    assert reply.peak_mb < IMAGE_PEAK_MB, f"{what}: peak {reply.peak_mb:.0f} MB"


def check_config(reply: Reply, path: Path) -> None:
    """Loaded, or refused with the file named first on every line (`FILE: [section] key: ...`)."""
    _fine(reply, str(path))
    if reply.outcome == "refused":
        assert all(line.startswith(str(path)) for line in reply.message.splitlines()), reply.message


def check_search(reply: Reply, query: str) -> None:
    """Hits, or a message that starts with `search:` (no SQLite syntax error reaches the user)."""
    _fine(reply, repr(query))
    if reply.outcome == "refused":
        assert reply.message.startswith("search:"), (query, reply.message)
