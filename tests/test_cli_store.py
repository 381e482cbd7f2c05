"""`search`, `show`, `export`, `store` and `scan --store` as a user runs them, on real store files."""

import json
import subprocess
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest

from edge_ocr.cli import main
from edge_ocr.cli.search import SOURCE_WIDTH, fit_path
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import Store, now_ms
from tests.imaging import render_lines
from tests.synth.codes import place_codes, render_code

BOX = ((10.0, 10.0), (300.0, 10.0), (300.0, 40.0), (10.0, 40.0))
LOWER = ((10.0, 60.0), (300.0, 60.0), (300.0, 90.0), (10.0, 90.0))
DAY = 86_400_000
NOW = now_ms()
BETWEEN = datetime.fromtimestamp((NOW - 2 * DAY) / 1000, timezone.utc).isoformat()  # between the two scans


@pytest.fixture
def state(tmp_path):
    with Store(tmp_path / "state") as store:
        store.save_scan(
            PageResult(
                "cam0",
                1,
                640,
                480,
                [TextLine("PUMP STATION 3", 0.97, BOX), TextLine("SN 4471-AX2", 0.9, LOWER)],
            ),
            captured_ms=NOW - 3 * DAY,
        )
        store.save_scan(
            PageResult(
                "cam1",
                1,
                640,
                480,
                [TextLine("PUMP ROOM", 0.95, BOX)],
                codes=[Code("QRCode", b"https://assets.example/00417", "https://assets.example/00417", BOX)],
            ),
            captured_ms=NOW - DAY,
        )
    return tmp_path / "state"


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_search_table_newest_first_with_highlight(state, capsys):
    code, out, _ = _run(capsys, "search", "pump", "--state-dir", str(state))
    assert code == 0
    rows = out.splitlines()
    assert len(rows) == 2 and "#2" in rows[0] and "[PUMP] ROOM" in rows[0] and "[PUMP] STATION 3" in rows[1]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("cam0", "cam0"),
        ("/home/fieldtech/edge_ocr/samples/footage.avi", "…/edge_ocr/samples/footage.avi"),
        ("/srv/field_devices/unit_0042/inbox/samples/footage.avi", "…/inbox/samples/footage.avi"),
        (r"C:\Users\fieldtech\edge_ocr\samples\footage.avi", r"…\edge_ocr\samples\footage.avi"),
        ("/data/a_really_long_video_file_name_from_camera_3.avi", "…o_file_name_from_camera_3.avi"),
    ],
)
def test_fit_path_cuts_at_a_separator(path, shown):
    assert fit_path(path) == shown and len(shown) <= SOURCE_WIDTH


def test_search_table_cuts_a_long_source_at_a_separator(state, capsys):
    with Store(state) as store:
        long = "/srv/field_devices/unit_0042/inbox/samples/footage.avi"
        store.save_scan(PageResult(long, 1, 640, 480, [TextLine("PUMP HOUSE", 0.9, BOX)]), captured_ms=NOW)
    code, out, _ = _run(capsys, "search", "pump", "--state-dir", str(state))
    rows = out.splitlines()
    assert code == 0 and [row.split()[1:3] for row in rows[:2]] == [
        ["…/inbox/samples/footage.avi", "#3"],
        ["cam1", "#2"],
    ]
    assert len({row.index("#") for row in rows}) == 1  # the column keeps its width


def test_search_filters_and_json(state, capsys):
    code, out, _ = _run(
        capsys, "search", "pump", "--source", "cam0", "--format", "json", "--state-dir", str(state)
    )
    hits = json.loads(out)
    assert code == 0 and [h["scan_id"] for h in hits] == [1] and hits[0]["highlighted"] == "[PUMP] STATION 3"
    code, out, _ = _run(capsys, "search", "assets", "--codes", "--format", "json", "--state-dir", str(state))
    assert [h["symbology"] for h in json.loads(out)] == ["QRCode"]
    assert _run(capsys, "search", "assets", "--text", "--state-dir", str(state))[0] == 1  # nothing: exit 1
    code, out, _ = _run(
        capsys, "search", "pump", "--until", BETWEEN, "--format", "json", "--state-dir", str(state)
    )
    assert [h["scan_id"] for h in json.loads(out)] == [1]


