"""Codes through the command line: `scan --codes-only`, codes in every format, `eval` on code folders."""

import base64
import json

import cv2
import numpy as np
import pytest

from edge_ocr.cli import main
from tests.imaging import render_lines
from tests.pdfmaker import image_pdf
from tests.synth.codes import place_codes, render_code

QR_TEXT = "https://example.com/asset/A-1042"
GS1_HRI = "(01)09501101530003(10)AB12(21)XYZ"
BINARY = bytes(range(256))


@pytest.fixture
def label(tmp_path):
    """A label carrying a QR code and a Code 128."""
    rng = np.random.default_rng(7)
    image, _ = place_codes(
        [render_code("QRCode", QR_TEXT), render_code("Code128", "PN-4471")], rng, (520, 900)
    )
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), image)
    return path


def _codes(rows: list[dict]) -> dict[str, dict]:
    return {c["text"]: c for row in rows for c in row["codes"]}


def test_codes_only_jsonl_carries_text_and_bytes(label, capsys):
    assert main(["scan", "--codes-only", "--format", "jsonl", str(label)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and rows[0]["lines"] == [] and rows[0]["text_origin"] == "none"
    codes = _codes(rows)
    assert set(codes) == {QR_TEXT, "PN-4471"}
    qr = codes[QR_TEXT]
    assert qr["symbology"] == "QRCode"
    assert base64.b64decode(qr["bytes_b64"]) == QR_TEXT.encode()
    assert len(qr["polygon"]) == 4 and set(qr["readers"]) <= {"zxing", "zbar"}
    assert codes["PN-4471"]["symbology"] == "Code128"
    assert "codes" in rows[0]["timings_ms"]


def test_text_output_has_a_codes_section(label, capsys):
    assert main(["scan", "--codes-only", str(label)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("codes:\n")
    assert f"  [QRCode] {QR_TEXT}\n" in out and "  [Code128] PN-4471\n" in out


def test_binary_and_gs1_payloads_survive_json(tmp_path, capsys):
    rng = np.random.default_rng(3)
    image, _ = place_codes(
        [render_code("QRCode", BINARY, module_px=5), render_code("GS1-128", GS1_HRI, module_px=2)],
        rng,
        (700, 1100),
    )
    path = tmp_path / "mixed.png"
    cv2.imwrite(str(path), image)
    assert main(["scan", "--codes-only", "--format", "json", str(path)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    payloads = {base64.b64decode(c["bytes_b64"]): c for c in row["codes"]}
    assert BINARY in payloads and payloads[BINARY]["text"] is None
    gs1 = b"0109501101530003" + b"10AB12\x1d" + b"21XYZ"
    assert gs1 in payloads and payloads[gs1]["content_type"] == "gs1"


def test_text_output_shows_binary_as_base64_and_escapes_separators(tmp_path, capsys):
    rng = np.random.default_rng(5)
    image, _ = place_codes([render_code("GS1-128", GS1_HRI, module_px=2)], rng, (300, 900))
    path = tmp_path / "gs1.png"
    cv2.imwrite(str(path), image)
    assert main(["scan", "--codes-only", str(path)]) == 0
    assert "[Code128] 010950110153000310AB12\\x1d21XYZ" in capsys.readouterr().out


def test_a_full_ascii_code39_prints_its_interpreted_text(tmp_path, capsys):
    # The symbol holds 12+A+B; zxing-cpp applies Code 39 Full ASCII (12ab), ZBar reports the pairs.
    rng = np.random.default_rng(11)
    image, _ = place_codes([render_code("Code39Ext", "12ab", module_px=3)], rng, (300, 700))
    path = tmp_path / "full-ascii.png"
    cv2.imwrite(str(path), image)
    assert main(["scan", "--codes-only", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  [Code39] 12ab\n" in out and "+A" not in out
    assert main(["scan", "--codes-only", "--format", "jsonl", str(path)]) == 0
    [code] = json.loads(capsys.readouterr().out)["codes"]
    assert (code["symbology"], code["text"], code["readers"]) == ("Code39", "12ab", ["zxing"])
    assert base64.b64decode(code["bytes_b64"]) == b"12ab"


def test_codes_on_a_pdf_page(label, tmp_path, capsys):
    pdf = image_pdf(tmp_path / "label.pdf", cv2.imread(str(label)), dpi=150)
    assert main(["scan", "--codes-only", "--format", "jsonl", str(pdf)]) == 0
    assert QR_TEXT in _codes([json.loads(capsys.readouterr().out)])


@pytest.mark.engine
def test_full_scan_has_lines_and_codes(label, capsys):
    assert main(["scan", "--format", "json", str(label)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["lines"] and row["text_origin"] == "ocr"
    assert QR_TEXT in _codes([row])


@pytest.mark.engine
def test_no_codes_leaves_codes_empty(label, capsys):
    assert main(["scan", "--no-codes", "--format", "jsonl", "--roi", "0,0,20,20", str(label)]) == 0
    assert json.loads(capsys.readouterr().out)["codes"] == []


def test_bad_input_is_reported_and_the_rest_still_read(label, tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert main(["scan", "--codes-only", "--format", "jsonl", str(broken), str(label)]) == 1
    captured = capsys.readouterr()
    assert "broken.png" in captured.err
    assert QR_TEXT in _codes([json.loads(line) for line in captured.out.splitlines()])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--code-readers", "zxing,quagga"], "--code-readers: 'quagga' is not one of zxing, zbar"),
        (["--code-retry", "dense,wobble"], "--code-retry: 'wobble' is not one of dense"),
        (["--no-codes"], "exclude each other"),
    ],
)
def test_code_option_errors_are_usage_errors(label, capsys, argv, message):
    assert main(["scan", "--codes-only", *argv, str(label)]) == 2
    assert message in capsys.readouterr().err


def _write(folder, name, image, payload=None):
    folder.mkdir(exist_ok=True)
    cv2.imwrite(str(folder / f"{name}.png"), image)
    if isinstance(payload, bytes):
        (folder / f"{name}.bin").write_bytes(payload)
    elif payload is not None:
        (folder / f"{name}.txt").write_bytes(payload.encode() + b"\n")


def test_eval_scores_read_rate_and_false_positives(tmp_path, capsys):
    codes, empty = tmp_path / "codes", tmp_path / "nocode"
    _write(codes, "qr", render_code("QRCode", QR_TEXT), QR_TEXT)
    _write(codes, "dm", render_code("DataMatrix", "SN:0042"), "SN:0042")
    _write(codes, "bin", render_code("QRCode", BINARY, module_px=5), BINARY)
    _write(codes, "wrong", render_code("Code128", "ABC-1"), "ABC-2")  # expected differs: a miss
    _write(codes, "blank", np.full((200, 200), 255, np.uint8))  # no payload file: must decode nothing
    _write(empty, "noise", np.random.default_rng(1).integers(0, 256, (240, 320), dtype=np.uint8))
    assert main(["eval", "--codes", "--format", "json", "--no-progress", str(codes), str(empty)]) == 0
    report = json.loads(capsys.readouterr().out)["codes"]
    rows = {r["folder"].rsplit("/", 1)[-1]: r for r in report["folders"]}
    assert rows["codes"]["with_code"] == 4 and rows["codes"]["read"] == 3
    assert rows["codes"]["without_code"] == 1 and rows["codes"]["false_positives"] == 0
    assert rows["nocode"]["without_code"] == 1 and rows["nocode"]["false_positives"] == 0
    assert report["overall"]["read_rate"] == 0.75
    assert rows["codes"]["ms_median"] is not None


def test_eval_without_codes_flag_finds_payload_folders(tmp_path, capsys):
    folder = tmp_path / "set"
    _write(folder, "qr", render_code("QRCode", QR_TEXT), QR_TEXT)
    assert main(["eval", "--no-progress", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "codes: readers zxing, zbar" in out and "1.000" in out


@pytest.mark.engine
def test_eval_of_text_and_code_folders_prints_one_json_document(tmp_path, capsys):
    codes, text = tmp_path / "codes", tmp_path / "text"
    _write(codes, "qr", render_code("QRCode", QR_TEXT), QR_TEXT)
    text.mkdir()
    cv2.imwrite(str(text / "line.png"), render_lines(["BATCH 2291-QX"]))
    (text / "line.gt.txt").write_text("BATCH 2291-QX\n")
    assert main(["eval", "--format", "json", "--no-progress", str(codes), str(text)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["overall"]["f1"] == 1.0
    assert document["codes"]["overall"]["read"] == 1
