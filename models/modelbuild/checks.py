"""Numeric checks of converted TFLite files against onnxruntime on the ONNX original."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .config import DET_THRESH, RUN, THREADS, TIMING_ROUNDS, TIMING_RUNS

# Run by --compat-python's interpreter: each file must load and run in tflite-runtime 2.14 too.
COMPAT_SNIPPET = """
import sys
import numpy as np
from tflite_runtime.interpreter import Interpreter
for path in sys.argv[1:]:
    try:
        it = Interpreter(model_path=path, num_threads=2)
        it.allocate_tensors()
        inp = it.get_input_details()[0]
        it.set_tensor(inp["index"], np.zeros(inp["shape"], np.float32))
        it.invoke()
        print("OK", path)
    except Exception as exc:
        print("FAIL", path, " ".join(str(exc).split())[:160])
"""


class OrtModel:
    """onnxruntime session on an ONNX file (NCHW in)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = THREADS
        opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.name = self.sess.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run one NCHW sample."""
        return self.sess.run(None, {self.name: x})[0]


class TfliteModel:
    """LiteRT interpreter on a converted model (NHWC in, float32 I/O)."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(path), num_threads=THREADS)
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]
        self.out = self.interp.get_output_details()[0]

    @property
    def input_shape(self) -> list[int]:
        """Input tensor shape."""
        return [int(v) for v in self.inp["shape"]]

    @property
    def output_shape(self) -> list[int]:
        """Output tensor shape."""
        return [int(v) for v in self.out["shape"]]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run one NCHW sample (transposed to NHWC here)."""
        self.interp.set_tensor(self.inp["index"], np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
        self.interp.invoke()
        return self.interp.get_tensor(self.out["index"])


def median_ms(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> float:
    """Median ms of TIMING_RUNS calls; the lowest of TIMING_ROUNDS such medians (less noise)."""
    fn(x)
    fn(x)
    medians = []
    for _ in range(TIMING_ROUNDS):
        times = []
        for _ in range(TIMING_RUNS):
            t0 = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t0) * 1000.0)
        medians.append(statistics.median(times))
    return round(min(medians), 2)


def compat_failures(paths: list[Path]) -> dict[Path, str]:
    """Load and run each file in tflite-runtime (RUN.compat_python); return failures by path."""
    if not RUN.compat_python or not paths:
        return {}
    proc = subprocess.run(
        [RUN.compat_python, "-c", COMPAT_SNIPPET, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    seen = {}
    for line in proc.stdout.splitlines():
        status, _, rest = line.partition(" ")
        path, _, reason = rest.partition(" ")
        seen[Path(path)] = "" if status == "OK" else reason
    return {p: seen.get(p, f"no answer (exit {proc.returncode})") for p in paths if seen.get(p) != ""}


def ctc_greedy(ids: np.ndarray) -> list[int]:
    """Collapse repeats and drop blank (0)."""
    out, prev = [], -1
    for i in ids.tolist():
        if i != prev and i != 0:
            out.append(i)
        prev = i
    return out


def compare(role: str, refs: list[np.ndarray], outs: list[np.ndarray]) -> dict:
    """Accuracy of outs against onnxruntime refs (outputs squeezed to a common layout)."""
    ref = np.stack([np.squeeze(r) for r in refs]).astype(np.float64)
    got = np.stack([np.squeeze(o) for o in outs]).astype(np.float64)
    if ref.shape != got.shape:
        raise ValueError(f"output shape mismatch: onnx {ref.shape} vs tflite {got.shape}")
    diff = np.abs(ref - got)
    check = {
        "max_abs_diff": round(float(diff.max()), 5),
        "mean_abs_diff": round(float(diff.mean()), 6),
    }
    if role == "det":
        check["mask_agreement"] = round(float(((ref > DET_THRESH) == (got > DET_THRESH)).mean()), 5)
    elif role == "rec":
        a, b = ref.argmax(-1), got.argmax(-1)
        check["argmax_agreement"] = round(float((a == b).mean()), 5)
        same = [ctc_greedy(x) == ctc_greedy(y) for x, y in zip(a, b, strict=True)]
        check["ctc_identical"] = round(float(np.mean(same)), 5)
    else:
        check["argmax_agreement"] = round(float((ref.argmax(-1) == got.argmax(-1)).mean()), 5)
    check["samples"] = len(refs)
    return check


def score(role: str, check: dict) -> tuple:
    """Sort key: higher is more accurate."""
    if role == "det":
        return (check["mask_agreement"], -check["mean_abs_diff"])
    if role == "rec":
        return (check["ctc_identical"], check["argmax_agreement"], -check["mean_abs_diff"])
    return (check["argmax_agreement"], -check["mean_abs_diff"])


def fmt_row(pack: str, key: str, variant: str, role: str, check: dict, size: int | None) -> str:
    """One line of the check table."""
    parts = [f"{pack:<20}{key.replace('_', ''):<8}{variant:<10}"]
    parts.append(f"max|d|={check['max_abs_diff']:<8.4f} mean|d|={check['mean_abs_diff']:<9.6f}")
    if role == "det":
        parts.append(f"mask={100 * check['mask_agreement']:6.2f}%" + " " * 14)
    elif role == "rec":
        parts.append(
            f"argmax={100 * check['argmax_agreement']:5.1f}% ctc-same={100 * check['ctc_identical']:3.0f}%"
        )
    else:
        parts.append(f"argmax={100 * check['argmax_agreement']:5.1f}%" + " " * 14)
    if "ms_median_2threads" in check:
        parts.append(f"{check['ms_median_2threads']:7.1f} ms")
    if size is not None:
        parts.append(f"{size / 1e6:5.1f} MB")
    return " ".join(parts)


def check_model(
    path: Path, role: str, inputs: np.ndarray, refs: list[np.ndarray], expect_in: list[int]
) -> tuple[dict, list[int]]:
    """Check one TFLite file against refs; return the check dict and its output shape."""
    model = TfliteModel(path)
    if model.input_shape != expect_in:
        raise ValueError(f"input shape {model.input_shape}, expected {expect_in}")
    outs = [model(x[None]) for x in inputs]
    check = compare(role, refs, outs)
    check["ms_median_2threads"] = median_ms(model, inputs[:1])
    return check, model.output_shape
