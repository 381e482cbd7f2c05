"""Why the second opinion runs as copies: its recogniser per 320-px window as one interpreter with N
threads, as one with one thread, and as N single-thread copies reading side by side; and the
resident memory one more copy costs. Runs the shipped model on the runtime the engine would use:

    .venv/bin/python benchmarks/second_opinion_copies.py [--threads 2] [--windows 200]
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from edge_ocr.models import Manifest, second_opinion_pack
from edge_ocr.ocr.runtime import tflite_factory


def rss_mb() -> float:
    """This process's resident memory now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def ms_per_window(sessions: list, windows: int) -> float:
    """Each session reads windows/len(sessions) windows on its own thread; wall ms per window."""
    batch = np.random.default_rng(0).random(sessions[0].input_shape, dtype=np.float32)
    for s in sessions:
        s(batch)  # warm-up
    share = windows // len(sessions)

    def work(session) -> None:
        for _ in range(share):
            session(batch)

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return (time.perf_counter() - t) * 1000 / (share * len(sessions))


def main() -> None:
    """Print one line per arrangement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", type=int, default=200)
    args = parser.parse_args()
    manifest = Manifest.load()
    second = second_opinion_pack(manifest, manifest.pack(), "auto")
    if second is None:
        raise SystemExit("the default pack names no second opinion")
    path = second.rec[0].path
    runtime, open_model = tflite_factory()
    print(f"{second.name}/{second.variant} recogniser {path.name} on {runtime}, {args.windows} windows")
    one = ms_per_window([open_model(path, args.threads)], args.windows)
    print(f"one interpreter, {args.threads} threads: {one:.1f} ms per window")
    single = ms_per_window([open_model(path, 1)], args.windows)
    print(f"one interpreter, 1 thread: {single:.1f} ms per window")
    before = rss_mb()
    copies = [open_model(path, 1) for _ in range(args.threads)]
    side = ms_per_window(copies, args.windows)
    per_copy = (rss_mb() - before) / len(copies)
    print(f"{args.threads} single-thread copies side by side: {side:.1f} ms per window ({one / side:.2f}x)")
    print(f"resident memory per copy: {per_copy:.0f} MB")


if __name__ == "__main__":
    main()
