"""Peak memory of an `edge-ocr` command, measured in a fresh child process (its own VmHWM from
/proc/<pid>/status, read by the child itself as it exits; ru_maxrss would carry the parent's peak
across fork and exec). Used by tests/test_memory.py and benchmarks/memory.py.

    python tests/memory_probe.py run --state-dir DIR [--config FILE]   # prints '@memory {json}' on stderr
    EDGE_OCR_PROBE_TREE=DIR python tests/memory_probe.py ...            # edge_ocr (and models/) from DIR
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

MARK = "@memory "
FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "Threads")


def status(pid: int | str = "self") -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon, RssFile (kB) and Threads of a process, from /proc/<pid>/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in FIELDS:
            out[key] = int(value.split()[0])
    return out


def measured(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 300, every_s: float = 0.005
) -> dict:
    """Run `edge-ocr ARGV` in a child: its exit status, wall seconds, status() as it exited, and the
    peak of its RssAnon (private memory) sampled from outside every every_s while it ran."""
    import tempfile
    import time

    t = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *argv],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        peak = 0
        while proc.poll() is None and time.monotonic() - t < timeout:
            with contextlib.suppress(OSError, ValueError):
                peak = max(peak, status(proc.pid).get("RssAnon", 0))
            time.sleep(every_s)
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        err.seek(0)
        stderr = err.read()
    lines = [ln for ln in stderr.splitlines() if ln.startswith(MARK)]
    if not lines:
        raise RuntimeError(f"edge-ocr {' '.join(argv)} exited {rc} without a figure:\n{stderr[-2000:]}")
    figures = json.loads(lines[-1][len(MARK) :])
    return {"rc": rc, "wall_s": time.monotonic() - t, "peak_RssAnon": peak, **figures, "stderr": stderr}


def _report() -> None:
    print(MARK + json.dumps(status()), file=sys.stderr, flush=True)


def _use_tree(tree: str) -> None:
    """Import edge_ocr from another source tree (e.g. `git archive` of an earlier commit), not this one."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, tree)


if __name__ == "__main__":
    if os.environ.get("EDGE_OCR_PROBE_TREE"):
        _use_tree(os.environ["EDGE_OCR_PROBE_TREE"])
    atexit.register(_report)  # after main() returns, before the interpreter tears down
    from edge_ocr.cli import main

    sys.exit(main(sys.argv[1:]))
