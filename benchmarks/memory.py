"""Where the daemon's peak RSS goes, per component, in the default and the low-memory mode (issue 14 item 4).

Each figure comes from a fresh child process reading its own /proc/self/status: the imports one after
another, then the models of the default pack loaded and called once each, as the engine wires them
(`+peak`: what the step adds to VmHWM; `held`: what stays resident after it). Then `edge-ocr run` on the
bundled footage, whole, in each mode (and with text reading off: the rest of the daemon). Development only:

    .venv/bin/python benchmarks/memory.py [--before COMMIT] [--json bench-out/memory.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.memory_probe import measured, status  # noqa: E402

MODES = ("normal", "low")
IMPORTS = (
    ("numpy", "import numpy"),
    ("OpenCV (cv2)", "import cv2"),
    (
        "edge_ocr daemon, codes, store (Pillow, pyclipper, zxing-cpp, pyzbar, sqlite3)",
        "import edge_ocr.daemon",
    ),
    ("LiteRT (ai_edge_litert)", "import ai_edge_litert.interpreter"),
)


def _child_steps(mode: str) -> list[tuple[str, dict, dict]]:
    """In this process: the imports, then each model loaded and called once; status before/after each."""
    start = status()
    from functools import partial

    steps: list[tuple[str, dict, dict]] = []

    def step(name: str, fn) -> object:
        before = status()
        result = fn()
        steps.append((name, before, status()))
        return result

    steps.append(("Python interpreter", {k: 0 for k in start}, start))
    for name, stmt in IMPORTS:
        step(name, lambda stmt=stmt: exec(stmt, {}))
    from edge_ocr.models import Manifest, second_opinion_pack
    from edge_ocr.ocr import defaults, engine
    from edge_ocr.ocr.memory_mode import return_freed_memory
    from edge_ocr.ocr.runtime import release, tflite_factory

    low = mode == "low"
    if low:
        return_freed_memory()
    manifest = Manifest.load()
    pack = manifest.pack()
    second = second_opinion_pack(manifest, pack, "auto")
    _, open_model = tflite_factory()
    if low:
        open_model = partial(open_model, on_demand=True)
    threads = defaults.THREADS

    import numpy as np

    def run(path: Path, threads: int, input_hw=None):
        session = open_model(path, threads, input_hw)
        session(np.zeros(session.input_shape, dtype=np.float32))
        release(session)  # what the stage does after its work in low-memory mode (no-op otherwise)
        return session

    tile = engine.low_memory_tile(pack) if low else None  # as build_pipeline wires it
    kept = [
        step(
            f"detector ({(tile or pack.det.input_shape[1:3])[0]} px tiles)",
            lambda: run(pack.det.path, threads, tile),
        )
    ]
    kept.append(step("recogniser (PP-OCRv6 tiny)", lambda: run(pack.rec[0].path, threads)))
    kept.append(step("line classifier", lambda: run(pack.cls.path, threads)))
    copies = engine.second_opinion_copies(low, threads)
    for i in range(copies):
        kept.append(
            step(
                f"second opinion, copy {i + 1} (v6 small int8)",
                lambda: run(second.rec[0].path, max(1, threads // copies)),
            )
        )
    return steps


def component_table() -> dict[str, list[tuple[str, int, int]]]:
    """mode -> [(component, +peak kB, held kB)], each mode in its own fresh child."""
    out = {}
    for mode in MODES:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode], capture_output=True, text=True, check=True, cwd=REPO
        )
        rows = json.loads(proc.stdout.splitlines()[-1])
        out[mode] = [(name, b["VmHWM"] - a["VmHWM"], b["VmRSS"] - a["VmRSS"]) for name, a, b in rows]
    return out


CONFIGS = {
    "normal": '[ocr]\nmemory = "normal"\n',
    "low": '[ocr]\nmemory = "low"\n',
    "text off (rest of the daemon)": "[ocr]\nenabled = false\n",
}


def daemon_peaks(before: str | None) -> dict[str, dict]:
    """`edge-ocr run` on the bundled footage in each configuration (and, with `before`, with no configuration
    on that commit's edge_ocr and models): exit status, wall s, VmHWM."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for i, (name, text) in enumerate(CONFIGS.items()):
            (Path(tmp) / f"{i}.toml").write_text(text)
            runs.append((name, ["--config", str(Path(tmp) / f"{i}.toml")], {}))
        if before:
            tree = Path(tmp) / "before"
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", before, "edge_ocr", "models"], cwd=REPO, capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
            runs.insert(0, (f"before ({before}, no configuration)", [], {"EDGE_OCR_PROBE_TREE": str(tree)}))
        for i, (name, args, env) in enumerate(runs):
            result = measured(["run", *args, "--state-dir", str(Path(tmp) / f"state{i}")], env)
            result.pop("stderr")
            out[name] = result
    return out


def mb(kb: int) -> str:
    return f"{kb / 1024:.1f}"


def main() -> None:
    """Print the component table and the daemon's peaks; optionally save them as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--before", metavar="COMMIT", help="also run the daemon of this commit (git archive)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child_steps(args.child)))
        return
    table = component_table()
    print("| component | default: +peak MB | default: held MB | low-memory: +peak MB | low-memory: held MB |")
    print("|---|---:|---:|---:|---:|")
    low = {name.split(" (")[0]: (peak, held) for name, peak, held in table["low"]}
    for name, peak, held in table["normal"]:
        other = low.get(name.split(" (")[0])
        cells = f"{mb(other[0])} | {mb(other[1])}" if other else "– | –"
        print(f"| {name} | {mb(peak)} | {mb(held)} | {cells} |")
    peaks = daemon_peaks(args.before)
    print()
    print("| `edge-ocr run`, bundled footage | exit | VmHWM MB | private (RssAnon) peak MB | wall s |")
    print("|---|---:|---:|---:|---:|")
    for name, r in peaks.items():
        print(f"| {name} | {r['rc']} | **{mb(r['VmHWM'])}** | {mb(r['peak_RssAnon'])} | {r['wall_s']:.1f} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"components": table, "daemon": peaks}, indent=1))


if __name__ == "__main__":
    main()
