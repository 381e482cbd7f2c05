"""Document exports: text/JSON shapes, hOCR, ALTO against the official schema, and searchable PDFs read
back with pdfium and poppler (pdftotext) at the word boxes they were written to."""

import io
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest

from edge_ocr.cli import main
from edge_ocr.export import FORMATS, ExportError, ExportPage, export
from edge_ocr.export.pdf import jpeg_info, page_scale
from edge_ocr.export.pdffont import font_program
from edge_ocr.export.text import format_text
from edge_ocr.export.words import split_words, text_frame
from edge_ocr.reader import read_pages
from edge_ocr.results import Code, PageResult, TextLine
from tests.imaging import render_lines

DATA = Path(__file__).parent / "data"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
XHTML = "{http://www.w3.org/1999/xhtml}"
PX_TOLERANCE = 3.0  # word positions read back, in image pixels
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def turned(cx: float, cy: float, w: float, h: float, degrees: float) -> tuple:
    """A w x h text box centred at (cx, cy), turned counter-clockwise; corners from the text's top-left."""
    a = math.radians(degrees)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return tuple(
        (cx + x * math.cos(a) + y * math.sin(a), cy - x * math.sin(a) + y * math.cos(a)) for x, y in corners
    )


def label_page(source: str = "label.png", page: int = 1) -> ExportPage:
    image = render_lines(["PART NO 4471-AX2", "SN 7F3K-22981"])
    h, w = image.shape[:2]
    lines = [
        TextLine("PART NO 4471-AX2", 0.97, rect(30, 30, 330, 62)),
        TextLine("SN 7F3K-22981", 0.91, rect(30, 81, 265, 113)),
    ]
    qr = Code("QRCode", b"A-1042\x1d7", "A-1042\x1d7", rect(10, 5, 60, 25), readers=("zxing",))
    return ExportPage(PageResult(source, page, w, h, lines, {"total": 1.0}, codes=[qr]), image=image)


def unicode_page() -> ExportPage:
    lines = [TextLine("Größe café 型号 😀", 0.88, rect(40, 40, 440, 80))]
    return ExportPage(PageResult("unicode.png", 1, 600, 200, lines))


def rotated_page(degrees: float) -> ExportPage:
    line = TextLine("ROTATED LINE 42", 0.8, turned(500, 400, 450, 40, degrees))
    return ExportPage(PageResult(f"turned-{degrees}.png", 1, 1000, 800, [line]))


def run_export(pages: list[ExportPage], fmt: str) -> bytes:
    out = io.BytesIO()
    export(pages, fmt, out)
    return out.getvalue()


def expected_words(page: ExportPage) -> list:
    return [w for line in page.result.lines for w in split_words(line)]


def assert_box_near(found: tuple, want: tuple, what: str) -> None:
    assert all(abs(a - b) <= PX_TOLERANCE for a, b in zip(found, want)), f"{what}: {found} vs {want}"


# --- words ------------------------------------------------------------------------------------------


def test_words_share_the_line_by_character_count():
    words = split_words(TextLine("AB  CDEF", 0.9, rect(0, 0, 80, 10)))
    assert [w.text for w in words] == ["AB", "CDEF"]
    assert words[0].bbox == (0, 0, 20, 10) and words[1].bbox == (40, 0, 80, 10)
    assert words[0].confidence == 0.9


def test_words_follow_a_turned_line():
    # read upwards (turned 90 degrees counter-clockwise): the text's top-left is the box's bottom-left
    words = split_words(TextLine("AB CD", 0.9, ((0, 50), (0, 0), (10, 0), (10, 50))))
    assert [w.bbox for w in words] == [(0, 30, 10, 50), (0, 0, 10, 20)]
    assert round(text_frame(words[0].quad).angle) == 90


# --- text and JSON: the shapes scan prints ------------------------------------------------------------


