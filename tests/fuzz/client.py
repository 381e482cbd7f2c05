"""The parent's side of the fuzz worker: send one input, wait for its answer with a time limit; a crash or
a hang is reported as that input's failure and a fresh worker takes the next one."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LIMIT_MB = 4096  # address space of the worker: a runaway allocation fails there, not on this machine


class WorkerFailed(AssertionError):
    """The worker died (a signal, e.g. SIGSEGV or the kernel's OOM kill) or did not answer in time."""


@dataclass
class Reply:
    """What the worker said about one input."""

    outcome: str  # read | refused | unexpected
    message: str
    pages: int
    peak_mb: float
    ms: float
    traceback: str = ""


class FuzzWorker:
    """A `python -m tests.fuzz.worker` child, restarted after any failure."""

    def __init__(self, limit_mb: int = LIMIT_MB, start_timeout_s: float = 120.0) -> None:
        self.limit_mb = limit_mb
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.steady_rss_mb = 0.0
        self.restarts = 0

    def start(self) -> FuzzWorker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGE_OCR_")}
        env["PYTHONPATH"] = str(REPO)
        self.lines = queue.Queue()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.worker", "--limit-mb", str(self.limit_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()
        ready = self._answer(self.start_timeout_s, "starting")
        self.steady_rss_mb = ready["rss_mb"]
        return self

    @staticmethod
    def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)  # end of file: the worker is gone

    def _answer(self, timeout_s: float, what: str) -> dict:
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            self._restart_after(f"no answer within {timeout_s:.0f} s while {what} (a hang)")
        if line is None:
            assert self.proc is not None
            rc = self.proc.wait()
            self._restart_after(f"the worker died while {what} (exit status {rc}: a crash)")
        return json.loads(line)

    def _restart_after(self, why: str) -> None:
        self.close()
        self.restarts += 1
        raise WorkerFailed(why)

    def call(self, request: dict, timeout_s: float = 60.0) -> Reply:
        """The worker's reply to one request; WorkerFailed when it crashed or hung on it."""
        if self.proc is None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        got = self._answer(timeout_s, f"reading {request}")
        return Reply(
            got["outcome"],
            got["message"],
            got.get("pages", 0),
            got["peak_mb"],
            got["ms"],
            got.get("traceback", ""),
        )

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