def test_search_errors_are_clear(state, tmp_path, capsys):
    code, _, err = _run(capsys, "search", "pump", "--state-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "nothing has been scanned" in err
    with pytest.raises(SystemExit):
        main(["search", "pump", "--since", "last tuesday", "--state-dir", str(state)])
    assert "expected a date/time" in capsys.readouterr().err


def test_show_prints_one_scan_in_full(state, capsys):
    code, out, _ = _run(capsys, "show", "2", "--state-dir", str(state))
    assert (
        code == 0
        and "scan #2" in out
        and "PUMP ROOM" in out
        and "[QRCode] https://assets.example/00417" in out
    )
    code, out, _ = _run(capsys, "show", "2", "--format", "json", "--state-dir", str(state))
    doc = json.loads(out)
    assert doc["scan_id"] == 2 and doc["codes"][0]["text"] == "https://assets.example/00417"
    code, _, err = _run(capsys, "show", "99", "--state-dir", str(state))
    assert code == 1 and "no scan #99" in err


def test_export_selected_scans_as_pdf_and_alto(state, tmp_path, capsys):
    pdf = tmp_path / "out.pdf"
    assert _run(capsys, "export", "--format", "pdf", "-o", str(pdf), "--state-dir", str(state))[0] == 0
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "PUMP STATION 3" in text and {"PUMP", "ROOM"} <= set(text.split())
    code, out, _ = _run(capsys, "export", "2", "--format", "alto", "--state-dir", str(state))
    assert code == 0 and "PUMP" in out and "alto" in out and "STATION" not in out
    code, out, _ = _run(capsys, "export", "--since", BETWEEN, "--format", "jsonl", "--state-dir", str(state))
    assert [json.loads(line)["scan_id"] for line in out.splitlines()] == [2]


def test_export_errors(state, tmp_path, capsys):
    assert _run(capsys, "export", "--format", "pdf", "--state-dir", str(state))[0] == 2
    code, _, err = _run(capsys, "export", "7", "8", "--state-dir", str(state))
    assert code == 1 and "no such scans: 7, 8" in err
    empty = tmp_path / "empty.pdf"
    code, _, err = _run(
        capsys,
        "export",
        "--until",
        "2000-01-01",
        "--format",
        "pdf",
        "-o",
        str(empty),
        "--state-dir",
        str(state),
    )
    assert code == 1 and "nothing to export" in err and not empty.exists()


def test_store_status_and_prune(state, capsys):
    code, out, _ = _run(capsys, "store", "--format", "json", "--state-dir", str(state))
    assert code == 0 and json.loads(out)["scans"] == 2
    code, out, _ = _run(
        capsys, "store", "prune", "--max-age-days", "2", "--format", "json", "--state-dir", str(state)
    )
    assert code == 0 and json.loads(out)["scans_deleted_age"] == 1
    code, out, _ = _run(capsys, "store", "--state-dir", str(state))
    assert "scans_deleted_age" in out and "scans         1 " in out


def test_scan_store_codes_only_keeps_results_and_images(tmp_path, capsys):
    image, _ = place_codes(
        [render_code("QRCode", "https://assets.example/77")], np.random.default_rng(2), (400, 600)
    )
    label = tmp_path / "label.png"
    cv2.imwrite(str(label), image)
    state = tmp_path / "state"
    argv = ["scan", "--codes-only", "--store", "--keep-images", "all", "--state-dir", str(state), str(label)]
    assert _run(capsys, *argv)[0] == 0
    with Store(state, readonly=True) as store:
        scan = store.get_scan(1)
        assert scan.result.codes[0].text == "https://assets.example/77"
        assert (state / scan.image_path).is_file() and len(scan.fingerprint) == 64

    # the configured [device] id and [store] images apply to scan --store as to the daemon (issue 11)
    config = tmp_path / "c.toml"
    config.write_text('[device]\nid = "dock-7"\n[store]\nimages = "none"\n')
    other = tmp_path / "other"
    argv = ["scan", "--codes-only", "--store", "--config", str(config), "--state-dir", str(other), str(label)]
    assert _run(capsys, *argv)[0] == 0
    with Store(other, readonly=True) as store:
        scan = store.get_scan(1)
        assert scan.device == "dock-7" and scan.image_path is None


@pytest.mark.engine
def test_scan_store_then_search_finds_the_text(tmp_path, capsys):
    label = tmp_path / "label.png"
    cv2.imwrite(str(label), render_lines(["PART NO 4471-AX2", "SN 7F3K-22981"]))
    state = str(tmp_path / "state")
    assert _run(capsys, "scan", "--store", "--state-dir", state, str(label))[0] == 0
    code, out, _ = _run(capsys, "search", "4471-AX2", "--state-dir", state)
    assert code == 0 and "PART NO [4471-AX2]" in out
