"""ONNX to TFLite conversion of one static shape (onnxsim + onnx2tf), cached in the work dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import BUILD_VERSION, ONNX2TF_CALIB, log, sha256_file
from .onnx_fixes import keep_4d
from .quantize import quantize
from .specs import ModelJob


def tool(name: str) -> str:
    """Path of a console script installed next to this interpreter."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass
class Converted:
    """Outcome of converting one job: TFLite files per variant and notes."""

    job: ModelJob
    files: dict[str, Path] = field(default_factory=dict)  # fp32, fp16, int8-dyn, int8-full
    errors: list[str] = field(default_factory=list)


def run_logged(cmd: list[str], logfile: Path, cwd: Path) -> None:
    """Run a tool, teeing its output into logfile; raise with the log tail on failure."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1")
    with logfile.open("w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    if proc.returncode != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-8:]
        raise RuntimeError(f"{Path(cmd[0]).name} exited {proc.returncode}: " + " | ".join(tail))


def ensure_onnx2tf_calibration(work: Path) -> None:
    """onnx2tf downloads this array unless it is in its working directory."""
    path = work / ONNX2TF_CALIB
    if not path.exists():
        rng = np.random.default_rng(0)
        np.save(path, rng.random((20, 128, 128, 3), dtype=np.float32))


def convert_float(
    onnx_path: Path, job: ModelJob, out: Path, work: Path, fix_squeeze: bool
) -> dict[str, Path]:
    """onnxsim with a static shape, then onnx2tf; return fp32 and fp16 TFLite paths."""
    out.mkdir(parents=True, exist_ok=True)
    sim = out / "sim.onnx"
    shape = ",".join(map(str, job.nchw))
    run_logged(
        [tool("onnxsim"), str(onnx_path), str(sim), "--overwrite-input-shape", f"x:{shape}"],
        out / "onnxsim.log",
        work,
    )
    if fix_squeeze:
        import onnx

        model = onnx.load(str(sim))
        log(f"  {job.key}: removed {keep_4d(model)} Squeeze/Unsqueeze detours")
        onnx.checker.check_model(model)
        onnx.save(model, str(sim))
    tf_dir = out / "tf"
    if tf_dir.exists():
        shutil.rmtree(tf_dir)
    run_logged(
        [tool("onnx2tf"), "-i", str(sim), "-o", str(tf_dir), "-v", "error"],
        out / "onnx2tf.log",
        work,
    )
    files = {"fp32": tf_dir / "sim_float32.tflite", "fp16": tf_dir / "sim_float16.tflite"}
    for variant, path in files.items():
        if not path.exists():
            raise RuntimeError(f"onnx2tf wrote no {variant} model ({path.name})")
    return files


def convert_job(
    onnx_path: Path,
    job: ModelJob,
    out: Path,
    work: Path,
    calib: np.ndarray,
    force: bool,
    fix_squeeze: bool = False,
) -> Converted:
    """Convert one static shape into fp32/fp16/int8 variants, reusing a matching cache."""
    result = Converted(job)
    stamp_path = out / "stamp.json"
    stamp = {
        "build": BUILD_VERSION,
        "source": sha256_file(onnx_path),
        "shape": job.nchw,
        "fix_squeeze": fix_squeeze,
    }
    cached = {
        "fp32": out / "tf" / "sim_float32.tflite",
        "fp16": out / "tf" / "sim_float16.tflite",
        "int8-dyn": out / "int8_dynamic.tflite",
        "int8-full": out / "int8_full.tflite",
    }
    if (
        not force
        and stamp_path.exists()
        and json.loads(stamp_path.read_text()) == json.loads(json.dumps(stamp))
        and all(p.exists() for p in cached.values())
    ):
        result.files = cached
        log(f"  {job.key}: reusing cached conversion in {out}")
        return result
    if stamp_path.exists():
        stamp_path.unlink()
    t0 = time.time()
    result.files.update(convert_float(onnx_path, job, out, work, fix_squeeze))
    log(f"  {job.key}: onnx2tf done in {time.time() - t0:.0f} s")
    for variant, data in (("int8-dyn", None), ("int8-full", calib)):
        try:
            result.files[variant] = quantize(out / "tf", cached[variant], data)
        except Exception as exc:  # keep the other variant if one quantiser fails
            result.errors.append(f"{variant}: {type(exc).__name__}: {str(exc)[:300]}")
    if not result.errors:
        stamp_path.write_text(json.dumps(stamp))
    log(f"  {job.key}: converted in {time.time() - t0:.0f} s")
    return result
