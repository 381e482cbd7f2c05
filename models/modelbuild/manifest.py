"""Ship built packs into the models folder and write manifest.json, within the size limit."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from .config import DET_MEAN, DET_STD, MANIFEST_NAME, MAX_SHIPPED_BYTES, RUN, log, sha256_file
from .pack import PackResult
from .sources import write_dict
from .specs import (
    PACK_DEFAULT_VARIANT,
    PACK_SECOND_OPINION,
    PACKS,
    RELEASE_DEFAULT,
    SOURCES,
    SPECS,
    ship_spec,
    with_shared,
)


def manifest_path() -> Path:
    """manifest.json of the models folder (--out)."""
    return RUN.out / MANIFEST_NAME


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
    for path in RUN.out.rglob("*"):
        rel = path.relative_to(RUN.out).parts
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
            f"{RUN.out} would hold {total / 1e6:.1f} MB, over the {MAX_SHIPPED_BYTES / 1e6:.0f} MB "
            "limit; ship fewer packs or use --out (nothing was changed)"
        )
    for name in sorted(replaced):
        if (RUN.out / name).exists():
            shutil.rmtree(RUN.out / name)
            if name not in folders:
                log(f"removed {RUN.out / name} (not in the release)")
    for name in folders:
        shutil.move(str(stage / name), str(RUN.out / name))
        log(f"shipped {name} into {RUN.out / name}")
    shutil.rmtree(stage)
    manifest_path().write_text(text, "utf-8")
    log(f"{RUN.out} now holds {shipped_bytes() / 1e6:.2f} MB")
