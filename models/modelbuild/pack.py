"""Build one pack: convert, quantise and check every job, and pick the variants to ship."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks import OrtModel, check_model, compare, compat_failures, fmt_row, median_ms, score
from .config import CALIB_SEED, CHECK_SEED, N_CALIB, N_CHECK, Q_DYNAMIC, Q_FP16, Q_FULL, log, sha256_file
from .convert import convert_job
from .onnx_fixes import prepare_onnx
from .samples import make_inputs
from .sources import cjk_chars, load_dict
from .specs import ModelJob, PackSpec, jobs_for


@dataclass
class Failure:
    """A pack/model that could not be built, with the reason."""

    pack: str
    model: str
    reason: str


@dataclass
class ModelResult:
    """Checked variants of one job, ready for the manifest."""

    job: ModelJob
    source_file: str
    source_sha256: str
    output_shape: list[int] = field(default_factory=list)
    ship: dict[str, tuple[Path, str, dict]] = field(default_factory=dict)  # variant->(file,q,chk)


@dataclass
class PackResult:
    """Everything built for one pack."""

    spec: PackSpec
    dict_entries: list[str]
    det_output: str = "probability"
    models: list[ModelResult] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)


def onnx_output_kind(path: Path, refs: list[np.ndarray]) -> str:
    """'probability' if the detector ends in a Sigmoid and outputs stay in [0, 1]."""
    import onnx

    graph = onnx.load(str(path)).graph
    producer = {o: n.op_type for n in graph.node for o in n.output}
    last = producer.get(graph.output[0].name, "")
    lo, hi = min(float(r.min()) for r in refs), max(float(r.max()) for r in refs)
    return "probability" if last == "Sigmoid" and lo >= 0.0 and hi <= 1.0 else "logits"


def build_pack(
    spec: PackSpec, src: Path, work: Path, force: bool, failures: list[Failure]
) -> PackResult | None:
    """Convert, quantise and check all models of one pack."""
    log(f"pack {spec.name}")
    pack_work = work / spec.name
    pack_work.mkdir(parents=True, exist_ok=True)
    entries = load_dict(spec, src)
    result = PackResult(spec, entries)
    cjk = cjk_chars(entries)
    sources = {"det": spec.det, "rec": spec.rec, "cls": spec.cls}
    for job in jobs_for(spec):
        try:
            model = build_model(spec, job, src, sources[job.role], pack_work, cjk, force, result)
            result.models.append(model)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {str(exc)[:400]}"
            (pack_work / f"{job.key}.error.txt").write_text(traceback.format_exc())
            failures.append(Failure(spec.name, job.key, reason))
            result.rows.append(f"{spec.name:<20}{job.key.replace('_', ''):<8}FAILED    {reason}")
            log(f"  {job.key}: FAILED: {reason}")
    rec = [m for m in result.models if m.job.role == "rec"]
    if rec:
        classes = rec[0].output_shape[-1]
        if len(entries) + 2 != classes:
            raise ValueError(
                f"{spec.name}: dictionary has {len(entries)} entries, so {len(entries) + 2} "
                f"classes with blank and space, but the recogniser outputs {classes}"
            )
    return result


def build_model(
    spec: PackSpec,
    job: ModelJob,
    src: Path,
    rel: str,
    pack_work: Path,
    cjk: list[str],
    force: bool,
    result: PackResult,
) -> ModelResult:
    """Convert and check one job of a pack; append table rows to result."""
    original = src / rel
    checks = make_inputs(job, N_CHECK[job.role], CHECK_SEED, cjk)
    ref_model = OrtModel(original)
    refs = [ref_model(x[None]) for x in checks]
    ort_ms = median_ms(ref_model, checks[:1])
    if job.role == "det":
        result.det_output = onnx_output_kind(original, refs)
    result.rows.append(
        f"{spec.name:<20}{job.key.replace('_', ''):<8}{'onnxrt':<10}{'(reference)':<66}"
        f"{ort_ms:7.1f} ms {original.stat().st_size / 1e6:5.1f} MB"
    )
    onnx_in = pack_work / f"{job.role}_prepared.onnx"
    n_erf = prepare_onnx(original, onnx_in, spec.rewrite_erf)
    if spec.rewrite_erf:
        patched = OrtModel(onnx_in)
        chk = compare(job.role, refs, [patched(x[None]) for x in checks])
        chk["ms_median_2threads"] = median_ms(patched, checks[:1])
        result.rows.append(fmt_row(spec.name, job.key, "onnx-tanh", job.role, chk, None) + f" ({n_erf} Erf)")
    calib = make_inputs(job, N_CALIB[job.role], CALIB_SEED, cjk).transpose(0, 2, 3, 1)
    fix = spec.fix_squeeze and job.role == "rec"
    conv = convert_job(onnx_in, job, pack_work / job.key, pack_work.parent, calib, force, fix)
    for err in conv.errors:
        result.rows.append(f"{spec.name:<20}{job.key.replace('_', ''):<8}{err}")
    model = ModelResult(job, rel, sha256_file(original))
    checked: dict[str, dict] = {}
    incompatible = compat_failures(list(conv.files.values()))
    for variant, path in conv.files.items():
        if path in incompatible:
            result.rows.append(
                f"{spec.name:<20}{job.key.replace('_', ''):<8}{variant:<10}"
                f"fails in tflite-runtime 2.14: {incompatible[path]}"
            )
            continue
        try:
            chk, out_shape = check_model(path, job.role, checks, refs, list(job.nhwc))
        except Exception as exc:
            result.rows.append(
                f"{spec.name:<20}{job.key.replace('_', ''):<8}{variant:<10}"
                f"unusable: {type(exc).__name__}: {str(exc)[:200]}"
            )
            continue
        model.output_shape = out_shape
        checked[variant] = chk
        label = variant if variant in ("fp16", "int8-dyn", "int8-full") else "fp32*"
        result.rows.append(fmt_row(spec.name, job.key, label, job.role, chk, path.stat().st_size))
    if "fp16" not in checked:
        raise RuntimeError("the fp16 model did not convert or does not run in both runtimes")
    model.ship["fp16"] = (conv.files["fp16"], Q_FP16, checked["fp16"])
    int8 = [v for v in ("int8-full", "int8-dyn") if v in checked]
    if int8:
        best = max(int8, key=lambda v: score(job.role, checked[v]))
        quant = Q_FULL if best == "int8-full" else Q_DYNAMIC
        model.ship["int8"] = (conv.files[best], quant, checked[best])
        result.rows.append(f"{'':<28}int8 kept: {quant}")
    return model
