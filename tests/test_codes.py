"""Tests for the code stage on real renders: every symbology, binary, GS1 and ECI payloads, the ladder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from edge_ocr.codes import CodeOptions, CodeScan, CodeScanner
from edge_ocr.codes.code39 import check_character, full_ascii, is_full_ascii_of
from edge_ocr.codes.merge import family, merge_codes
from edge_ocr.errors import ConfigError, ImageError
from edge_ocr.results import Code
from tests.synth.codes import (
    DEGRADATIONS,
    SETS,
    SYMBOLOGIES,
    code39_full_ascii,
    degrade_code_image,
    expected_data,
    expected_symbology,
    gs1_data,
    main,
    place_codes,
    rasterise,
    render_code,
    segno_image,
    upce_to_gtin13,
    write_code_set,
    write_symbology_set,
)

segno = pytest.importorskip("segno", reason="segno (test extra) draws the QR codes")
pytest.importorskip(
    "barcode", reason="python-barcode (test extra) draws the EAN, UPC, Code 128/39 and ITF codes"
)


# The ladder's budget is wall-clock time; tests of what a step finds must not depend on machine load.
_PATIENT = 10_000.0


@pytest.fixture(scope="module")
def scanner() -> Iterator[CodeScanner]:
    """Both readers with the default ladder, shared by the tests that do not configure their own."""
    scanner = CodeScanner()
    yield scanner
    scanner.close()


def _scan(image: np.ndarray, options: CodeOptions | None = None) -> CodeScan:
    """One scan with a scanner of its own, for tests that configure readers or steps."""
    scanner = CodeScanner(options)
    try:
        return scanner.scan(image)
    finally:
        scanner.close()


def _only(scan: CodeScan) -> Code:
    """The single code of a scan, with the whole list in the message when there is not exactly one."""
    found = [(c.symbology, c.data, c.readers, c.step) for c in scan.codes]
    assert len(scan.codes) == 1, found
    return scan.codes[0]


def _on_white(code: np.ndarray, pad: int = 30) -> np.ndarray:
    """A code with a white margin, as if cut from a label."""
    return np.pad(code, pad, constant_values=255)


@pytest.mark.parametrize("name", list(SYMBOLOGIES))
def test_every_symbology_reads_back_once_with_its_symbology_and_payload(
    scanner: CodeScanner, name: str
) -> None:
    image = render_code(name, SYMBOLOGIES[name], module_px=3)
    assert image.dtype == np.uint8 and image.ndim == 2
    assert image[0].min() == 255 and image[:, 0].min() == 255  # a quiet zone all round
    code = _only(scanner.scan(image))
    assert family(code.symbology) == family(expected_symbology(name))
    assert code.data == expected_data(name, SYMBOLOGIES[name])
    assert code.step == "direct"


def test_all_256_byte_values_in_a_qr_code_round_trip_byte_exact(scanner: CodeScanner) -> None:
    payload = bytes(range(256))
    code = _only(scanner.scan(segno_image(segno.make_qr(payload), 3)))
    assert code.symbology == "QRCode"
    assert code.data == payload
    assert code.text is None  # not valid UTF-8
    assert code.content_type == "binary"
    assert code.readers == ("zxing", "zbar")  # both saw the same bytes, so they merged


def test_binary_bytes_in_a_data_matrix_round_trip_byte_exact(scanner: CodeScanner) -> None:
    payload = bytes([0x00, 0xFF, 0x80, 0xC3, 0x28, 0x1D, 0x0D, 0x0A]) * 4
    code = _only(scanner.scan(render_code("DataMatrix", payload, 4)))
    assert code.symbology == "DataMatrix"
    assert code.data == payload
    assert code.text is None


def test_json_round_trip_keeps_binary_bytes(scanner: CodeScanner) -> None:
    payload = bytes(range(255, -1, -1))
    code = _only(scanner.scan(segno_image(segno.make_qr(payload), 3)))
    wire = json.loads(json.dumps(code.to_dict()))
    assert wire["text"] is None and isinstance(wire["bytes_b64"], str)
    back = Code.from_dict(wire)
    assert back.data == payload
    assert (back.symbology, back.text, back.readers, back.step) == (
        code.symbology,
        code.text,
        code.readers,
        code.step,
    )


@pytest.mark.parametrize("name", ["GS1-128", "GS1-DataMatrix"])
def test_gs1_keeps_the_group_separator_between_variable_length_elements(
    scanner: CodeScanner, name: str
) -> None:
    code = _only(scanner.scan(render_code(name, SYMBOLOGIES[name], 3)))
    assert code.symbology == expected_symbology(name)
    assert code.data == gs1_data(SYMBOLOGIES[name])
    assert b"\x1d21" in code.data  # (10) is variable-length and (21) follows it
    assert not code.data.startswith(b"\x1d")  # the leading FNC1 is the GS1 flag, not data
    assert "zxing" in code.readers and code.content_type == "gs1"


def test_gs1_data_puts_separators_only_after_variable_length_elements() -> None:
    assert (
        gs1_data("(01)09501101530003(17)261231(10)LOT7(21)S42") == b"01095011015300031726123110LOT7\x1d21S42"
    )
    assert gs1_data("(10)A(3103)000123") == b"10A\x1d3103000123"
    with pytest.raises(ValueError, match="GS1"):
        gs1_data("01)0950")


def test_upc_e_expands_to_the_gtin_13_of_its_upc_a() -> None:
    assert upce_to_gtin13("01234565") == "0012345000065"
    assert upce_to_gtin13("04252614") == "0042100005264"
    assert upce_to_gtin13("01234133") == "0012300000413"


def test_eci_qr_gives_decoded_text_raw_bytes_and_the_eci_number(scanner: CodeScanner) -> None:
    # micro=False: segno would otherwise pick a Micro QR, which cannot carry an ECI, and write a
    # symbol that reads as unrelated text.
    symbol = segno.make("Привет", encoding="iso-8859-5", eci=True, micro=False)
    code = _only(scanner.scan(segno_image(symbol, 4)))
    assert code.symbology == "QRCode"
    assert code.text == "Привет"
    assert code.data == "Привет".encode("iso-8859-5")
    wire = code.to_dict()
    assert wire["eci"] == [7]
    assert Code.from_dict(json.loads(json.dumps(wire))).eci_data == code.eci_data


def test_several_codes_in_one_frame_are_each_found_once(scanner: CodeScanner) -> None:
    payloads = {"QRCode": "QR-ASSET-1", "Code128": "C128-0042", "DataMatrix": "DM-7781"}
    renders = [render_code(name, text, 4 if name != "Code128" else 3) for name, text in payloads.items()]
    image, boxes = place_codes(renders, np.random.default_rng(1), (600, 800))
    codes = scanner.scan(image).codes
    assert sorted((c.symbology, c.data) for c in codes) == sorted(
        (k, v.encode()) for k, v in payloads.items()
    )
    for code in codes:
        x, y = np.mean(code.polygon, axis=0)
        assert sum(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in boxes) == 1
    qr = next(c for c in codes if c.symbology == "QRCode")
    assert qr.readers == ("zxing", "zbar")


def test_placed_codes_do_not_overlap_and_keep_their_pixels() -> None:
    renders = [render_code("QRCode", "A", 4), render_code("EAN13", "5901234123457", 2)]
    image, boxes = place_codes(renders, np.random.default_rng(5), (400, 600))
    assert image.shape == (400, 600, 3) and len(boxes) == 2
    (a, b) = boxes
    assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    for render, (x0, y0, x1, y1) in zip(renders, boxes, strict=True):
        gray = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        assert gray.shape == render.shape
        assert np.array_equal(gray < 128, render < 128)
    with pytest.raises(ValueError, match="fit"):
        place_codes([render_code("QRCode", "A", 20)], np.random.default_rng(0), (100, 100))


@pytest.mark.parametrize(
    "image",
    [
        np.full((480, 640), 255, np.uint8),
        np.full((480, 640, 3), 128, np.uint8),
        np.random.default_rng(3).integers(0, 256, (480, 640), dtype=np.uint8),
    ],
    ids=["blank", "uniform-gray", "random-noise"],
)
def test_frames_without_codes_decode_nothing(scanner: CodeScanner, image: np.ndarray) -> None:
    assert scanner.scan(image).codes == []


def test_one_pixel_image_gives_an_empty_result(scanner: CodeScanner) -> None:
    for image in (np.zeros((1, 1), np.uint8), np.zeros((1, 1, 3), np.uint8)):
        assert scanner.scan(image).codes == []


@pytest.mark.parametrize("shape", [(0, 0), (0, 10, 3)])
def test_an_empty_array_is_refused_with_an_image_error(scanner: CodeScanner, shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageError):
        scanner.scan(np.zeros(shape, np.uint8))


def test_float_and_rgba_images_are_read(scanner: CodeScanner) -> None:
    gray = _on_white(render_code("QRCode", "FLOAT-RGBA", 4))
    assert _only(scanner.scan(gray.astype(np.float64))).data == b"FLOAT-RGBA"
    rgba = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA)
    rgba[..., 3] = 255
    assert _only(scanner.scan(rgba)).data == b"FLOAT-RGBA"


def test_a_unit_range_float_image_is_scaled_and_read(scanner: CodeScanner) -> None:
    unit = _on_white(render_code("QRCode", "UNIT", 4)).astype(np.float32) / 255
    assert [c.data for c in scanner.scan(unit).codes] == [b"UNIT"]


def _code(data: bytes, reader: str, box=(10.0, 10.0, 110.0, 60.0), symbology: str = "EAN13") -> Code:
    x0, y0, x1, y1 = box
    return Code(symbology, data, data.decode(), ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), readers=(reader,))


def test_merge_drops_both_sides_when_readers_disagree_at_one_spot() -> None:
    good, bad = _code(b"1806120170321", "zbar"), _code(b"3806128170321", "zxing")
    elsewhere = _code(b"4006381333931", "zxing", box=(300.0, 10.0, 400.0, 60.0))
    assert merge_codes([bad, good, elsewhere]) == [elsewhere]
    # The same payload twice at one spot is one code seen by both readers.
    [one] = merge_codes([_code(b"1806120170321", "zxing"), good])
    assert one.readers == ("zxing", "zbar")


def test_merge_drops_decodes_located_at_a_single_point() -> None:
    point = _code(b"0082170000004", "zbar", box=(50.0, 50.0, 50.0, 50.0))
    assert merge_codes([point]) == []


# Code 39 Full ASCII: the symbol holds plain Code 39 characters (+A, /O, ...); zxing-cpp applies the
# pairs (Code39Ext, ]A4) and ZBar reports them raw.
FULL_ASCII = ["12ab", "a-b.c/d", "Hello, World!"]


def test_the_full_ascii_tables_of_writer_and_reader_agree_on_all_128_characters() -> None:
    for value in range(128):
        raw = code39_full_ascii(chr(value))
        assert full_ascii(raw.encode()) == bytes([value]), (value, raw)
    assert code39_full_ascii("12ab") == "12+A+B"
    assert code39_full_ascii("Hello, World!") == "H+E+L+L+O/L W+O+R+L+D/A"
    with pytest.raises(ValueError, match="ASCII"):
        code39_full_ascii("é")


@pytest.mark.parametrize(
    "raw",
    [b"AB+1", b"A+", b"$5 OFF", b"100%", b"S/N42", b"/P", b"12ab", b"A*B"],
)
def test_raw_text_that_is_not_full_ascii_has_no_full_ascii_reading(raw: bytes) -> None:
    assert full_ascii(raw) is None


def test_a_full_ascii_reading_matches_only_its_raw_characters() -> None:
    assert full_ascii(b"%U$A%V/Z%X+Z") == b"\x00\x01@:\x7fz"
    assert is_full_ascii_of(b"12ab", b"12+A+B")
    assert not is_full_ascii_of(b"12ab", b"12+A+C")
    assert not is_full_ascii_of(b"EDGE-42", b"EDGE-42")  # nothing was interpreted
    # A valid modulo-43 check character stays as it is after the interpreted data (]A5).
    assert check_character(b"12+A+B") == "K"
    assert is_full_ascii_of(b"12abK", b"12+A+BK")
    assert check_character(b"12+A") == "B"
    assert not is_full_ascii_of(b"12a%", b"12+A%")  # % is no check character of 12+A


def _zxing_alone(image: np.ndarray) -> list[tuple[str, str, bytes]]:
    """What zxing-cpp itself reports, with its default formats (which include Code39Ext)."""
    found = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    return [(b.format.name, b.symbology_identifier, bytes(b.bytes)) for b in found]


@pytest.mark.parametrize("payload", FULL_ASCII)
def test_a_full_ascii_code39_keeps_zxings_interpreted_text(scanner: CodeScanner, payload: str) -> None:
    image = render_code("Code39Ext", payload, 3)
    raw = code39_full_ascii(payload).encode()
    # The two readers really do disagree on this symbol: pairs applied against raw characters.
    assert _zxing_alone(image) == [("Code39Ext", "]A4", payload.encode())]
    assert _only(_scan(image, CodeOptions(readers=("zbar",), retry_steps=()))).data == raw
    code = _only(scanner.scan(image))
    assert (code.symbology, code.data, code.text) == ("Code39", payload.encode(), payload)
    # ZBar's payload is the raw characters, so only zxing-cpp is named for the interpreted one.
    assert (code.readers, code.step) == (("zxing",), "direct")
    assert _only(_scan(image, CodeOptions(readers=("zxing",)))).symbology == "Code39"


def test_a_full_ascii_code39_with_a_check_character_keeps_it_after_the_text(scanner: CodeScanner) -> None:
    import barcode

    raw = code39_full_ascii("12ab")
    (bars,) = barcode.get_barcode_class("code39")(raw, add_checksum=True).build()
    image = rasterise(np.frombuffer(bars.encode("ascii"), np.uint8) == ord("1"), 3, 12)
    assert _zxing_alone(image) == [("Code39Ext", "]A5", b"12abK")]
    code = _only(scanner.scan(image))
    assert (code.symbology, code.data, code.readers) == ("Code39", b"12abK", ("zxing",))


@pytest.mark.parametrize("raw", ["AB+1", "$5 OFF", "100%"])
def test_a_plain_code39_with_shift_characters_keeps_its_raw_text(scanner: CodeScanner, raw: str) -> None:
    image = render_code("Code39", raw, 3)
    # Not valid Full ASCII, so zxing-cpp does not apply it (]A0) and both readers agree.
    assert _zxing_alone(image) == [("Code39", "]A0", raw.encode())]
    code = _only(scanner.scan(image))
    assert (code.symbology, code.data, code.readers) == ("Code39", raw.encode(), ("zxing", "zbar"))


def test_zxings_full_ascii_reading_of_a_reserved_pair_is_not_taken(scanner: CodeScanner) -> None:
    # zxing-cpp reads /N (reserved in the Full ASCII table) as '.'; the merge does not confirm that
    # reading, drops both sides, and the retry ladder's ZBar pass gives the raw characters.
    image = render_code("Code39", "S/N42", 3)
    assert _zxing_alone(image) == [("Code39Ext", "]A4", b"S.42")]
    code = _only(scanner.scan(image))
    assert (code.symbology, code.data) == ("Code39", b"S/N42")
    assert "zxing" not in code.readers


def _code39(data: bytes, reader: str, symbology: str = "Code39") -> Code:
    return _code(data, reader, box=(10.0, 10.0, 300.0, 60.0), symbology=symbology)


def test_merge_keeps_zxings_full_ascii_text_only_when_it_is_the_reading_of_zbars_characters() -> None:
    ext, raw = _code39(b"12ab", "zxing", "Code39Ext"), _code39(b"12+A+B", "zbar")
    assert merge_codes([ext, raw]) == [ext] and merge_codes([raw, ext]) == [ext]
    # Another text at the same spot is a misread on one side: both go, as for any 1-D code.
    assert merge_codes([_code39(b"12ac", "zxing", "Code39Ext"), raw]) == []
    # Without zxing-cpp saying it applied Full ASCII, the relation alone is not enough.
    assert merge_codes([_code39(b"12ab", "zxing"), raw]) == []
    # Full ASCII read by ZBar against raw read by zxing-cpp is no such pair either.
    assert merge_codes([_code39(b"12+A+B", "zxing"), _code39(b"12ab", "zbar", "Code39Ext")]) == []


def test_a_tiny_qr_is_found_by_the_upscale_step_and_not_without_budget() -> None:
    big = render_code("QRCode", SYMBOLOGIES["QRCode"], 8)
    tiny = _on_white(cv2.resize(big, None, fx=1.2 / 8, fy=1.2 / 8, interpolation=cv2.INTER_AREA))
    assert _scan(tiny, CodeOptions(retry_steps=())).codes == []
    scan = _scan(tiny, CodeOptions(retry_steps=("upscale",), retry_budget_ms=_PATIENT))
    code = _only(scan)
    assert (code.data, code.step, scan.steps_tried) == (
        SYMBOLOGIES["QRCode"].encode(),
        "upscale",
        ["upscale"],
    )
    assert _scan(tiny, CodeOptions(retry_steps=("upscale",), retry_budget_ms=0)).codes == []


def test_a_light_on_dark_code128_is_read_by_zbar_only_after_inverting() -> None:
    negative = 255 - render_code("Code128", "EDGE-42", 3)
    options = CodeOptions(readers=("zbar",), retry_steps=("sharpen", "invert"), retry_budget_ms=_PATIENT)
    scan = _scan(negative, options)
    code = _only(scan)
    assert (code.data, code.readers, code.step) == (b"EDGE-42", ("zbar",), "invert")
    assert scan.steps_tried == ["sharpen", "invert"]
    x0, y0 = np.min(code.polygon, axis=0)
    x1, y1 = np.max(code.polygon, axis=0)
    assert 0 <= x0 < x1 <= negative.shape[1] and 0 <= y0 < y1 <= negative.shape[0]
    assert _scan(negative, CodeOptions(readers=("zbar",), retry_budget_ms=0)).codes == []


@pytest.mark.parametrize(
    "options",
    [
        CodeOptions(readers=("zxing", "quagga")),
        CodeOptions(readers=()),
        CodeOptions(retry_steps=("upscale", "deblur")),
        CodeOptions(retry_budget_ms=-1),
    ],
    ids=["unknown-reader", "no-reader", "unknown-step", "negative-budget"],
)
def test_bad_options_are_config_errors(options: CodeOptions) -> None:
    with pytest.raises(ConfigError):
        CodeScanner(options)


def test_render_code_refuses_unknown_symbologies_and_sizes() -> None:
    with pytest.raises(ValueError, match="unknown symbology"):
        render_code("MaxiCodeX", "1")
    with pytest.raises(ValueError, match="module_px"):
        render_code("QRCode", "1", 0)


def test_render_code_scales_by_whole_modules() -> None:
    one, three = render_code("DataMatrix", "SIZE", 1), render_code("DataMatrix", "SIZE", 3)
    assert three.shape == (one.shape[0] * 3, one.shape[1] * 3)
    assert np.array_equal(three[::3, ::3], one)


@pytest.mark.parametrize("kind", ["clean", *DEGRADATIONS])
def test_degradations_are_seeded_and_change_the_image(kind: str) -> None:
    image, boxes = place_codes([render_code("QRCode", "DEGRADE", 4)], np.random.default_rng(2), (300, 400))
    a = degrade_code_image(image, np.random.default_rng(9), kind, boxes=boxes, module_px=4)
    b = degrade_code_image(image, np.random.default_rng(9), kind, boxes=boxes, module_px=4)
    assert a.dtype == np.uint8 and a.ndim == 3 and np.array_equal(a, b)
    assert np.array_equal(a, image) == (kind == "clean")
    if kind == "small":
        assert max(a.shape[:2]) < max(image.shape[:2]) / 1.9
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade_code_image(image, np.random.default_rng(9), "fog")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_write_code_set_is_deterministic_and_its_labels_are_the_payloads(
    tmp_path: Path, scanner: CodeScanner
) -> None:
    paths = write_code_set(tmp_path / "a", 2, seed=4)
    write_code_set(tmp_path / "b", 2, seed=4)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    write_code_set(tmp_path / "c", 2, seed=5)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")
    sets = {p.parent.name for p in paths}
    assert sets == {f"gen-{k}" for k in (*SETS, "nocode")} and len(paths) == 2 * len(sets)
    for path in paths:
        label = path.with_suffix(".txt")
        assert path.suffix == ".png" and cv2.imread(str(path)) is not None
        assert label.exists() == (path.parent.name != "gen-nocode")
    for path in sorted((tmp_path / "a" / "gen-clean").glob("*.png")):
        expected = path.with_suffix(".txt").read_bytes()
        assert expected and not expected.endswith(b"\n")
        assert [c.data for c in scanner.scan(cv2.imread(str(path))).codes] == [expected]
    for path in sorted((tmp_path / "a" / "gen-nocode").glob("*.png")):
        assert scanner.scan(cv2.imread(str(path))).codes == []


def test_write_symbology_set_takes_every_degradation_in_turn(tmp_path: Path, scanner: CodeScanner) -> None:
    paths = write_symbology_set(tmp_path / "ext", "Code39Ext", len(SETS) + 1, seed=6)
    assert [p.stem.split("-", 1)[1] for p in paths] == [*SETS, "clean"]
    clean = [p for p in paths if p.stem.endswith("-clean")]
    for path in clean:
        label = path.with_suffix(".txt").read_bytes()
        assert not label.isupper() and code39_full_ascii(label.decode()) != label.decode()
        [code] = scanner.scan(cv2.imread(str(path))).codes
        assert (code.data, code.readers) == (label, ("zxing",))
    write_symbology_set(tmp_path / "again", "Code39Ext", len(SETS) + 1, seed=6)
    assert _tree(tmp_path / "ext") == _tree(tmp_path / "again")
    with pytest.raises(ValueError, match="unknown symbology"):
        write_symbology_set(tmp_path / "x", "Code39Full", 1)


def test_command_line_writes_a_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--count", "1", "--seed", "3"]) == 0
    assert "wrote 8 images" in capsys.readouterr().out
    assert len(list(tmp_path.glob("gen-*/*.png"))) == 8
    assert len(list(tmp_path.glob("gen-*/*.txt"))) == 7
