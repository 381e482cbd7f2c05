"""The wheel carries the product (modules, models, samples, example configuration) and nothing else,
and an installed copy finds its models and imports without the repository."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What the build reads. It runs on a copy, so it neither writes build/ and edge_ocr.egg-info/ into the
# checkout nor sees what earlier builds left there (build/lib may still hold edge_ocr/synth).
BUILD_INPUTS = ("pyproject.toml", "README.md", "edge_ocr", "models")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".build")
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("edge_ocr-*.whl"))


def _source_of(name: str) -> Path:
    """The file in the repository that a wheel entry was built from (model_files is models/)."""
    models = "edge_ocr/model_files/"
    return ROOT / "models" / name[len(models) :] if name.startswith(models) else ROOT / name


def test_wheel_holds_every_manifest_file_and_the_samples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    for pack in manifest["packs"].values():
        for entry in [pack["dict"], *pack["models"]]:
            assert f"edge_ocr/model_files/{entry['file']}" in names
    assert "edge_ocr/model_files/NOTICE" in names
    assert "edge_ocr/samples/label-photo.jpg" in names


def test_wheel_holds_every_module_of_the_source_tree(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "edge_ocr").rglob("*.py"))
    assert modules and [m for m in modules if m not in names] == []


def test_wheel_holds_the_product_and_nothing_else(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    assert {n.split("/")[0] for n in names} == {"edge_ocr", *dist_info} and len(dist_info) == 1
    for module in ("__init__.py", "__main__.py", "cli/__init__.py", "ocr/engine.py", "codes/scanner.py"):
        assert f"edge_ocr/{module}" in names
    assert "edge_ocr/config.example.toml" in names
    samples = sorted(p.name for p in (ROOT / "edge_ocr" / "samples").iterdir() if p.is_file())
    assert "footage.avi" in samples and [s for s in samples if f"edge_ocr/samples/{s}" not in names] == []
    # The test-image generator (tests/synth) and the tests stay in the repository.
    assert [n for n in names if {"synth", "tests"} & set(n.split("/")) or "synth" in n] == []
    # Every module in the wheel is in the source tree as it is now, none left over from an older build.
    assert [n for n in names if n.endswith(".py") and not _source_of(n).is_file()] == []


def test_installed_package_imports_without_the_repository(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = (
        "import importlib, pkgutil, sys, edge_ocr\n"
        "names = [m.name for m in pkgutil.walk_packages(edge_ocr.__path__, 'edge_ocr.')"
        " if not m.name.endswith('__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "assert edge_ocr.__file__.startswith(sys.argv[1]), edge_ocr.__file__\n"
        "print(len(names), sorted(m for m in sys.modules if m == 'tests' or m.startswith('tests.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) > 40 and loaded.strip() == "[]"


def test_installed_package_finds_its_own_models(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    code = "import edge_ocr.models as m; print(m.default_models_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == str(target / "edge_ocr" / "model_files")
