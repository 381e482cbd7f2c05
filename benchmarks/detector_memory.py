"""What one detector tile costs in memory, and why the low-memory mode cuts tiles instead of keeping 640.

For the default pack's detector (fp16 and the dynamic-range int8 file) at the model's own 640 px and at
the low-memory mode's 320 px: the sum of the activations alive at once (a lower bound no runtime beats,
from the graph alone), and what loading and calling it once adds to a fresh child process's peak RSS
with LiteRT's default XNNPACK delegate and with the built-in kernels only. Development only:

    .venv/bin/python benchmarks/detector_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = """
import json, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, "benchmarks")
from ai_edge_litert import interpreter as tfl
from detector_memory import content_at
from tests.memory_probe import status
path, side, kernels = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
content = content_at(path, side)
kw = {}
if kernels == "built-in":
    kw["experimental_op_resolver_type"] = tfl.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
before = status()["VmHWM"]
it = tfl.Interpreter(model_content=content, num_threads=2, **kw)
it.allocate_tensors()
inp = it.get_input_details()[0]
it.set_tensor(inp["index"], np.random.default_rng(0).random(inp["shape"], dtype=np.float32))
it.invoke()
print(json.dumps({"peak_mb": (status()["VmHWM"] - before) / 1024}))
"""


def content_at(path: Path, side: int) -> bytes:
    """The model's bytes at a side x side input (reshape.py, as the low-memory mode loads it)."""
    from ai_edge_litert.interpreter import Interpreter

    from edge_ocr.ocr.reshape import reshaped_model
    from edge_ocr.ocr.runtime import _tensor_shapes

    return reshaped_model(path, side, side, lambda b: _tensor_shapes(b, Interpreter))


def live_activations_mb(path: Path, side: int) -> float:
    """Largest sum of activations alive at once, in the file's operator order (DEQUANTIZE of constant
    weights left out): the floor for any runtime that keeps each tensor whole."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=content_at(path, side))
    ops = [op for op in interp._get_ops_details() if op["op_name"] != "DEQUANTIZE"]
    tensors = {t["index"]: t for t in interp.get_tensor_details()}

    def size(i: int) -> float:
        t = tensors[i]
        return float(np.prod(t["shape"])) * np.dtype(t["dtype"]).itemsize

    last = {i: k for k, op in enumerate(ops) for i in op["inputs"] if i >= 0}
    live = {i: size(i) for i in (d["index"] for d in interp.get_input_details())}
    peak = 0.0
    for k, op in enumerate(ops):
        live.update({o: size(o) for o in op["outputs"]})
        peak = max(peak, sum(live.values()))
        live = {i: v for i, v in live.items() if last.get(i, len(ops)) > k}
    return peak / 2**20


def child_peak(path: Path, side: int, kernels: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(side), kernels],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_mb"]


def main() -> None:
    from edge_ocr.models import Manifest

    pack = Manifest.load().pack(None, None)
    heads = ("detector", "tile", "activations alive (floor) MB", "XNNPACK +peak MB", "built-in +peak MB")
    print("| " + " | ".join(heads) + " |")
    print("|---|---:|---:|---:|---:|")
    for variant in ("fp16", "int8"):
        path = Manifest.load().pack(pack.name, variant).det.path
        for side in (640, 320):
            floor = live_activations_mb(path, side)
            xnn, builtin = child_peak(path, side, "XNNPACK"), child_peak(path, side, "built-in")
            print(f"| {pack.name} {variant} | {side} | {floor:.1f} | {xnn:.1f} | {builtin:.1f} |", flush=True)


if __name__ == "__main__":
    main()