def test_text_is_what_scan_prints():
    page = label_page()
    assert run_export([page], "text").decode() == (
        "PART NO 4471-AX2\nSN 7F3K-22981\n\ncodes:\n  [QRCode] A-1042\\x1d7\n"
    )
    assert format_text(page.result, many=False) == run_export([page], "text").decode()
    two = run_export([page, label_page("other.png", 2)], "text").decode()
    assert two.startswith("==> label.png <==\n") and "\n\n==> other.png [page 2] <==\nPART NO" in two


def test_text_names_stored_scans_when_there_are_several():
    a = ExportPage(label_page().result, scan_id=7, captured_at="2026-11-21T10:00:00Z")
    b = ExportPage(label_page().result, scan_id=8)
    text = run_export([a, b], "text").decode()
    assert "==> label.png [scan 7, 2026-11-21T10:00:00Z] <==" in text and "==> label.png [scan 8] <==" in text


def test_json_and_jsonl_keep_the_result_shape_and_add_store_keys():
    page = label_page()
    assert json.loads(run_export([page], "json")) == [page.result.to_dict()]
    assert run_export([], "json") == b"[]\n"
    stored = ExportPage(page.result, scan_id=12, captured_at="2026-11-21T10:00:00Z")
    rows = [json.loads(x) for x in run_export([page, stored], "jsonl").decode().splitlines()]
    assert rows[0] == page.result.to_dict()
    assert list(rows[1])[:2] == ["scan_id", "captured_at"] and rows[1]["scan_id"] == 12
    assert {k: v for k, v in rows[1].items() if k not in ("scan_id", "captured_at")} == page.result.to_dict()


def test_unknown_format_is_refused():
    assert FORMATS == ("text", "json", "jsonl", "hocr", "alto", "pdf")
    with pytest.raises(ValueError, match="unknown export format"):
        run_export([label_page()], "docx")


# --- ALTO -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alto_schema():
    etree = pytest.importorskip("lxml.etree")

    class LocalXlink(etree.Resolver):
        """The schema imports xlink.xsd from loc.gov: use the committed copy instead."""

        def resolve(self, url, pubid, context):
            if url.endswith("/xlink.xsd"):
                return self.resolve_filename(str(DATA / "xlink.xsd"), context)
            return None

    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(LocalXlink())
    return etree.XMLSchema(etree.parse(str(DATA / "alto-4-4.xsd"), parser))


def assert_valid_alto(schema, data: bytes) -> ET.Element:
    from lxml import etree

    doc = etree.fromstring(data, etree.XMLParser(no_network=True))
    assert schema.validate(doc), schema.error_log
    return ET.fromstring(data)


