"""`edge-ocr bench`: is this device fast enough? Load time, per-stage latency, frames per minute."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

from edge_ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from edge_ocr.cli.common import add_engine_arguments, engine_settings, open_engine
from edge_ocr.cli.numbers import float_range, int_range
from edge_ocr.documents import decode_image
from edge_ocr.ocr.crop import crop_quad

FRAME_SIZES = ((640, 480), (1280, 720), (1920, 1080))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `bench`."""
    parser.add_argument("--repeat", type=int_range(1, 100_000), default=10, help="timed runs per measurement")
    parser.add_argument(
        "--min-fpm",
        type=float_range(0, 1e6),
        default=30.0,
        help="frames per minute this deployment needs (default: %(default)s)",
    )
    parser.add_argument("--frame", type=Path, help="a typical frame from this site (default: bundled)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_engine_arguments(parser)


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first invocations set up kernels and caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _cold_start_ms(args: argparse.Namespace) -> float:
    """Import plus model load in a fresh interpreter, as a service start sees it."""
    settings = engine_settings(args)
    code = (
        "import time; t = time.perf_counter()\n"
        "from edge_ocr.ocr.engine import EngineSettings, load_engine\n"
        f"load_engine(EngineSettings(pack={settings.pack!r}, variant={settings.variant!r}, "
        f"models_dir={str(settings.models_dir) if settings.models_dir else None!r}, "
        f"threads={settings.threads}, runtime={settings.runtime!r}, memory={settings.memory!r}))\n"
        "print((time.perf_counter() - t) * 1000)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def default_frame() -> np.ndarray:
    """The bundled typical frame: a shipping label photographed on a dock."""
    data = (files("edge_ocr") / "samples" / "label-photo.jpg").read_bytes()
    return decode_image(data, "label-photo.jpg")[0]


def measure(args: argparse.Namespace) -> dict:
    """All figures of the benchmark as a dict."""
    t = time.perf_counter()
    engine = open_engine(args)
    if engine is None:
        raise SystemExit(EXIT_USAGE)
    load_ms = (time.perf_counter() - t) * 1000
    pipe, rep = engine.pipeline, args.repeat
    frame = decode_image(args.frame.read_bytes(), str(args.frame))[0] if args.frame else default_frame()
    det = pipe.detector
    tile = np.zeros(det.session.input_shape, dtype=np.float32)
    figures: dict = {
        "pack": engine.pack.name,
        "variant": engine.pack.variant,
        "runtime": engine.runtime,
        "memory": "low" if engine.low_memory else "normal",
        "threads": engine_settings(args).threads,
        "load_ms": round(load_ms, 1),
        "cold_start_ms": round(_cold_start_ms(args), 1),
        "detector_tile_ms": {
            f"{det.tile_w}x{det.tile_h}": round(_median_ms(lambda: det.session(tile), rep), 1)
        },
        "detect_ms": {},
        "recognise_line_ms": {},
    }
    for w, h in FRAME_SIZES:
        scaled = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        figures["detect_ms"][f"{w}x{h}"] = round(_median_ms(lambda s=scaled: det.detect(s), rep), 1)
    quads = det.detect(frame).quads
    crops = [crop_quad(frame, q) for q in quads] or [frame[: frame.shape[0] // 8]]
    rec = pipe.recogniser
    for session in rec.sessions:
        batch = np.zeros(session.input_shape, dtype=np.float32)
        figures["recognise_line_ms"][f"width {session.input_shape[2]}"] = round(
            _median_ms(lambda s=session, b=batch: s(b), rep), 2
        )
    batch8 = (crops * 8)[:8]
    dec = pipe.decoder(None)
    per_batch = _median_ms(lambda: rec.recognise(batch8, dec), rep)
    figures["recognise_batch8_ms"] = round(per_batch, 1)
    if pipe.classifier is not None:
        one = crops[:1]
        figures["classify_line_ms"] = round(_median_ms(lambda: pipe.classifier.upside_down(one), rep), 2)
    frame_ms = _median_ms(lambda: pipe.read(frame), rep)
    result = pipe.read(frame)
    figures["frame"] = {
        "size": f"{frame.shape[1]}x{frame.shape[0]}",
        "lines": len(result.lines),
        "ms": round(frame_ms, 1),
        "stages_ms": {k: round(v, 1) for k, v in result.timings_ms.items()},
    }
    figures["frames_per_minute"] = round(60000.0 / frame_ms, 1)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["min_fpm"] = args.min_fpm
    figures["meets_minimum"] = figures["frames_per_minute"] >= args.min_fpm
    return figures


def print_text(f: dict) -> None:
    """Human-readable report for a field operator."""
    print(
        f"edge-ocr bench: pack {f['pack']} ({f['variant']}), runtime {f['runtime']}, {f['threads']} threads"
        + (", low-memory mode" if f.get("memory") == "low" else "")
    )
    print(
        f"  model load            {f['load_ms']:8.1f} ms"
        f"   (cold start incl. imports: {f['cold_start_ms']:.0f} ms)"
    )
    for k, v in f["detector_tile_ms"].items():
        print(f"  detector tile {k:<8}{v:8.1f} ms")
    for k, v in f["detect_ms"].items():
        print(f"  detect frame {k:<9}{v:8.1f} ms")
    for k, v in f["recognise_line_ms"].items():
        print(f"  recognise line {k:<7}{v:8.2f} ms")
    print(f"  recognise 8 lines     {f['recognise_batch8_ms']:8.1f} ms")
    if "classify_line_ms" in f:
        print(f"  classify line         {f['classify_line_ms']:8.2f} ms")
    fr = f["frame"]
    print(f"  typical frame {fr['size']:<8}{fr['ms']:8.1f} ms   ({fr['lines']} lines; {fr['stages_ms']})")
    print(f"  peak memory (RSS)     {f['peak_rss_mb']:8.1f} MB")
    verdict = "MEETS" if f["meets_minimum"] else "DOES NOT MEET"
    print(f"  => {f['frames_per_minute']:.1f} frames/minute: {verdict} the minimum of {f['min_fpm']:g}")


def run(args: argparse.Namespace) -> int:
    """Measure, print, and exit 1 when the device is too slow for the configured minimum."""
    figures = measure(args)
    if args.format == "json":
        print(json.dumps(figures, indent=2))
    else:
        print_text(figures)
    return EXIT_OK if figures["meets_minimum"] else EXIT_FAILED
