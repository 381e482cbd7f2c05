"""Turn input files (JPEG, PNG, TIFF pages, BMP, WebP, PDF) into upright BGR page images."""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from edge_ocr.errors import ImageError
from edge_ocr.results import TextLine

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES
DEFAULT_MAX_PIXELS = 60_000_000  # a 48 MP phone photo fits; a 20000x20000 bomb does not
FILE_PIXEL_FACTOR = 20  # all pages of one image file together: at most this many x max_pixels
PDF_DPI = 200


@dataclass
class PageImage:
    """One page to read: pixels, or (for PDF pages with a text layer) the text itself."""

    source: str
    page: int  # 1-based
    width: int
    height: int
    image: np.ndarray | None  # BGR uint8, None when the text layer is used and no pixels were needed
    text_lines: list[TextLine] | None = None


def source_name(path: Path | str) -> str:
    """The name a result and every message give an input: its path, printable and UTF-8 encodable.

    A file name that is not valid UTF-8 reaches Python as a str with surrogate escapes, which
    cannot be written to a UTF-8 terminal, JSON file or the store. Each such byte is written as
    the four characters \\xNN instead (Python's backslashreplace), so b"bad\\xffname.png" is shown
    and stored as "bad\\xffname.png": UTF-8 names are unchanged, and the original bytes are
    recovered by turning each \\xNN back into its byte (exact unless a name literally contains a
    backslash followed by x and two hex digits).
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _to_bgr(frame: Image.Image) -> np.ndarray:
    """Any Pillow mode to 8-bit BGR; transparency is flattened onto white, 16-bit is rescaled."""
    if frame.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(frame, dtype=np.float32)
        top = float(arr.max()) or 1.0
        gray = np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(white, rgba)
    rgb = np.asarray(frame.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _check_size(name: str, img: Image.Image, max_pixels: int) -> Image.Image:
    """Refuse (or, for JPEG, decode reduced) images that would exhaust memory."""
    w, h = img.size
    if w * h <= max_pixels:
        return img
    if img.format == "JPEG":
        factor = 1
        while (w // factor) * (h // factor) > max_pixels and factor < 8:
            factor *= 2
        img.draft("RGB", (w // factor, h // factor))
        if img.size[0] * img.size[1] <= max_pixels:
            return img
    raise _too_large(name, f"{w}x{h} ({w * h / 1e6:.0f} MP)", max_pixels)


def _reason(exc: BaseException) -> str:
    """An exception as a short reason: its text, or its type when it has none; never a traceback."""
    text = " ".join(str(exc).split())[:300]
    return f"{text} ({type(exc).__name__})" if text else type(exc).__name__


def _too_large(name: str, size: str, max_pixels: int) -> ImageError:
    return ImageError(
        f"{name}: image is {size}, above the limit of {max_pixels / 1e6:.0f} MP "
        "(max_image_pixels); downscale it first"
    )


def decode_image(
    data: bytes, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[np.ndarray]:
    """Decode every frame (TIFF pages) of an image, upright per its EXIF orientation."""
    return list(iter_image_frames(data, name, max_pixels))


def iter_image_frames(
    data: bytes, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[np.ndarray]:
    """Frame by frame (TIFF pages, GIF frames), so a file of many large pages holds one at a time;
    at most FILE_PIXEL_FACTOR x max_pixels in all (a 2 MB TIFF once unpacked 30 pages of 49 MP)."""
    if not data:
        raise ImageError(f"{name}: file is empty")
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a supported image (JPEG, PNG, TIFF, BMP, WebP) or PDF") from None
    except Image.DecompressionBombError as exc:  # Pillow's own guard fires first for huge images
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too large"
        raise _too_large(name, size, max_pixels) from None
    except MemoryError:
        raise
    except Exception as exc:  # Pillow's plugins raise many kinds (TypeError, struct.error, ...) on junk
        raise ImageError(f"{name}: cannot decode image: {_reason(exc)}") from None
    total, budget, count = 0, FILE_PIXEL_FACTOR * max_pixels, 0
    try:
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            frame = _check_size(f"{name} page {index + 1}", frame, max_pixels)
            total += frame.size[0] * frame.size[1]
            if total > budget:
                raise ImageError(
                    f"{name}: pages after {index} not read: more than {budget / 1e6:.0f} MP in all "
                    f"({FILE_PIXEL_FACTOR} x max_image_pixels)"
                )
            frame.load()
            count += 1
            yield _to_bgr(ImageOps.exif_transpose(frame))
    except (ImageError, MemoryError):
        raise
    except Exception as exc:
        raise ImageError(f"{name}: cannot decode image (truncated or corrupt?): {_reason(exc)}") from None
    if not count:
        raise ImageError(f"{name}: image has no frames")


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_EMPTY_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+0\b|/Count\s+0\b[^>]*?/Type\s*/Pages\b")
PAGELESS_SCAN_BYTES = 16 << 20  # larger files that fail to load are reported as PDFium says


def _pageless(path: Path, stream: BinaryIO | None) -> bool:
    """A PDF whose page tree says /Count 0 and holds no page object (read again only when small)."""
    try:
        if stream is not None:
            stream.seek(0)
            data = stream.read(PAGELESS_SCAN_BYTES + 1)
        else:
            with Path(path).open("rb") as fh:
                data = fh.read(PAGELESS_SCAN_BYTES + 1)
    except OSError:
        return False
    if len(data) > PAGELESS_SCAN_BYTES:
        return False
    return bool(_EMPTY_TREE.search(data)) and not _PAGE_OBJECT.search(data)


def _pdf_text_lines(page, scale: float, height_px: int) -> list[TextLine]:
    """Lines of a PDF page's own text layer, with boxes in rendered-pixel coordinates."""
    textpage = page.get_textpage()
    lines: list[TextLine] = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        text = " ".join(textpage.get_text_bounded(left, bottom, right, top).split())
        if not text:
            continue
        x0, x1 = left * scale, right * scale
        y0, y1 = height_px - top * scale, height_px - bottom * scale
        lines.append(TextLine(text, 1.0, ((x0, y0), (x1, y0), (x1, y1), (x0, y1))))
    return lines