def test_alto_validates_and_holds_pages_lines_words_and_codes(alto_schema):
    pages = [label_page(), unicode_page(), rotated_page(30), ExportPage(PageResult("empty.png", 1, 50, 40))]
    root = assert_valid_alto(alto_schema, run_export(pages, "alto"))
    assert root.find(f"{ALTO}Description/{ALTO}MeasurementUnit").text == "pixel"
    software = root.find(f".//{ALTO}OCRProcessing//{ALTO}softwareName")
    assert software.text == "edge-ocr"
    ids = root.findall(f".//{ALTO}sourceImageInformation/{ALTO}fileIdentifier")
    assert [(i.get("fileIdentifierLocation"), i.text) for i in ids][:2] == [
        ("page_1", "label.png"),
        ("page_2", "unicode.png"),
    ]
    alto_pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [(p.get("WIDTH"), p.get("HEIGHT")) for p in alto_pages][2:] == [("1000", "800"), ("50", "40")]
    for page, alto_page in zip(pages, alto_pages):
        strings = alto_page.findall(f".//{ALTO}String")
        words = expected_words(page)
        assert [s.get("CONTENT") for s in strings] == [w.text for w in words]
        for s, w in zip(strings, words):
            x0, y0, x1, y1 = w.bbox
            found = tuple(int(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
            assert found == (x0, y0, x1 - x0, y1 - y0)
            assert float(s.get("WC")) == pytest.approx(w.confidence)
    first = alto_pages[0].find(f".//{ALTO}TextLine")
    assert first.get("BASELINE") == "30,62 330,62" and len(first.findall(f"{ALTO}SP")) == 2
    tag = root.find(f"{ALTO}Tags/{ALTO}OtherTag")
    assert (tag.get("LABEL"), tag.get("DESCRIPTION")) == ("A-1042\\x1d7", "QRCode")
    barcode = alto_pages[0].find(f".//{ALTO}Illustration")
    assert barcode.get("TAGREFS") == tag.get("ID") and barcode.get("TYPE") == "barcode"
    assert alto_pages[2].find(f".//{ALTO}TextLine/{ALTO}Shape/{ALTO}Polygon") is not None


def test_alto_of_one_image_names_it(alto_schema):
    root = assert_valid_alto(alto_schema, run_export([label_page()], "alto"))
    assert root.find(f".//{ALTO}sourceImageInformation/{ALTO}fileName").text == "label.png"


# --- hOCR -----------------------------------------------------------------------------------------


def title_props(element: ET.Element) -> dict[str, str]:
    return dict(p.strip().split(" ", 1) for p in element.get("title").split(";"))


def test_hocr_is_xhtml_with_tesseracts_classes_and_boxes():
    pages = [label_page(), unicode_page(), rotated_page(90)]
    root = ET.fromstring(run_export(pages, "hocr"))
    assert root.tag == f"{XHTML}html"
    meta = {m.get("name"): m.get("content") for m in root.iter(f"{XHTML}meta") if m.get("name")}
    assert meta["ocr-system"].startswith("edge-ocr ")
    assert "ocrx_word" in meta["ocr-capabilities"] and "ocrp_wconf" in meta["ocr-capabilities"]
    by_class: dict[str, list[ET.Element]] = {}
    for element in root.iter():
        by_class.setdefault(element.get("class"), []).append(element)
    hocr_pages = by_class["ocr_page"]
    props = title_props(hocr_pages[0])
    assert props["image"] == '"label.png"' and props["ppageno"] == "0"
    assert props["bbox"] == f"0 0 {pages[0].result.width} {pages[0].result.height}"
    assert len(by_class["ocr_carea"]) == len(by_class["ocr_par"]) == 3
    assert len(by_class["ocr_line"]) == 4
    words = by_class["ocrx_word"]
    expected = [w for page in pages for w in expected_words(page)]
    assert [w.text for w in words] == [w.text for w in expected]
    for element, word in zip(words, expected):
        props = title_props(element)
        assert tuple(int(v) for v in props["bbox"].split()) == word.bbox
        assert int(props["x_wconf"]) == round(word.confidence * 100)
    line_props = [title_props(line) for line in by_class["ocr_line"]]
    assert line_props[0]["baseline"] == "0 0" and line_props[3]["textangle"] == "90"
    (barcode,) = by_class["ocrx_barcode"]
    assert barcode.text == "A-1042\\x1d7" and title_props(barcode)["bbox"] == "10 5 60 25"


# --- PDF ------------------------------------------------------------------------------------------


def pdf_words_pdftotext(data: bytes, tmp_path: Path) -> list[list[tuple[str, tuple]]]:
    """Per page: (word, xMin, yMin, xMax, yMax in points) as `pdftotext -bbox` finds them."""
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True).stdout
    pages = []
    for page in re.findall(rb"<page .*?</page>", html, re.S):
        found = re.findall(
            rb'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', page
        )
        pages.append([(w[4].decode(), tuple(float(v) for v in w[:4])) for w in found])
    return pages


def pdf_chars_pdfium(pdf: pdfium.PdfDocument, index: int) -> list[tuple[str, tuple]]:
    """(character, loose box left, bottom, right, top in points) for each non-space character."""
    text = pdf[index].get_textpage()
    out, i, count = [], 0, text.count_chars()
    while i < count:
        unit = pdfium_raw.FPDFText_GetUnicode(text, i)
        char, step = chr(unit), 1
        if 0xD800 <= unit < 0xDC00 and i + 1 < count:  # pdfium counts UTF-16 code units
            low = pdfium_raw.FPDFText_GetUnicode(text, i + 1)
            char, step = chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)), 2
        if char.strip():
            out.append((char, text.get_charbox(i, loose=True)))
        i += step
    return out


