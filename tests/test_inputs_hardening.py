"""`edge-ocr scan` on hostile inputs (issue 12): special files, undecodable names, very wide images,
zero-page PDFs and bad limits each become one input's error (or a usage error), never a hang or a
traceback, and the other inputs are still read."""

import json
import os
import socket
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_ocr.cli import main
from edge_ocr.codes import CodeScanner
from edge_ocr.documents import expand_inputs, iter_file_pages, source_name
from edge_ocr.errors import ImageError
from edge_ocr.store import Store
from tests.imaging import render_lines
from tests.pdfmaker import _pdf

segno = pytest.importorskip("segno", reason="segno (test extra) draws the QR codes")

LINES = ["PART NO 4471-AX2", "SN 7F3K-22981"]
BAD_NAME = os.fsdecode(b"bad\xff\xfename.png")  # not UTF-8: a str with surrogates, as os.listdir gives


@pytest.fixture
def label(tmp_path):
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), render_lines(LINES))
    return path


def _qr(text: str, module_px: int = 4) -> np.ndarray:
    from tests.synth.codes import segno_image

    img = segno_image(segno.make_qr(text), module_px)
    return img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)


def _fifo(path):
    os.mkfifo(path)
    return path


def _run_with_deadline(argv, seconds=60):
    """main(argv) in a thread, so a scan that blocks (opening a FIFO) fails the test instead of hanging it."""
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("rc", main(argv)), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # Unblock the stuck open() by opening the FIFO's write end, then fail.
        for arg in argv:
            if os.path.exists(arg) and not os.path.isfile(arg) and not os.path.isdir(arg):
                os.close(os.open(arg, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail(f"scan blocked: {argv}")
    return out["rc"]


# 1. FIFOs, devices, sockets


@pytest.mark.engine
def test_fifo_is_refused_not_opened_and_other_inputs_are_read(label, tmp_path, capsys):
    fifo = _fifo(tmp_path / "pipe.png")
    assert _run_with_deadline(["scan", "--no-progress", str(fifo), str(label)], 20) == 1
    captured = capsys.readouterr()
    assert "PART NO 4471-AX2" in captured.out
    assert f"{fifo}: not a regular file (FIFO)" in captured.err


def test_device_and_socket_are_refused_naming_what_they_are(tmp_path):
    with pytest.raises(ImageError, match=r"/dev/null: not a regular file \(character device\)"):
        list(iter_file_pages(Path("/dev/null")))
    sock_path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(ImageError, match=r"s\.png: not a regular file \(socket\)"):
            list(iter_file_pages(sock_path))


@pytest.mark.engine
def test_fifo_found_in_a_folder_is_reported_not_opened(label, tmp_path, capsys):
    fifo = _fifo(tmp_path / "zz.png")
    assert fifo in expand_inputs([tmp_path], special=True) and fifo not in expand_inputs([tmp_path])
    assert _run_with_deadline(["scan", "--no-progress", str(tmp_path)], 20) == 1
    captured = capsys.readouterr()
    assert "PART NO 4471-AX2" in captured.out
    assert f"{fifo}: not a regular file (FIFO)" in captured.err


# 2. File names that are not UTF-8


def test_source_name_escapes_undecodable_bytes_reversibly(tmp_path):
    name = source_name(tmp_path / BAD_NAME)
    assert name.endswith("bad\\xff\\xfename.png")
    name.encode("utf-8")  # printable anywhere
    assert source_name(tmp_path / "plain é.png") == str(tmp_path / "plain é.png")


@pytest.fixture
def bad_named(tmp_path):
    """A readable label under a non-UTF-8 name, then a second file that must still be read."""
    bad = tmp_path / BAD_NAME
    cv2.imwrite(str(tmp_path / "tmp.png"), render_lines(LINES))
    os.rename(tmp_path / "tmp.png", bad)
    later = tmp_path / "later.png"
    cv2.imwrite(str(later), render_lines(["DOCK 4"]))
    return bad, later


@pytest.mark.engine
def test_non_utf8_name_is_read_in_text_output(bad_named, capsys):
    bad, later = bad_named
    assert main(["scan", str(bad), str(later)]) == 0
    captured = capsys.readouterr()
    assert f"==> {source_name(bad)} <==" in captured.out
    assert "PART NO 4471-AX2" in captured.out and "DOCK 4" in captured.out


@pytest.mark.engine
def test_non_utf8_name_is_read_in_jsonl_output(bad_named, capsys):
    bad, later = bad_named
    assert main(["scan", "--no-progress", "--format", "jsonl", str(bad), str(later)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["source"] for row in rows] == [source_name(bad), str(later)]
    assert rows[0]["source"].endswith("bad\\xff\\xfename.png")
    assert [x["text"] for x in rows[0]["lines"]] == LINES


@pytest.mark.engine
def test_non_utf8_name_is_stored(bad_named, tmp_path, capsys):
    bad, later = bad_named
    state = tmp_path / "state"
    argv = ["scan", "--no-progress", "--store", "--state-dir", str(state), str(bad), str(later)]
    assert main(argv) == 0
    assert "PART NO 4471-AX2" in capsys.readouterr().out
    with Store(state, readonly=True) as store:
        stored = [scan.result.source for scan in store.iter_scans()]
    assert sorted(stored) == sorted([source_name(bad), str(later)])


@pytest.mark.engine
def test_non_utf8_folder_entry_and_failing_input_do_not_stop_the_run(bad_named, tmp_path, capsys):
    bad, later = bad_named
    broken = tmp_path / os.fsdecode(b"broken\xff.png")
    broken.write_bytes(b"not an image")
    assert main(["scan", "--format", "jsonl", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert {row["source"] for row in rows} == {source_name(bad), str(later)}
    assert "broken\\xff.png: not a supported image" in captured.err


@pytest.mark.engine
def test_an_unexpected_exception_is_that_inputs_error(label, tmp_path, capsys, monkeypatch):
    from edge_ocr.cli import scan as scan_cli

    real = scan_cli.read_pages

    def flaky(pipeline, path, **kwargs):
        if path.name == "first.png":
            raise RuntimeError("boom")
        return real(pipeline, path, **kwargs)

    first = tmp_path / "first.png"
    first.write_bytes(label.read_bytes())
    monkeypatch.setattr(scan_cli, "read_pages", flaky)
    assert main(["scan", "--no-progress", str(first), str(label)]) == 1
    captured = capsys.readouterr()
    assert "PART NO 4471-AX2" in captured.out
    assert f"{first}: RuntimeError: boom" in captured.err and "Traceback" not in captured.err


# 3. Images wider than zxing-cpp's 65535 px


def _wide(width=70000, height=160):
    img = np.full((height, width, 3), 255, np.uint8)
    qr = _qr("WIDE-70000")
    img[10 : 10 + qr.shape[0], 20 : 20 + qr.shape[1]] = qr
    return img


def test_zxing_reads_a_frame_wider_than_65535_px():
    scanner = CodeScanner()
    try:
        scan = scanner.scan(_wide())
    finally:
        scanner.close()
    assert [c.data for c in scan.codes] == [b"WIDE-70000"]
    xs = [p[0] for p in scan.codes[0].polygon]
    assert min(xs) >= 15 and max(xs) < 200  # polygon in the frame's own pixels


def test_wide_image_codes_only_is_read_and_the_next_input_too(tmp_path, capsys):
    wide = tmp_path / "wide.png"
    cv2.imwrite(str(wide), _wide())
    thin = tmp_path / "thin.png"
    cv2.imwrite(str(thin), np.full((40, 70000, 3), 255, np.uint8))
    nxt = tmp_path / "next.png"
    cv2.imwrite(str(nxt), _qr("NEXT-1"))
    argv = ["scan", "--codes-only", "--no-progress", "--format", "jsonl", str(thin), str(wide), str(nxt)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 3 and "Traceback" not in captured.err
    assert [c["text"] for c in rows[1]["codes"]] == ["WIDE-70000"]
    assert [c["text"] for c in rows[2]["codes"]] == ["NEXT-1"]


@pytest.mark.engine
def test_wide_image_is_read_with_text_and_codes(tmp_path, capsys):
    wide = tmp_path / "wide.png"
    cv2.imwrite(str(wide), np.full((40, 70000, 3), 255, np.uint8))
    nxt = tmp_path / "next.png"
    cv2.imwrite(str(nxt), render_lines(["DOCK 4"]))
    assert main(["scan", "--no-progress", str(wide), str(nxt)]) == 0
    captured = capsys.readouterr()
    assert "DOCK 4" in captured.out and "Traceback" not in captured.err


# 4. Zero-page PDFs


def _empty_pdf(path):
    path.write_bytes(_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    return path


def test_zero_page_pdf_says_it_has_no_pages(tmp_path):
    pdf = _empty_pdf(tmp_path / "empty.pdf")
    with pytest.raises(ImageError) as err:
        list(iter_file_pages(pdf))
    assert str(err.value) == f"{pdf}: PDF has no pages"


def test_zero_page_pdf_in_scan_names_it_and_goes_on(tmp_path, capsys):
    pdf = _empty_pdf(tmp_path / "empty.pdf")
    nxt = tmp_path / "next.png"
    cv2.imwrite(str(nxt), _qr("NEXT-1"))
    assert main(["scan", "--codes-only", "--no-progress", str(pdf), str(nxt)]) == 1
    captured = capsys.readouterr()
    assert f"{pdf}: PDF has no pages" in captured.err and "PDFium: Success" not in captured.err
    assert "NEXT-1" in captured.out


# --max-image-pixels


@pytest.mark.parametrize("value", ["-5", "0", "many"])
def test_max_image_pixels_must_be_a_positive_integer(label, value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["scan", "--max-image-pixels", value, str(label)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --max-image-pixels" in err and "MP" not in err


def _multipage_tiff(path, pages: int, side: int) -> None:
    from PIL import Image

    frames = [Image.new("L", (side, side), 255) for _ in range(pages)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")


def test_pages_of_an_image_file_are_decoded_one_at_a_time(tmp_path):
    """30 pages of 4000x4000 (1.4 GB decoded at once, as it once was): decoded in a child process,
    its peak RSS stays far below that."""
    import subprocess
    import sys

    tiff = tmp_path / "pages.tif"
    _multipage_tiff(tiff, 30, 4000)
    code = (
        "import sys\n"
        "from edge_ocr.documents import iter_file_pages\n"
        "n = sum(1 for _ in iter_file_pages(__import__('pathlib').Path(sys.argv[1])))\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
        "print(n, int(hwm.split()[1]) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tiff)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    pages, rss = map(int, out.stdout.split())
    assert pages == 30 and rss < 800, (pages, rss)  # all 30 at once: 1,544 MB


def test_an_image_file_with_too_many_pixels_in_all_stops_with_the_limit_named(tmp_path):
    from edge_ocr.documents import FILE_PIXEL_FACTOR, iter_file_pages
    from edge_ocr.errors import ImageError

    tiff = tmp_path / "many.tif"
    _multipage_tiff(tiff, FILE_PIXEL_FACTOR + 5, 100)
    read = []
    with pytest.raises(ImageError, match=rf"pages after {FILE_PIXEL_FACTOR} not read: more than 0 MP in all"):
        for page in iter_file_pages(tiff, max_pixels=10_000):
            read.append(page.page)
    assert read == list(range(1, FILE_PIXEL_FACTOR + 1))  # the pages before the limit were read


def test_the_45_degree_retry_is_skipped_where_it_would_explode():
    """A 70000x40 strip turned 45 degrees is 2.4 GP (zxing-cpp crashed the process on it); a photo is
    still turned."""
    from edge_ocr.codes.ladder import ROTATE_MAX_PIXELS, rotate45

    assert rotate45(np.full((40, 70000), 255, np.uint8)) == []
    ((turned, _back),) = rotate45(np.full((4000, 6000), 255, np.uint8))
    assert turned.size <= ROTATE_MAX_PIXELS
