"""The wheel carries the models and the samples, and an installed copy finds them."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
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
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    return next(out.glob("edge_ocr-*.whl"))


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