def test_pdf_words_come_back_from_pdfium_at_their_boxes():
    pages = [label_page(), unicode_page()]
    pdf = pdfium.PdfDocument(run_export(pages, "pdf"))
    assert len(pdf) == 2
    for index, page in enumerate(pages):
        r = page.result
        scale = page_scale(r.width, r.height)
        assert pdf[index].get_size() == pytest.approx((r.width * scale, r.height * scale))
        text = pdf[index].get_textpage()
        assert text.get_text_range().split() == r.text.split()
        chars = pdf_chars_pdfium(pdf, index)
        for word in expected_words(page):
            got, chars = chars[: len(word.text)], chars[len(word.text) :]
            assert "".join(c for c, _ in got) == word.text
            left, top = got[0][1][0], got[0][1][3]
            right, bottom = got[-1][1][2], got[-1][1][1]
            height_pt = r.height * scale
            found = (left / scale, (height_pt - top) / scale, right / scale, (height_pt - bottom) / scale)
            assert_box_near(found, word.bbox, word.text)
            x0, y0, x1, y1 = word.bbox
            box = (x0 * scale, height_pt - y1 * scale, x1 * scale, height_pt - y0 * scale)
            assert text.get_text_bounded(*box).strip() == word.text


@needs_pdftotext
def test_pdf_words_come_back_from_pdftotext_at_their_boxes(tmp_path):
    pages = [label_page(), unicode_page(), rotated_page(90), rotated_page(180)]
    found_pages = pdf_words_pdftotext(run_export(pages, "pdf"), tmp_path)
    assert len(found_pages) == 4
    for page, found in zip(pages, found_pages):
        scale = page_scale(page.result.width, page.result.height)
        words = expected_words(page)
        assert sorted(w for w, _ in found) == sorted(w.text for w in words)
        for text, box in found:
            (word,) = [w for w in words if w.text == text]
            assert_box_near(tuple(v / scale for v in box), word.bbox, text)


@needs_pdftotext
def test_pdf_slightly_tilted_line_is_set_straight_for_poppler(tmp_path):
    # poppler splits words tilted a few degrees into fragments: such lines are placed on the axis,
    # each word's box keeping its centre and size
    page = rotated_page(3)
    (found,) = pdf_words_pdftotext(run_export([page], "pdf"), tmp_path)
    scale = page_scale(1000, 800)
    assert [w for w, _ in found] == ["ROTATED", "LINE", "42"]
    for (text, box), word in zip(found, expected_words(page)):
        x0, y0, x1, y1 = (v / scale for v in box)
        frame = text_frame(word.quad)
        centre = (sum(p[0] for p in word.quad) / 4, sum(p[1] for p in word.quad) / 4)
        assert math.dist(((x0 + x1) / 2, (y0 + y1) / 2), centre) <= PX_TOLERANCE, text
        assert_box_near((x1 - x0, y1 - y0), (frame.width, frame.height), text)


def test_pdf_turned_line_is_read_along_its_angle():
    scale = page_scale(1000, 800)
    for degrees in (30, 90, 180, 270):
        page = rotated_page(degrees)
        pdf = pdfium.PdfDocument(run_export([page], "pdf"))
        assert sorted(pdf[0].get_textpage().get_text_range().split()) == ["42", "LINE", "ROTATED"]
        centres = [
            (char, ((left + right) / 2 / scale, (800 * scale - (top + bottom) / 2) / scale))
            for char, (left, bottom, right, top) in pdf_chars_pdfium(pdf, 0)
        ]
        # every character of every word sits on the word's centre line, where its share of the box is
        for word in expected_words(page):
            frame = text_frame(word.quad)
            (dx, dy), (ox, oy) = frame.direction, frame.origin
            for k, char in enumerate(word.text):
                t = frame.width * (k + 0.5) / len(word.text)
                want = (ox + dx * t + dy * frame.height / 2, oy + dy * t - dx * frame.height / 2)
                nearest = min(math.dist(want, at) for c, at in centres if c == char)
                assert nearest <= PX_TOLERANCE, (degrees, word.text, char)


