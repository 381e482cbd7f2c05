"""The fuzz suite's child process: reads one input at a time with the real stages under an address-space
limit, and answers what happened and the peak memory that input alone took.

Protocol: one JSON request per stdin line, one JSON reply per stdout line. Requests:
  {"kind": "image", "path": P}               read_pages with OCR and codes, as `edge-ocr scan` does
  {"kind": "config", "path": P}              edge_ocr.config.load, model names included
  {"kind": "search", "state": D, "query": Q} the store's search, as `edge-ocr search` does
Replies: {"outcome": "read"|"refused", "message": str, "pages": n, "peak_mb": f, "ms": f}, or
{"outcome": "unexpected", "message": "Type: text", "traceback": ...} when an exception other than the
project's own error escaped: a bug, like a crash (the parent sees the pipe close) or a hang (its timer).

Run: python -m tests.fuzz.worker --limit-mb N
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from pathlib import Path


def reset_peak() -> None:
    """Zero VmHWM, so the next reading is this input's own peak (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def vm(field: str) -> float:
    """A VmXXX figure of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Worker:
    """The real stages, loaded once: the shipped models on two threads, both code readers."""

    def __init__(self) -> None:
        from edge_ocr.codes import CodeScanner
        from edge_ocr.config import parse
        from edge_ocr.service import code_options, open_engine

        config = parse({"ocr": {"threads": 2}})
        self.engine = open_engine(config)
        self.codes = CodeScanner(code_options(config))
        self.stores: dict[str, object] = {}

    def image(self, request: dict) -> dict:
        from edge_ocr.reader import FileFailure, read_pages

        pages, failure = 0, None
        for item in read_pages(self.engine.pipeline, Path(request["path"]), codes=self.codes):
            if isinstance(item, FileFailure):
                failure = item.reason
            else:
                pages += 1
        return {"outcome": "refused" if failure else "read", "message": failure or "", "pages": pages}

    def config(self, request: dict) -> dict:
        from edge_ocr.config import load

        load(Path(request["path"]))
        return {"outcome": "read", "message": ""}

    def search(self, request: dict) -> dict:
        from edge_ocr.store import Store
        from edge_ocr.store.search import search

        state = request["state"]
        if state not in self.stores:
            self.stores[state] = Store(Path(state), readonly=True)
        hits = search(self.stores[state], request["query"], limit=int(request.get("limit", 20)))
        return {"outcome": "read", "message": "", "pages": len(hits)}

    def handle(self, request: dict) -> dict:
        from edge_ocr.errors import EdgeOcrError

        reset_peak()
        t = time.perf_counter()
        try:
            reply = getattr(self, request["kind"])(request)
        except EdgeOcrError as exc:
            reply = {"outcome": "refused", "message": str(exc)}
        except Exception as exc:
            reply = {
                "outcome": "unexpected",
                "message": f"{type(exc).__name__}: {exc}"[:2000],
                "traceback": traceback.format_exc()[-4000:],
            }
        reply["ms"] = (time.perf_counter() - t) * 1000
        reply["peak_mb"] = vm("VmHWM")
        return reply


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit-mb", type=int, required=True)
    args = ap.parse_args()
    worker = Worker()
    # After the models: their mappings count against the limit too, and the steady figure is reported.
    limit = args.limit_mb * 1048576
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out = sys.stdout
    out.write(json.dumps({"ready": True, "rss_mb": vm("VmRSS"), "vsz_mb": vm("VmSize")}) + "\n")
    out.flush()
    for line in sys.stdin:
        out.write(json.dumps(worker.handle(json.loads(line))) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
