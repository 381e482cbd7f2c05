"""What one detector tile costs in memory, and why the low-memory mode cuts tiles instead of keeping 640.

For the default pack's detector (fp16 and the dynamic-range int8 file, and any --file given, e.g. a
full-integer build from models/build_models.py) at the model's own 640 px and at the low-memory mode's
320 px: the sum of the activations alive at once (a floor no runtime beats, from the graph alone), and
what loading and calling it once adds to a fresh child process's peak RSS with LiteRT's default XNNPACK
delegate, with XNNPACK's transient indirection buffers (only LiteRT's CompiledModel API takes XNNPACK
flags), and with the built-in kernels only. Development only:

    .venv/bin/python benchmarks/detector_memory.py [--file DETECTOR.tflite ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIDES = (640, 320)
# XNNPACK delegate flags (tflite xnnpack_delegate.h): QS8 | QU8, LiteRT's default, plus transient
# indirection buffers (built per call instead of kept per operator)
XNNPACK_TRANSIENT_FLAGS = 0x1 | 0x2 | 0x20
KERNELS = {
    "xnnpack": "XNNPACK +peak MB",
    "transient": "XNNPACK, transient buffers +peak MB",
    "built-in": "built-in kernels +peak MB",
}


def content_at(path: Path, side: int) -> bytes:
    """The model's bytes at a side x side input, as the low-memory mode loads it."""
    from ai_edge_litert.interpreter import Interpreter

    from edge_ocr.ocr.runtime import reshaped_content

    return reshaped_content(path, (side, side), Interpreter)


def live_activations_mb(content: bytes) -> float:
    """Largest sum of activations alive at once, in the file's operator order (DEQUANTIZE of constant
    weights left out): the floor for any runtime that keeps each tensor whole."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=content)
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


def run_once(content: bytes, kernels: str) -> None:
    """Load the model with these kernels and call it once on a random input (in the child)."""
    import numpy as np
    from ai_edge_litert import interpreter as tfl

    if kernels == "transient":
        from ai_edge_litert.compiled_model import CompiledModel
        from ai_edge_litert.cpu_options import CpuOptions
        from ai_edge_litert.hardware_accelerator import HardwareAccelerator
        from ai_edge_litert.options import Options

        cpu = CpuOptions(num_threads=2, xnnpack_flags=XNNPACK_TRANSIENT_FLAGS)
        model = CompiledModel.from_buffer(content, options=Options(HardwareAccelerator.CPU, cpu_options=cpu))
        inputs, outputs = model.create_input_buffers(0), model.create_output_buffers(0)
        shape = model.get_input_tensor_details(next(iter(model.get_signature_list())))
        shape = next(iter(shape.values()))["shape"]
        inputs[0].write(np.random.default_rng(0).random(shape, dtype=np.float32))
        model.run_by_index(0, inputs, outputs)
        return
    kw = {}
    if kernels == "built-in":
        kw["experimental_op_resolver_type"] = tfl.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interp = tfl.Interpreter(model_content=content, num_threads=2, **kw)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    interp.set_tensor(inp["index"], np.random.default_rng(0).random(inp["shape"], dtype=np.float32))
    interp.invoke()


def child_peak(path: Path, side: int, kernels: str) -> float:
    """What loading and one call add to a fresh process's VmHWM, in MB."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(side), kernels],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_mb"]


def child(path: str, side: str, kernels: str) -> None:
    from tests.memory_probe import status

    content = content_at(Path(path), int(side))
    before = status()["VmHWM"]
    run_once(content, kernels)
    print(json.dumps({"peak_mb": (status()["VmHWM"] - before) / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, nargs="*", default=[], help="other detector files to measure")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from edge_ocr.models import Manifest

    manifest = Manifest.load()
    name = manifest.pack(None, None).name
    files = [(f"{name} {v}", manifest.pack(name, v).det.path) for v in ("fp16", "int8")]
    files += [(str(f), f) for f in args.file]
    print("| detector | tile | activations alive (floor) MB | " + " | ".join(KERNELS.values()) + " |")
    print("|---|" + "---:|" * (2 + len(KERNELS)))
    for label, path in files:
        for side in SIDES:
            floor = live_activations_mb(content_at(path, side))
            peaks = " | ".join(f"{child_peak(path, side, k):.1f}" for k in KERNELS)
            print(f"| {label} | {side} | {floor:.1f} | {peaks} |", flush=True)


if __name__ == "__main__":
    main()