def test_pdf_page_is_the_image_undistorted_with_no_visible_text():
    page = label_page()
    pdf = pdfium.PdfDocument(run_export([page], "pdf"))
    rendered = pdf[0].render(scale=150 / 72).to_numpy()[:, :, :3].astype(int)  # BGR, like OpenCV
    original = page.image.astype(int)
    h, w = original.shape[:2]
    assert abs(rendered.shape[0] - h) <= 1 and abs(rendered.shape[1] - w) <= 1  # rendering rounds up
    rendered = rendered[:h, :w]

    def difference(dx: int, dy: int) -> float:
        moved = np.roll(np.roll(rendered, dy, axis=0), dx, axis=1)
        return float(np.abs(moved - original)[4:-4, 4:-4].mean())

    # JPEG q85 and pdfium's resampling differ a little at edges; nothing is drawn on top, and the
    # image sits exactly on the page: any shift matches worse
    assert difference(0, 0) < 5.0
    assert all(
        difference(dx, dy) > difference(0, 0) + 2 for dx in (-2, 0, 2) for dy in (-2, 0, 2) if dx or dy
    )


def test_pdf_without_image_is_a_blank_white_page_with_text():
    page = ExportPage(
        PageResult("stored", 1, 300, 200, [TextLine("nothing visible", 0.5, rect(10, 10, 200, 40))])
    )
    data = run_export([page], "pdf")
    assert b"/Subtype /Image" not in data
    pdf = pdfium.PdfDocument(data)
    assert (pdf[0].render(scale=1).to_numpy()[:, :, :3] == 255).all()
    assert pdf[0].get_textpage().get_text_range() == "nothing visible"


def test_pdf_embeds_a_given_jpeg_as_is():
    image = render_lines(["JPEG KEPT"])
    jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()
    assert jpeg_info(jpeg)[:3] == (image.shape[1], image.shape[0], 3)
    result = PageResult("stored", 1, image.shape[1], image.shape[0])
    data = run_export([ExportPage(result, image=np.zeros_like(image), jpeg=jpeg, scan_id=3)], "pdf")
    assert jpeg in data and data.count(b"/DCTDecode") == 1


def test_pdf_damaged_kept_jpeg_still_exports_the_text():
    result = PageResult("stored", 1, 300, 200, [TextLine("kept text", 0.9, rect(10, 10, 200, 40))])
    pdf = pdfium.PdfDocument(run_export([ExportPage(result, jpeg=b"\xff\xd8\xff\xe0 truncated")], "pdf"))
    assert pdf[0].get_textpage().get_text_range() == "kept text"
    assert (pdf[0].render(scale=1).to_numpy()[:, :, :3] == 255).all()


def test_pdf_structure_xref_and_font(tmp_path):
    pages = [label_page(), unicode_page(), rotated_page(30)]
    data = run_export(pages, "pdf")
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n%%EOF\n$", data).group(1))
    table = data[startxref:]
    count = int(re.match(rb"xref\n0 (\d+)\n", table).group(1))
    rows = re.findall(rb"(\d{10}) (\d{5}) ([fn]) \n", table)
    assert len(rows) == count
    for number, (offset, _, kind) in enumerate(rows):
        if kind == b"n":
            assert data[int(offset) :].startswith(f"{number} 0 obj\n".encode()), number
    assert b"/Count 3" in data and b"/Encoding /Identity-H" in data and b"/ToUnicode" in data
    assert data.count(b"/FontFile2") == 1
    streams = [
        zlib.decompress(m) for m in re.findall(rb"/FlateDecode >>\nstream\n(.*?)\nendstream", data, re.S)
    ]
    contents = [x for x in streams if x.startswith((b"q ", b"BT"))]
    assert len(contents) == 3 and all(b"BT\n3 Tr\n" in x for x in contents)  # render mode 3: invisible
    if shutil.which("pdffonts"):
        path = tmp_path / "fonts.pdf"
        path.write_bytes(data)
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"EdgeOcrInvisible\s+CID TrueType\s+Identity-H\s+yes\s+no\s+yes", fonts), fonts


