"""Input decoding: every format, EXIF orientation, PDF text layers, and bad input."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from edge_ocr.documents import decode_image, expand_inputs, iter_file_pages
from edge_ocr.errors import ImageError
from tests.pdfmaker import image_pdf, text_pdf


def _png_bytes(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _gradient(h=40, w=60):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 0] = np.arange(w, dtype=np.uint8)[None, :] * 4  # red ramp (RGB)
    img[:, :, 2] = 200
    return img


@pytest.mark.parametrize(
    "fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("BMP", "bmp"), ("WEBP", "webp"), ("TIFF", "tif")]
)
def test_each_format_decodes_to_bgr(tmp_path, fmt, ext):
    rgb = _gradient()
    path = tmp_path / f"x.{ext}"
    Image.fromarray(rgb).save(path, fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
    pages = list(iter_file_pages(path))
    assert len(pages) == 1
    bgr = pages[0].image
    assert bgr.shape == (40, 60, 3) and bgr.dtype == np.uint8
    assert abs(int(bgr[20, 30, 0]) - 200) < 12  # blue channel first: BGR
    assert abs(int(bgr[20, 30, 2]) - int(rgb[20, 30, 0])) < 12


def test_tiff_yields_every_page(tmp_path):
    frames = [Image.fromarray(np.full((20, 30), v, np.uint8)) for v in (10, 120, 240)]
    path = tmp_path / "multi.tif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pages = list(iter_file_pages(path))
    assert [p.page for p in pages] == [1, 2, 3]
    assert [int(p.image.mean()) for p in pages] == [10, 120, 240]


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(np.zeros((20, 50, 3), np.uint8))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif)
    page = next(iter_file_pages(path))
    assert page.image.shape[:2] == (50, 20)


def test_alpha_is_flattened_on_white_and_16_bit_is_scaled():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent
    assert decode_image(_png_bytes(rgba))[0].min() == 255
    deep = np.full((4, 4), 4000, np.uint16)
    deep[0, 0] = 8000
    buf = io.BytesIO()
    Image.fromarray(deep).save(buf, "PNG")
    out = decode_image(buf.getvalue())[0]
    assert out[0, 0, 0] == 255 and 120 < out[1, 1, 0] < 135


def test_pdf_text_layer_is_used_with_positions(tmp_path):
    path = text_pdf(tmp_path / "t.pdf", ["Invoice 2026-0042", "Total 17.50 EUR"])
    page = next(iter_file_pages(path))
    assert page.image is None
    texts = [line.text for line in page.text_lines]
    assert texts == ["Invoice 2026-0042", "Total 17.50 EUR"]
    first = page.text_lines[0].polygon
    scale = page.width / 612
    assert first[0][0] == pytest.approx(40 * scale, abs=3 * scale)
    assert first[0][1] < page.text_lines[1].polygon[0][1]


def test_pdf_without_text_is_rasterised(tmp_path):
    img = np.full((300, 400, 3), 255, np.uint8)
    img[100:200, 100:300] = 0
    page = next(iter_file_pages(image_pdf(tmp_path / "scan.pdf", img, dpi=100)))
    assert page.text_lines is None and page.image is not None
    assert page.image.shape[:2] == (600, 800)  # 200 dpi rendering of a 100 dpi page
    assert page.image[300, 400].max() < 50 and page.image[20, 20].min() > 200


def test_zero_byte_file_is_a_clear_error(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        list(iter_file_pages(path))


def test_truncated_image_is_a_clear_error(tmp_path):
    data = _png_bytes(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.png: cannot decode"):
        list(iter_file_pages(path))


def test_non_image_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("just some text")
    with pytest.raises(ImageError, match="not a supported image"):
        list(iter_file_pages(path))


def test_corrupt_pdf_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage")
    with pytest.raises(ImageError, match="cannot open PDF"):
        list(iter_file_pages(path))


def huge_png(path, side=20000):
    """A valid greyscale PNG of side x side pixels written row by row (small on disk)."""

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    comp = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * side
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_20000_square_png_is_refused_without_decoding(tmp_path):
    import resource

    path = huge_png(tmp_path / "huge.png")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageError, match=r"image is 400 MP, above the limit of 60 MP \(max_image_pixels\)"):
        list(iter_file_pages(path))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # decoding it would take 400 MB (greyscale) to 1.2 GB (BGR)


def test_expand_inputs_walks_folders_for_supported_files(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/1.png", "a/2.PDF", "a/notes.txt", "b.jpg"):
        (tmp_path / name).write_bytes(b"x")
    found = expand_inputs([tmp_path / "a", tmp_path / "b.jpg"])
    assert [p.name for p in found] == ["1.png", "2.PDF", "b.jpg"]


def test_large_jpeg_is_decoded_reduced_and_large_png_refused(tmp_path):
    big = np.zeros((2000, 2000, 3), np.uint8)
    big[::50] = 255
    jpg = tmp_path / "big.jpg"
    Image.fromarray(big).save(jpg, "JPEG")
    page = next(iter_file_pages(jpg, max_pixels=1_000_000))
    assert page.image.shape[0] * page.image.shape[1] <= 1_000_000
    png = tmp_path / "big.png"
    Image.fromarray(big).save(png, "PNG")
    with pytest.raises(ImageError, match=r"2000x2000 \(4 MP\), above the limit of 1 MP"):
        list(iter_file_pages(png, max_pixels=1_000_000))
