"""Build an OCR pipeline from a model pack: verify hashes, load each model once, wire the stages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from edge_ocr.errors import ModelError
from edge_ocr.models import Manifest, ModelPack, load_charset, second_opinion_pack, verify_files, verify_pack
from edge_ocr.ocr import defaults
from edge_ocr.ocr.classify import OrientationClassifier
from edge_ocr.ocr.detect import DetectorSettings, TextDetector
from edge_ocr.ocr.memory_mode import is_low_memory, return_freed_memory
from edge_ocr.ocr.parallel import ParallelRecogniser
from edge_ocr.ocr.pipeline import OcrOptions, OcrPipeline
from edge_ocr.ocr.recognise import TextRecogniser
from edge_ocr.ocr.runtime import tflite_factory
from edge_ocr.ocr.second_opinion import SecondOpinion


@dataclass(frozen=True)
class EngineSettings:
    """Which models to load and how: the part of the configuration that costs a reload."""

    pack: str | None = None  # None: the manifest's default
    variant: str | None = None
    models_dir: Path | None = None
    threads: int = defaults.THREADS
    runtime: str = defaults.RUNTIME  # auto | litert | tflite_runtime
    second_opinion: str = (
        defaults.SECOND_OPINION
    )  # auto (the pack's choice in the manifest) | none | PACK[/VARIANT]
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    options: OcrOptions = field(default_factory=OcrOptions)
    memory: str = defaults.MEMORY  # auto | low | normal: see is_low_memory()


@dataclass
class Engine:
    """A loaded pipeline plus facts about how it was loaded."""

    pipeline: OcrPipeline
    pack: ModelPack
    runtime: str
    load_ms: float
    second: ModelPack | None = None
    low_memory: bool = False


def open_recogniser(pack: ModelPack, threads: int, open_model) -> tuple[TextRecogniser, list[str]]:
    """A pack's recogniser over all its buckets and its CTC classes, checked against each other."""
    recogniser = TextRecogniser([open_model(spec.path, threads) for spec in pack.rec])
    charset = load_charset(pack)
    classes = recogniser.sessions[0].output_shape[-1]
    if classes != len(charset):
        raise ModelError(
            f"dictionary {pack.dict_path} gives {len(charset)} classes, "
            f"the recogniser {pack.rec[0].path} outputs {classes}"
        )
    return recogniser, charset


# Copies of the second opinion's recogniser reading lines side by side (each ~20 MB resident).
SECOND_OPINION_COPIES = 2


def build_second_opinion(
    pack: ModelPack, threads: int, open_model, copies: int = SECOND_OPINION_COPIES
) -> SecondOpinion:
    """A second recogniser from already verified files, with its own dictionary.

    With two or more threads it runs as two copies on different lines, the threads split between
    them: on receipts that re-read half their lines this cut the second opinion's time by a third.
    """
    copies = max(1, min(copies, threads))
    built = [open_recogniser(pack, max(1, threads // copies), open_model) for _ in range(copies)]
    charset = built[0][1]
    reader = built[0][0] if copies == 1 else ParallelRecogniser([rec for rec, _ in built])
    return SecondOpinion(reader, charset, f"{pack.name}/{pack.variant}")


def low_memory_tile(pack: ModelPack) -> tuple[int, int]:
    """The detector's input in low-memory mode: LOW_MEMORY_TILE, or the model's own if smaller."""
    side = min(defaults.LOW_MEMORY_TILE, pack.det.input_shape[1], pack.det.input_shape[2])
    return side, side


def second_opinion_copies(low_memory: bool, threads: int) -> int:
    """Side-by-side copies of the second opinion's recogniser: one in low-memory mode."""
    return 1 if low_memory else max(1, min(SECOND_OPINION_COPIES, threads))


def build_pipeline(
    pack: ModelPack,
    settings: EngineSettings,
    open_model,
    second: ModelPack | None = None,
    low_memory: bool = False,
) -> OcrPipeline:
    """Wire the stages from already verified model files (low_memory: see is_low_memory())."""
    fit = (pack.det.input_shape[1], pack.det.input_shape[2])
    detector_settings = settings.detector
    if low_memory:  # every model loaded only while its stage runs; the detector on smaller tiles
        open_model = partial(open_model, on_demand=True)
        det = open_model(pack.det.path, settings.threads, low_memory_tile(pack))
        detector_settings = replace(detector_settings, overlap=defaults.LOW_MEMORY_OVERLAP)
    else:
        det = open_model(pack.det.path, settings.threads)
    recogniser, charset = open_recogniser(pack, settings.threads, open_model)
    cls = open_model(pack.cls.path, settings.threads) if pack.cls else None
    detector = TextDetector(
        det, pack.det_mean, pack.det_std, detector_settings, logits=pack.det_output == "logits", fit=fit
    )
    classifier = OrientationClassifier(cls) if cls else None
    copies = second_opinion_copies(low_memory, settings.threads)
    opinion = build_second_opinion(second, settings.threads, open_model, copies) if second else None
    return OcrPipeline(detector, recogniser, classifier, charset, settings.options, opinion)


def load_engine(settings: EngineSettings = EngineSettings()) -> Engine:
    """Verify every file of the chosen pack against its sha256, then load it."""
    t = time.perf_counter()
    manifest = Manifest.load(settings.models_dir)
    pack = manifest.pack(settings.pack, settings.variant)
    second = second_opinion_pack(manifest, pack, settings.second_opinion)
    verify_pack(pack)
    if second is not None:
        verify_files(second.recogniser_files())
    low = is_low_memory(settings.memory)
    if low:
        return_freed_memory()
    runtime, open_model = tflite_factory(settings.runtime)
    pipeline = build_pipeline(pack, settings, open_model, second, low)
    return Engine(pipeline, pack, runtime, (time.perf_counter() - t) * 1000, second, low)
