"""Model packs: read the manifest, check every file's sha256, pick a pack and variant."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edge_ocr.errors import ModelError

MANIFEST_NAME = "manifest.json"
ROLES = ("det", "rec", "cls")


@dataclass(frozen=True)
class ModelSpec:
    """One model file as the manifest describes it."""

    role: str
    variant: str
    path: Path
    sha256: str
    input_shape: tuple[int, ...]
    quantization: str = ""

    @property
    def width(self) -> int:
        """Input width (NHWC), the bucket key for recognisers."""
        return self.input_shape[2]


@dataclass(frozen=True)
class ModelPack:
    """A detector, recogniser bucket(s), optional classifier and dictionary that belong together."""

    name: str
    variant: str
    description: str
    det: ModelSpec
    rec: tuple[ModelSpec, ...]
    cls: ModelSpec | None
    dict_path: Path
    dict_sha256: str
    space_char: bool
    det_mean: tuple[float, float, float]
    det_std: tuple[float, float, float]
    det_output: str
    second_opinion: str | None = None  # "PACK" or "PACK/VARIANT" whose recogniser re-reads unsure lines

    def files(self) -> list[tuple[Path, str]]:
        """Every file of the pack with its expected sha256, dictionary included."""
        specs = [self.det, *([self.cls] if self.cls else [])]
        return [(s.path, s.sha256) for s in specs] + self.recogniser_files()

    def recogniser_files(self) -> list[tuple[Path, str]]:
        """The recogniser buckets and the dictionary: all a second opinion loads of a pack."""
        return [(s.path, s.sha256) for s in self.rec] + [(self.dict_path, self.dict_sha256)]


def default_models_dir() -> Path:
    """Where the shipped models are: $EDGE_OCR_MODELS_DIR, the installed package, or the repo."""
    env = os.environ.get("EDGE_OCR_MODELS_DIR")
    if env:
        return Path(env)
    try:
        from importlib.resources import files

        # a namespace package (models/ has no __init__.py): join first to get a real path
        installed = Path(str(files("edge_ocr.model_files").joinpath(MANIFEST_NAME))).parent
        if (installed / MANIFEST_NAME).is_file():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parent.parent / "models"


def sha256_file(path: Path) -> str:
    """Hash a file in chunks, so large models do not need to fit in memory twice."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected: str) -> None:
    """Refuse a missing or altered model file, naming the file and both hashes."""
    if not path.is_file():
        raise ModelError(f"model file {path} is missing (expected sha256 {expected})")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(
            f"model file {path} is corrupt or was replaced: sha256 is {actual}, "
            f"the manifest expects {expected}; reinstall edge-ocr or rebuild the models"
        )


class Manifest:
    """The parsed models/manifest.json."""

    def __init__(self, root: Path, data: dict) -> None:
        self.root = root
        self.data = data
        self.default_pack: str = data.get("default_pack", "")
        self.default_variant: str = data.get("default_variant", "fp16")

    @classmethod
    def load(cls, root: Path | None = None) -> Manifest:
        """Read the manifest, with an error that says where it looked.

        The root is resolved once, here: a model pack behind a link (models/current on a device) stays the
        pack this process verified when the link moves, for models loaded again later (low-memory mode).
        """
        root = (Path(root) if root else default_models_dir()).resolve()
        path = root / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"no model manifest at {path}; set models_dir or reinstall") from exc
        except (OSError, ValueError) as exc:
            raise ModelError(f"model manifest {path} is unreadable: {exc}") from exc
        if data.get("schema") != 1 or not isinstance(data.get("packs"), dict):
            raise ModelError(f"model manifest {path}: unsupported schema {data.get('schema')!r}")
        return cls(root, data)

    @property
    def pack_names(self) -> list[str]:
        """Names of the packs the manifest lists."""
        return sorted(self.data["packs"])

    def variants(self, pack: str) -> list[str]:
        """Variants (fp16, int8, ...) that pack ships."""
        return sorted({m["variant"] for m in self._pack_data(pack)["models"]})

    def _pack_data(self, pack: str) -> dict:
        try:
            return self.data["packs"][pack]
        except KeyError:
            raise ModelError(
                f"unknown model pack {pack!r}; available: {', '.join(self.pack_names)}"
            ) from None

    def _spec(self, entry: dict) -> ModelSpec:
        return ModelSpec(
            role=entry["role"],
            variant=entry["variant"],
            path=self.root / entry["file"],
            sha256=entry["sha256"],
            input_shape=tuple(entry["input_shape"]),
            quantization=entry.get("quantization", ""),
        )

    def pack(self, name: str | None = None, variant: str | None = None) -> ModelPack:
        """Select a pack and variant (default: the pack's own default, else the manifest's)."""
        name = name or self.default_pack
        data = self._pack_data(name)
        variant = variant or data.get("default_variant") or self.default_variant
        if variant not in self.variants(name):
            raise ModelError(
                f"model pack {name!r} has no variant {variant!r}; available: {', '.join(self.variants(name))}"
            )
        by_role: dict[str, list[ModelSpec]] = {r: [] for r in ROLES}
        for entry in data["models"]:
            if entry["variant"] == variant and entry["role"] in by_role:
                by_role[entry["role"]].append(self._spec(entry))
        if not by_role["det"] or not by_role["rec"]:
            raise ModelError(f"model pack {name!r} variant {variant!r} lacks a det or rec model")
        norm = data.get("det_normalize", {})
        return ModelPack(
            name=name,
            variant=variant,
            description=data.get("description", ""),
            det=by_role["det"][0],
            rec=tuple(sorted(by_role["rec"], key=lambda s: s.width)),
            cls=by_role["cls"][0] if by_role["cls"] else None,
            dict_path=self.root / data["dict"]["file"],
            dict_sha256=data["dict"]["sha256"],
            space_char=bool(data["dict"].get("space_char", True)),
            det_mean=tuple(norm.get("mean", (0.485, 0.456, 0.406))),
            det_std=tuple(norm.get("std", (0.229, 0.224, 0.225))),
            det_output=data.get("det_output", "probability"),
            second_opinion=data.get("second_opinion") or None,
        )


def verify_files(files: list[tuple[Path, str]]) -> None:
    """Check files against their sha256 before anything is loaded."""
    for path, expected in files:
        verify_file(path, expected)


def verify_pack(pack: ModelPack) -> None:
    """Check every file of a pack before anything is loaded."""
    verify_files(pack.files())


def load_charset(pack: ModelPack) -> list[str]:
    """CTC classes: blank, the dictionary in order, then a space when the pack uses one."""
    text = pack.dict_path.read_text(encoding="utf-8")
    chars = text.split("\n")  # only LF: entries may be other whitespace (U+3000 in v5/v6)
    if chars and chars[-1] == "":
        chars.pop()
    return ["", *chars, *([" "] if pack.space_char else [])]


def second_opinion_pack(manifest: Manifest, pack: ModelPack, choice: str) -> ModelPack | None:
    """The pack whose recogniser re-reads unsure lines: the manifest's choice, another, or none."""
    spec = pack.second_opinion if choice == "auto" else ("" if choice == "none" else choice)
    if not spec:
        return None
    name, _, variant = spec.partition("/")
    second = manifest.pack(name, variant or None)
    same = second.name == pack.name and second.variant == pack.variant
    return None if same else second