def iter_pdf_pages(
    path: Path,
    dpi: int = PDF_DPI,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    need_pixels: bool = False,
    want_text: bool = True,
    stream: BinaryIO | None = None,
) -> Iterator[PageImage]:
    """PDF pages: the text layer where the page has one, else the page rasterised for OCR.

    need_pixels rasterises text-layer pages too (barcodes are graphics, not text); want_text=False
    (codes only) skips extracting a text layer nobody reads. stream, when given, is the already
    opened file (read from there; path only names it).
    """
    import pypdfium2 as pdfium

    name = source_name(path)
    try:
        pdf = pdfium.PdfDocument(path if stream is None else stream)
    except pdfium.PdfiumError as exc:
        # PDFium fails a document whose page tree is empty without setting an error code of its own:
        # the code it reports is whatever an earlier failure left ("Success", "Data format error").
        if getattr(exc, "err_code", None) == 0 or _pageless(path, stream):
            raise ImageError(f"{name}: PDF has no pages") from None
        raise ImageError(f"{name}: cannot open PDF: {exc}") from None
    try:
        if len(pdf) == 0:
            raise ImageError(f"{name}: PDF has no pages")
        for index in range(len(pdf)):
            try:
                page = _pdf_page(
                    pdf[index], f"{name} page {index + 1}", dpi, max_pixels, need_pixels, want_text
                )
            except (ImageError, MemoryError):
                raise
            except Exception as exc:  # a corrupt page: PdfiumError, or odd sizes Python cannot round
                raise ImageError(f"{name} page {index + 1}: cannot render: {_reason(exc)}") from None
            yield replace(page, source=name, page=index + 1)
    finally:
        pdf.close()


def _pdf_page(page, name: str, dpi: int, max_pixels: int, need_pixels: bool, want_text: bool) -> PageImage:
    """One page: its text layer, or rasterised (at most max_pixels) when pixels are needed or it has none."""
    w_pt, h_pt = page.get_size()
    if not (w_pt > 0 and h_pt > 0 and w_pt * h_pt < 1e12):
        raise ImageError(f"{name}: page size {w_pt:g} x {h_pt:g} pt cannot be rendered")
    scale = dpi / 72.0
    if w_pt * h_pt * scale * scale > max_pixels:
        scale = (max_pixels / (w_pt * h_pt)) ** 0.5
    width, height = max(1, round(w_pt * scale)), max(1, round(h_pt * scale))
    lines = _pdf_text_lines(page, scale, height) if want_text and page.get_rotation() == 0 else []
    text_layer = lines if sum(len(line.text) for line in lines) >= 8 else None
    if text_layer is not None and not need_pixels:
        return PageImage(name, 0, width, height, None, text_layer)
    bitmap = page.render(scale=scale)
    rgb = bitmap.to_numpy()[:, :, :3]
    bgr = np.ascontiguousarray(rgb[:, :, ::-1]) if bitmap.rev_byteorder else np.ascontiguousarray(rgb)
    return PageImage(name, 0, bgr.shape[1], bgr.shape[0], bgr, text_layer)


_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISDIR, "directory"),
)


def _refuse_special(name: str, mode: int) -> None:
    """Only regular files are read: a FIFO or device could block forever or never end."""
    if stat.S_ISREG(mode):
        return
    kind = next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "special file")
    raise ImageError(f"{name}: not a regular file ({kind}); only regular files are read")


def _open_regular(path: Path, name: str) -> BinaryIO:
    """The file opened for reading, refused (never opened) unless it is a regular file."""
    try:
        _refuse_special(name, os.stat(path).st_mode)
        # O_NONBLOCK: should the path become a FIFO after the check, open() still returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ImageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    fh = os.fdopen(fd, "rb")
    try:
        _refuse_special(name, os.fstat(fd).st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        fh.close()
        raise
    return fh


def iter_file_pages(
    path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, need_pixels: bool = False, want_text: bool = True
) -> Iterator[PageImage]:
    """All pages of one input file, whatever its format; only regular files are read.

    Pages and messages name the file by source_name(path).
    """
    name = source_name(path)
    with _open_regular(path, name) as fh:
        try:
            head = fh.read(5)
            if head == b"%PDF-" or path.suffix.lower() in PDF_SUFFIXES:
                fh.seek(0)
                yield from iter_pdf_pages(
                    path, max_pixels=max_pixels, need_pixels=need_pixels, want_text=want_text, stream=fh
                )
                return
            data = head + fh.read()
        except OSError as exc:
            raise ImageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    for index, image in enumerate(iter_image_frames(data, name, max_pixels)):
        yield PageImage(name, index + 1, image.shape[1], image.shape[0], image)


def expand_inputs(paths: Iterable[Path], special: bool = False) -> list[Path]:
    """Files as given, and folders expanded (recursively, sorted) to their supported files.

    special=True also lists FIFOs, devices and sockets named like a supported file, so that reading
    refuses each by name (`scan`) instead of skipping it silently; dangling links are left out.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.suffix.lower() in SUPPORTED_SUFFIXES and _listed(p, special)
            )
        else:
            out.append(path)
    return out


def _listed(path: Path, special: bool) -> bool:
    try:
        return path.is_file() or (special and path.exists() and not path.is_dir())
    except OSError:
        return False
