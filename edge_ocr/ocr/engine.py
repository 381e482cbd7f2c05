"""Build an OCR pipeline from a model pack: verify hashes, load each model once, wire the stages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from edge_ocr.models import Manifest, ModelPack, load_charset, verify_pack
from edge_ocr.ocr.classify import OrientationClassifier
from edge_ocr.ocr.detect import DetectorSettings, TextDetector
from edge_ocr.ocr.pipeline import OcrOptions, OcrPipeline
from edge_ocr.ocr.recognise import TextRecogniser
from edge_ocr.ocr.runtime import tflite_factory


@dataclass(frozen=True)
class EngineSettings:
    """Which models to load and how: the part of the configuration that costs a reload."""

    pack: str | None = None  # None: the manifest's default
    variant: str | None = None
    models_dir: Path | None = None
    threads: int = 2
    runtime: str = "auto"  # auto | litert | tflite_runtime
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    options: OcrOptions = field(default_factory=OcrOptions)


@dataclass
class Engine:
    """A loaded pipeline plus facts about how it was loaded."""

    pipeline: OcrPipeline
    pack: ModelPack
    runtime: str
    load_ms: float


def build_pipeline(pack: ModelPack, settings: EngineSettings, open_model) -> OcrPipeline:
    """Wire the stages from already verified model files."""
    det = open_model(pack.det.path, settings.threads)
    recs = [open_model(spec.path, settings.threads) for spec in pack.rec]
    cls = open_model(pack.cls.path, settings.threads) if pack.cls else None
    charset = load_charset(pack)
    classes = recs[0].output_shape[-1]
    if classes != len(charset):
        from edge_ocr.errors import ModelError

        raise ModelError(
            f"dictionary {pack.dict_path} gives {len(charset)} classes, "
            f"the recogniser {pack.rec[0].path} outputs {classes}"
        )
    detector = TextDetector(
        det, pack.det_mean, pack.det_std, settings.detector, logits=pack.det_output == "logits"
    )
    classifier = OrientationClassifier(cls) if cls else None
    return OcrPipeline(detector, TextRecogniser(recs), classifier, charset, settings.options)


def load_engine(settings: EngineSettings = EngineSettings()) -> Engine:
    """Verify every file of the chosen pack against its sha256, then load it."""
    t = time.perf_counter()
    pack = Manifest.load(settings.models_dir).pack(settings.pack, settings.variant)
    verify_pack(pack)
    runtime, open_model = tflite_factory(settings.runtime)
    pipeline = build_pipeline(pack, settings, open_model)
    return Engine(pipeline, pack, runtime, (time.perf_counter() - t) * 1000)