def test_pdf_font_program_loads_in_freetype():
    from PIL import ImageFont

    font = ImageFont.truetype(io.BytesIO(font_program()), 40)
    assert font.getname()[0] == "EdgeOcrInvisible"


def test_no_pages_make_empty_documents_or_nothing():
    assert ET.fromstring(run_export([], "hocr")).tag == f"{XHTML}html"
    assert run_export([], "text") == b"" and run_export([], "jsonl") == b""
    for fmt in ("pdf", "alto"):  # readers refuse a PDF without pages; ALTO requires a Page
        out = io.BytesIO()
        with pytest.raises(ExportError, match="at least one page"):
            export([], fmt, out)
        assert out.getvalue() == b""


# --- scan -----------------------------------------------------------------------------------------


@pytest.fixture
def label(tmp_path):
    path = tmp_path / "label.png"
    cv2.imwrite(str(path), render_lines(["PART NO 4471-AX2", "SN 7F3K-22981"]))
    return path


def test_scan_pdf_needs_an_output_file(label, capsys):
    assert main(["scan", "--format", "pdf", str(label)]) == 2
    assert "--format pdf needs -o FILE" in capsys.readouterr().err


def test_scan_pdf_of_unreadable_inputs_writes_no_file(tmp_path, capsys):
    bad, out = tmp_path / "bad.png", tmp_path / "out.pdf"
    bad.write_bytes(b"")
    assert main(["scan", "--codes-only", "--format", "pdf", "-o", str(out), str(bad)]) == 1
    assert not out.exists() and "a PDF needs at least one page" in capsys.readouterr().err


def test_scan_keeps_page_images_only_when_asked(label):
    (plain,) = read_pages(None, label)
    (kept,) = read_pages(None, label, keep_images=True)
    assert plain.image is None and kept.image is not None
    assert kept.image.shape[:2] == (kept.result.height, kept.result.width)


def test_scan_codes_only_pdf_holds_every_page_image(label, tmp_path):
    second = tmp_path / "second.png"
    cv2.imwrite(str(second), render_lines(["DOCK 4"]))
    out = tmp_path / "out.pdf"
    args = [
        "scan",
        "--codes-only",
        "--no-progress",
        "--format",
        "pdf",
        "-o",
        str(out),
        str(label),
        str(second),
    ]
    assert main(args) == 0
    pdf = pdfium.PdfDocument(str(out))
    assert len(pdf) == 2 and pdf[0].get_textpage().get_text_range() == ""
    h, w = cv2.imread(str(second)).shape[:2]
    assert pdf[1].get_size() == pytest.approx((w * 72 / 150, h * 72 / 150))


@pytest.mark.engine
def test_scan_alto_end_to_end(label, tmp_path, alto_schema):
    out = tmp_path / "out.xml"
    assert main(["scan", "--format", "alto", "-o", str(out), str(label)]) == 0
    root = assert_valid_alto(alto_schema, out.read_bytes())
    strings = [s.get("CONTENT") for s in root.iter(f"{ALTO}String")]
    assert strings == ["PART", "NO", "4471-AX2", "SN", "7F3K-22981"]


@pytest.mark.engine
def test_scan_pdf_and_hocr_end_to_end(label, tmp_path, capsys):
    from tests.pdfmaker import text_pdf

    doc = text_pdf(tmp_path / "doc.pdf", ["Invoice 2026-0042"])
    out = tmp_path / "out.pdf"
    assert main(["scan", "--format", "pdf", "-o", str(out), str(label), str(doc)]) == 0
    pdf = pdfium.PdfDocument(str(out))
    assert len(pdf) == 2
    assert pdf[0].get_textpage().get_text_range().split() == ["PART", "NO", "4471-AX2", "SN", "7F3K-22981"]
    assert pdf[1].get_textpage().get_text_range().split() == ["Invoice", "2026-0042"]
    assert main(["scan", "--format", "hocr", str(label), str(doc)]) == 0
    hocr = ET.fromstring(capsys.readouterr().out)
    assert len([e for e in hocr.iter() if e.get("class") == "ocr_page"]) == 2
