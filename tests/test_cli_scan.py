"""`edge-ocr scan`: formats, exit codes and error reporting, run as a user would."""

import json
import shutil
import subprocess
import sys

import cv2
import pytest

from edge_ocr.cli import main
from tests.imaging import render_lines
from tests.pdfmaker import text_pdf

pytestmark = pytest.mark.engine


@pytest.fixture
def label(tmp_path):
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), render_lines(["PART NO 4471-AX2", "SN 7F3K-22981"]))
    return path


def test_text_output_is_the_lines(label, capsys):
    assert main(["scan", str(label)]) == 0
    assert capsys.readouterr().out == "PART NO 4471-AX2\nSN 7F3K-22981\n"


def test_jsonl_has_the_stable_shape(label, tmp_path, capsys):
    pdf = text_pdf(tmp_path / "doc.pdf", ["Invoice 2026-0042"])
    assert main(["scan", "--format", "jsonl", str(label), str(pdf)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert {"source", "page", "width", "height", "lines", "timings_ms"} <= set(row)
        for line in row["lines"]:
            assert set(line) == {"text", "confidence", "polygon"}
            assert len(line["polygon"]) == 4
    assert rows[0]["source"] == str(label) and rows[0]["page"] == 1
    assert [x["text"] for x in rows[0]["lines"]] == ["PART NO 4471-AX2", "SN 7F3K-22981"]
    assert rows[1]["text_origin"] == "pdf-text" and rows[1]["lines"][0]["text"] == "Invoice 2026-0042"


def test_json_is_one_array_written_to_a_file(label, tmp_path):
    out = tmp_path / "out.json"
    assert main(["scan", "--format", "json", "-o", str(out), str(label)]) == 0
    data = json.loads(out.read_text())
    assert isinstance(data, list) and data[0]["lines"][1]["text"] == "SN 7F3K-22981"


def test_some_files_failing_exits_1_and_names_each(label, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"")
    assert main(["scan", str(label), str(bad), str(tmp_path / "missing.png")]) == 1
    captured = capsys.readouterr()
    assert "PART NO 4471-AX2" in captured.out
    assert f"{bad}: file is empty" in captured.err
    assert "missing.png: cannot read" in captured.err


def test_folder_input_and_headers(label, tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "second.png"), render_lines(["DOCK 4"]))
    assert main(["scan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"==> {label} <==" in out and "DOCK 4" in out


def test_usage_errors_exit_2(label):
    proc = subprocess.run(
        [sys.executable, "-m", "edge_ocr", "scan", "--bogus", str(label)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "edge_ocr"], capture_output=True, text=True)
    assert proc.returncode == 2


def test_corrupt_model_stops_with_file_and_both_hashes(label, tmp_path, capsys, engine):
    models = tmp_path / "models"
    shutil.copytree(engine.pack.det.path.parent.parent, models)
    det = models / engine.pack.det.path.relative_to(engine.pack.det.path.parent.parent)
    det.write_bytes(det.read_bytes()[:1000])  # truncated
    assert main(["scan", "--models-dir", str(models), str(label)]) == 2
    err = capsys.readouterr().err
    assert str(det) in err and engine.pack.det.sha256 in err and "sha256 is" in err


def test_missing_model_names_file_and_expected_hash(label, tmp_path, capsys, engine):
    models = tmp_path / "models"
    shutil.copytree(engine.pack.det.path.parent.parent, models)
    rec = models / engine.pack.rec[0].path.relative_to(engine.pack.det.path.parent.parent)
    rec.unlink()
    assert main(["scan", "--models-dir", str(models), str(label)]) == 2
    err = capsys.readouterr().err
    assert f"model file {rec} is missing" in err and engine.pack.rec[0].sha256 in err


def test_unknown_pack_and_bad_allowlist_are_setup_errors(label, capsys):
    assert main(["scan", "--pack", "nope", str(label)]) == 2
    assert "unknown model pack 'nope'" in capsys.readouterr().err
    assert main(["scan", "--allow", "9-0", str(label)]) == 2
    assert "reversed" in capsys.readouterr().err
