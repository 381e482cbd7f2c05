"""Frame sources on real files, real OpenCV decoding and real sockets; only the Pi camera is faked."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from PIL import Image

from edge_ocr.config import SOURCE_KINDS, SourceSettings, VideoSettings, source_settings
from edge_ocr.errors import ConfigError
from edge_ocr.sources import (
    EndOfSource,
    Frame,
    ImagesSource,
    InboxSource,
    OpenCVSource,
    PiCameraSource,
    ResilientSource,
    SourceError,
    item_fingerprint,
    make_source,
)
from edge_ocr.sources.grabber import LatestFrameGrabber
from edge_ocr.sources.picamera import NOT_INSTALLED
from tests.broker import free_port
from tests.pdfmaker import image_pdf, text_pdf
from tests.waiting import wait_until

# ---- helpers -------------------------------------------------------------------------------------------


def shade(i: int) -> int:
    """The grey level of frame i in the test videos (far enough apart to survive JPEG)."""
    return 20 + (i % 10) * 20


def make_video(path: Path, frames: int = 10, fps: float = 25.0, size=(64, 48)) -> Path:
    """An MJPG .avi whose frame i is a flat grey of shade(i)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "this OpenCV cannot write MJPG/AVI"
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), shade(i), np.uint8))
    writer.release()
    return path


def settings(kind: str = "video", **kw) -> SourceSettings:
    return source_settings(kind, **kw)


def read_all(source, timeout_s: float = 1.0) -> list[Frame]:
    frames = []
    while True:
        try:
            frame = source.read(timeout_s)
        except EndOfSource:
            return frames
        assert frame is not None
        frames.append(frame)


def read_until(source, deadline_s: float = 3.0, step_s: float = 0.05) -> Frame | None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        frame = source.read(step_s)
        if frame is not None:
            return frame
    return None


def backdate(path: Path, age_s: float) -> Path:
    """Give the file an mtime age_s in the past (an inbox reads oldest first; old files count as settled)."""
    if age_s:
        old = time.time() - age_s
        os.utime(path, (old, old))
    return path


def write_png(path: Path, value: int = 128, size=(40, 30), age_s: float = 0.0) -> Path:
    ok, data = cv2.imencode(".png", np.full((size[1], size[0], 3), value, np.uint8))
    assert ok
    path.write_bytes(data.tobytes())
    return backdate(path, age_s)


def write_tiff(path: Path, pages: int = 2, age_s: float = 0.0) -> Path:
    images = [Image.new("RGB", (50, 40), (10 * i, 100, 200)) for i in range(pages)]
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:])
    return backdate(path, age_s)


# ---- video files ---------------------------------------------------------------------------------------


def test_video_every_frame_in_order_then_end(tmp_path):
    clip = make_video(tmp_path / "clip.avi", frames=10)
    source = OpenCVSource(settings(kind="video", path=str(clip), realtime=False))
    source.open()
    frames = read_all(source)
    source.close()
    assert [f.index for f in frames] == list(range(10))
    assert all(f.source == f"video:{clip}" and f.image.shape == (48, 64, 3) for f in frames)
    assert all(f.image.dtype == np.uint8 and f.image.flags.c_contiguous for f in frames)
    assert [round(float(f.image.mean()) / 20) * 20 for f in frames] == [shade(i) for i in range(10)]
    assert all(abs(f.captured_ms - time.time() * 1000) < 10_000 for f in frames)


def test_video_realtime_pacing_and_as_fast_as_possible(tmp_path):
    clip = make_video(tmp_path / "clip.avi", frames=10, fps=25.0)
    timings = {}
    for realtime in (True, False):
        source = OpenCVSource(settings(kind="video", path=str(clip), realtime=realtime))
        source.open()
        start = time.monotonic()
        assert len(read_all(source)) == 10
        timings[realtime] = time.monotonic() - start
        source.close()
    assert 0.30 <= timings[True] < 0.9  # nine intervals of 40 ms
    assert timings[False] < timings[True] / 2


def test_video_realtime_read_times_out_between_frames(tmp_path):
    clip = make_video(tmp_path / "clip.avi", frames=5)
    source = OpenCVSource(settings(kind="video", path=str(clip), fps=4.0))  # fps overrides the file's 25
    source.open()
    assert source.read(0.05) is not None  # the first frame is due at once
    start = time.monotonic()
    assert source.read(0.05) is None  # the next is due 250 ms later
    assert time.monotonic() - start < 0.2
    assert source.read(1.0).index == 1
    source.close()


def test_video_loop_runs_on_with_running_index(tmp_path):
    clip = make_video(tmp_path / "clip.avi", frames=10)
    source = OpenCVSource(settings(kind="video", path=str(clip), realtime=False, loop=True))
    source.open()
    frames = [source.read(1.0) for _ in range(25)]
    source.close()
    assert [f.index for f in frames] == list(range(25))
    assert [round(float(f.image.mean()) / 20) * 20 for f in frames] == [shade(i) for i in range(25)]


def test_video_missing_or_not_a_video(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        OpenCVSource(settings(kind="video", path=str(tmp_path / "none.avi"))).open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(os.urandom(5000))
    source = OpenCVSource(settings(kind="video", path=str(junk)))
    with pytest.raises(SourceError, match=r"junk\.avi"):
        source.open()
        source.read(1.0)  # some builds open anything and fail on the first frame


def test_video_that_disappears_and_comes_back_is_reopened(tmp_path):
    clip = make_video(tmp_path / "clip.avi", frames=10)
    cfg = settings(
        kind="video", path=str(clip), realtime=False, loop=True, reopen_min_s=0.05, reopen_max_s=0.2
    )
    source = ResilientSource(OpenCVSource(cfg), cfg)
    source.open()
    assert all(source.read(1.0) is not None for _ in range(5))
    clip.unlink()  # the open file still reads to its end; the loop's reopen finds nothing
    got = [source.read(0.05) for _ in range(20)]
    assert None in got and source.errors >= 1 and not source.up
    assert "does not exist" in source.last_error
    make_video(clip, frames=10)
    frame = read_until(source, 3.0)
    assert frame is not None and frame.index == 0  # numbering restarts with the reopened file
    assert source.reconnects == 1 and source.up
    source.close()


# ---- images folder -------------------------------------------------------------------------------------


def test_images_folder_pages_in_order_and_bad_files_skipped(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    write_png(folder / "a.png")
    write_tiff(folder / "b.tif", pages=2)
    text_pdf(folder / "c.pdf", ["INVOICE 1234", "TOTAL 56.78"])
    image_pdf(folder / "d.pdf", np.full((60, 80, 3), 90, np.uint8))
    (folder / "e.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not an image")
    source = ImagesSource(settings(kind="images", path=str(folder)))
    source.open()
    frames = read_all(source)
    source.close()
    assert [(f.source, f.page, f.last_of_item) for f in frames] == [
        ("images:a.png", 1, True),
        ("images:b.tif", 1, False),
        ("images:b.tif", 2, True),
        ("images:c.pdf", 1, True),
        ("images:d.pdf", 1, True),
    ]
    assert [f.index for f in frames] == list(range(5))
    assert all(f.image.ndim == 3 and f.image.dtype == np.uint8 for f in frames)
    assert frames[3].image.shape[0] > 1000  # the text PDF is rasterised too (barcodes need pixels)
    assert all(f.item is None for f in frames)
    assert source.files_failed == 1 and "e.jpg" in source.last_error


def test_images_glob_loop(tmp_path):
    write_png(tmp_path / "x1.png", 10)
    write_png(tmp_path / "x2.png", 200)
    write_png(tmp_path / "y.png", 99)
    source = ImagesSource(settings(kind="images", path=str(tmp_path / "x*.png"), loop=True))
    source.open()
    frames = [source.read(1.0) for _ in range(5)]
    assert [f.source for f in frames] == [f"images:{tmp_path}/x{n}.png" for n in (1, 2, 1, 2, 1)]
    assert [f.index for f in frames] == list(range(5))
    empty = ImagesSource(settings(kind="images", path=str(tmp_path / "nothing*.png")))
    with pytest.raises(SourceError, match="no images or PDFs"):
        empty.open()


# ---- inbox ---------------------------------------------------------------------------------------------


def inbox(folder: Path, **kw) -> InboxSource:
    source = InboxSource(settings(kind="inbox", path=str(folder), inbox_poll_s=0.05), settle_s=0.3, **kw)
    source.open()
    return source


def test_inbox_files_dropped_while_running_are_read_once_and_filed(tmp_path):
    source = inbox(tmp_path)
    assert (tmp_path / "done").is_dir() and (tmp_path / "failed").is_dir()
    assert source.read(0.1) is None
    write_png(tmp_path / "label.png")
    frame = read_until(source)
    assert frame.source == "inbox:label.png" and frame.item == str(tmp_path / "label.png")
    assert frame.page == 1 and frame.last_of_item
    assert (tmp_path / "label.png").exists()  # filed away only once the daemon says so
    source.done(frame, True)
    assert (tmp_path / "done" / "label.png").exists() and not (tmp_path / "label.png").exists()
    write_tiff(tmp_path / "two.tif", pages=2)
    first = read_until(source)
    second = source.read(0.1)
    assert (first.page, first.last_of_item, second.page, second.last_of_item) == (1, False, 2, True)
    source.done(first, True)
    assert (tmp_path / "two.tif").exists()
    source.done(second, True)
    assert (tmp_path / "done" / "two.tif").exists()
    assert read_until(source, 0.8) is None  # nothing is read twice
    assert source.files_done == 2 and source.backlog_size() == 0
    source.close()


def test_inbox_waits_for_a_growing_file(tmp_path):
    source = inbox(tmp_path)
    ok, encoded = cv2.imencode(".png", np.random.default_rng(1).integers(0, 255, (120, 160, 3), np.uint8))
    assert ok
    data = encoded.tobytes()
    written = threading.Event()

    def slow_writer():
        with open(tmp_path / "slow.png", "wb") as fh:
            for i in range(0, len(data), len(data) // 8 + 1):
                fh.write(data[i : i + len(data) // 8 + 1])
                fh.flush()
                time.sleep(0.1)
        written.set()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    frame = read_until(source, 5.0)
    done_at = written.is_set()
    writer.join()
    assert frame is not None and done_at, "a file still being written was read"
    assert frame.image.shape == (120, 160, 3)
    source.done(frame, True)
    assert (tmp_path / "done" / "slow.png").exists() and not list((tmp_path / "failed").iterdir())


def test_inbox_ignores_dotfiles_and_partial_files(tmp_path):
    for name in (".hidden.png", "upload.png.part", "scan.tmp"):
        write_png(tmp_path / name, age_s=60)
    source = inbox(tmp_path)
    assert read_until(source, 0.5) is None
    assert source.backlog_size() == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        ".hidden.png",
        "scan.tmp",
        "upload.png.part",
    ]


def test_inbox_corrupt_file_goes_to_failed_with_the_reason(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg at all")
    backdate(tmp_path / "broken.jpg", 10)  # older: read first
    write_png(tmp_path / "good.png", age_s=5)
    source = inbox(tmp_path)
    frame = read_until(source)
    assert frame.item.endswith("good.png")  # the broken file was filed away on the way
    assert (tmp_path / "failed" / "broken.jpg").exists() and not (tmp_path / "broken.jpg").exists()
    note = (tmp_path / "failed" / "broken.jpg.error.txt").read_text()
    assert "broken.jpg" in note and ("not a supported image" in note or "cannot decode" in note)
    assert source.files_failed == 1


def test_inbox_a_failed_page_sends_the_file_to_failed(tmp_path):
    write_tiff(tmp_path / "form.tif", pages=2, age_s=5)
    source = inbox(tmp_path)
    first, second = read_until(source), source.read(0.1)
    source.done(first, False, "engine crashed")
    source.done(second, True)
    assert (tmp_path / "failed" / "form.tif").exists()
    assert "page 1: engine crashed" in (tmp_path / "failed" / "form.tif.error.txt").read_text()


def test_inbox_name_collisions_get_a_suffix(tmp_path):
    (tmp_path / "done").mkdir()
    write_png(tmp_path / "done" / "scan.png", 1)
    write_png(tmp_path / "done" / "scan-1.png", 2)
    source = inbox(tmp_path)
    for value in (50, 60):
        write_png(tmp_path / "scan.png", value, age_s=5)
        frame = read_until(source)
        source.done(frame, True)
    done = tmp_path / "done"
    assert sorted(p.name for p in done.iterdir()) == ["scan-1.png", "scan-2.png", "scan-3.png", "scan.png"]
    assert int(cv2.imread(str(done / "scan.png"))[0, 0, 0]) == 1  # never overwritten
    assert int(cv2.imread(str(done / "scan-3.png"))[0, 0, 0]) == 60
    (tmp_path / "failed" / "bad.png.error.txt").write_text("an older failure")
    (tmp_path / "bad.png").write_bytes(b"junk")
    backdate(tmp_path / "bad.png", 5)
    assert read_until(source, 0.5) is None
    assert (tmp_path / "failed" / "bad-1.png").exists()
    assert (tmp_path / "failed" / "bad.png.error.txt").read_text() == "an older failure"


def test_inbox_restart_resumes_oldest_first_and_never_rereads_done(tmp_path):
    write_png(tmp_path / "zulu.png", 10, age_s=30)  # oldest, though last by name
    write_tiff(tmp_path / "mike.tif", pages=2, age_s=20)
    write_png(tmp_path / "alpha.png", 30, age_s=10)
    first = inbox(tmp_path)
    assert first.backlog_size() == 3
    zulu = read_until(first)
    assert zulu.item.endswith("zulu.png")
    first.done(zulu, True)
    page1 = read_until(first)
    assert page1.item.endswith("mike.tif") and page1.page == 1
    assert first.backlog_size() == 2
    del first  # the process dies half-way through mike.tif: no close(), no done()

    second = inbox(tmp_path)
    frames = [read_until(second) for _ in range(3)]
    read = [(Path(f.item).name, f.page) for f in frames]
    assert read == [("mike.tif", 1), ("mike.tif", 2), ("alpha.png", 1)]
    for f in frames:
        second.done(f, True)
    assert read_until(second, 0.5) is None
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["alpha.png", "mike.tif", "zulu.png"]


def test_inbox_fingerprint_is_the_file_sha256(tmp_path):
    path = write_png(tmp_path / "a.png")
    assert item_fingerprint(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_inbox_missing_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not a folder"):
        InboxSource(settings(kind="inbox", path=str(tmp_path / "absent"))).open()


def test_an_idle_inbox_is_not_a_stall(tmp_path):
    cfg = settings(kind="inbox", path=str(tmp_path), inbox_poll_s=0.05, stall_s=0.1)
    source = ResilientSource(InboxSource(cfg), cfg)
    source.open()
    for _ in range(6):
        assert source.read(0.05) is None
    assert source.stalls == 0 and source.reconnects == 0 and source.up


# ---- resilience ----------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedSource:
    """Our own FrameSource interface, scripted: open fails `open_failures` times; reads follow `reads`."""

    def __init__(self, open_failures: int = 0, reads=None) -> None:
        self.name = "scripted"
        self.open_failures = open_failures
        self.reads = list(reads or [])
        self.opens: list[float] = []
        self.closes = 0
        self.clock: FakeClock | None = None

    def open(self) -> None:
        self.opens.append(self.clock.now if self.clock else time.monotonic())
        if len(self.opens) <= self.open_failures:
            raise SourceError(f"scripted: not there (attempt {len(self.opens)})")

    def read(self, timeout_s: float) -> Frame | None:
        step = self.reads.pop(0) if self.reads else "frame"
        if step == "frame":
            return Frame(np.zeros((2, 2, 3), np.uint8), self.name, 0, 0)
        if step == "error":
            raise SourceError("scripted: read failed")
        if step == "end":
            raise EndOfSource(self.name)
        return None

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        pass

    def close(self) -> None:
        self.closes += 1


def test_resilient_reopens_with_exponential_backoff():
    clock = FakeClock()
    inner = ScriptedSource(open_failures=5)
    inner.clock = clock
    cfg = settings(reopen_min_s=1.0, reopen_max_s=4.0, stall_s=100)
    source = ResilientSource(inner, cfg, clock=clock)
    source.open()  # fails; never raises
    assert not source.up and source.errors == 1 and "attempt 1" in source.last_error
    frame = None
    while frame is None:
        frame = source.read(0.0)
        clock.now += 0.25
    gaps = [b - a for a, b in zip(inner.opens, inner.opens[1:])]
    assert gaps == [1.0, 2.0, 4.0, 4.0, 4.0]  # doubling, capped at reopen_max_s
    assert source.errors == 5 and source.reconnects == 1 and source.up
    # once frames flow the backoff starts again from reopen_min_s
    inner.reads = ["error"]
    assert source.read(0.0) is None and source.errors == 6
    clock.now += 1.0
    assert source.read(0.0) is not None and source.reconnects == 2


def test_resilient_read_errors_reopen_and_end_passes_through():
    inner = ScriptedSource(reads=["frame", "error", "frame", "end"])
    cfg = settings(reopen_min_s=0.05, reopen_max_s=0.1)
    source = ResilientSource(inner, cfg)
    source.open()
    assert source.read(0.1) is not None
    assert source.read(0.01) is None and not source.up and inner.closes == 1
    assert read_until(source, 1.0) is not None and source.reconnects == 1
    with pytest.raises(EndOfSource):
        source.read(0.1)


def test_resilient_stall_reopens_and_counts():
    clock = FakeClock()
    inner = ScriptedSource(reads=["frame", "none", "none", "none", "frame"])
    inner.clock = clock
    cfg = settings(stall_s=10.0, reopen_min_s=1.0, reopen_max_s=8.0)
    source = ResilientSource(inner, cfg, clock=clock)
    source.open()
    assert source.read(0.0) is not None
    clock.now += 5
    assert source.read(0.0) is None and source.stalls == 0
    clock.now += 6
    assert source.read(0.0) is None
    assert source.stalls == 1 and source.errors == 0 and not source.up and inner.closes == 1
    assert "no frame for 11.0 s" in source.last_error
    clock.now += 1.0
    assert source.read(0.0) is None  # reopened; this read found nothing yet
    assert source.reconnects == 1 and source.up
    assert source.read(0.0) is not None
    assert source.stats().stalls == 1


# ---- cameras and streams -------------------------------------------------------------------------------


def test_v4l2_missing_device_is_clear_and_retried():
    for device, shown in (("/dev/video97", "/dev/video97"), ("57", "/dev/video57")):
        with pytest.raises(SourceError, match=f"{shown} does not exist.*unplugged"):
            OpenCVSource(settings(kind="v4l2", device=device)).open()
    cfg = settings(kind="v4l2", device="/dev/video97", reopen_min_s=0.05, reopen_max_s=0.1)
    source = ResilientSource(make_source(cfg), cfg)
    source.open()
    for _ in range(8):
        assert source.read(0.05) is None
    assert source.errors >= 3 and source.reconnects == 0 and not source.up
    assert source.last_error.startswith("v4l2:/dev/video97: /dev/video97 does not exist")


def test_url_to_a_closed_port_fails_fast_without_the_password():
    url = f"rtsp://viewer:s3cret@127.0.0.1:{free_port()}/x"
    source = OpenCVSource(settings(kind="url", url=url))
    assert "s3cret" not in source.name and "viewer:***@" in source.name
    start = time.monotonic()
    with pytest.raises(SourceError, match="cannot open the stream") as err:
        source.open()
    assert time.monotonic() - start < 4.0
    assert "s3cret" not in str(err.value)


def test_url_to_a_silent_server_times_out():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)  # accepts the connection, never answers
        url = f"rtsp://127.0.0.1:{server.getsockname()[1]}/x"
        source = OpenCVSource(settings(kind="url", url=url), open_timeout_s=1.0)
        start = time.monotonic()
        with pytest.raises(SourceError, match="within 1 s"):
            source.open()
        assert time.monotonic() - start < 4.0


class PacedVideoHandler(BaseHTTPRequestHandler):
    """Serves a video file at about a camera's pace (a live HTTP stream that ends)."""

    video = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "video/x-msvideo")
        self.send_header("Content-Length", str(len(self.video)))
        self.end_headers()
        step = len(self.video) // 20 + 1
        for i in range(0, len(self.video), step):
            self.wfile.write(self.video[i : i + step])
            self.wfile.flush()
            time.sleep(0.03)

    def log_message(self, *args) -> None:
        pass


def test_url_stream_over_http_reads_on_the_capture_thread(tmp_path):
    video = make_video(tmp_path / "cam.avi", frames=40).read_bytes()
    handler = type("Handler", (PacedVideoHandler,), {"video": video})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cam.avi"
        source = OpenCVSource(settings(kind="url", url=url))
        source.open()
        frame = source.read(3.0)
        assert frame is not None and frame.image.shape == (48, 64, 3) and frame.source == f"url:{url}"
        later = source.read(3.0)
        assert later is not None and later.index > frame.index
        with pytest.raises(SourceError, match="stream ended"):  # a finished stream is a dropped camera
            for _ in range(20):
                source.read(3.0)
        source.close()
    finally:
        server.shutdown()
        server.server_close()


def test_grabber_hands_out_the_newest_frame_only():
    count = {"n": 0}
    released = []

    def capture(want: bool):
        time.sleep(0.004)  # a 250 fps camera
        count["n"] += 1
        return np.full((4, 4, 3), count["n"] % 256, np.uint8) if want else None

    grabber = LatestFrameGrabber("fake", capture, lambda: released.append(threading.current_thread().name))
    grabber.start()
    image, first, _ = grabber.read(1.0)
    time.sleep(0.15)  # a slow daemon: the camera keeps going, nothing queues up
    image, second, _ = grabber.read(1.0)
    assert second - first > 3  # frames in between were skipped, not queued
    assert int(image[0, 0, 0]) == (second + 1) % 256  # the frame grabbed last, not a stale one
    grabber.stop()
    assert released == ["capture fake"]  # released on the capture thread itself


def test_grabber_a_frame_asked_for_by_a_timed_out_read_is_not_wasted():
    def slow_capture(want: bool):  # a still capture with an autofocus cycle: 0.3 s a frame
        time.sleep(0.3)
        return np.zeros((2, 2, 3), np.uint8) if want else None

    grabber = LatestFrameGrabber("slow", slow_capture, lambda: None, continuous=False)
    grabber.start()
    assert grabber.read(0.05) is None
    time.sleep(0.4)  # the frame arrives while nobody waits
    start = time.monotonic()
    assert grabber.read(0.05) is not None
    assert time.monotonic() - start < 0.05
    grabber.stop()


def test_resilient_close_ends_reading():
    inner = ScriptedSource()
    source = ResilientSource(inner, settings(reopen_min_s=0.05))
    source.open()
    assert source.read(0.1) is not None
    source.close()
    assert source.read(0.1) is None and inner.closes == 1 and len(inner.opens) == 1 and not source.up
    assert source.errors == 0


def test_gstreamer_without_support_says_so():
    if cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
        pytest.skip("this OpenCV has GStreamer")
    pipeline = "videotestsrc ! videoconvert ! appsink"
    with pytest.raises(SourceError, match="no GStreamer support"):
        OpenCVSource(settings(kind="gstreamer", pipeline=pipeline)).open()
    with pytest.raises(SourceError, match="appsink"):
        OpenCVSource(settings(kind="gstreamer", pipeline="videotestsrc ! fakesink")).open()


def test_make_source_maps_every_kind(tmp_path):
    """Every configurable kind gets a source class that reads that kind (each names itself after it)."""
    classes = (PiCameraSource, OpenCVSource, ImagesSource, InboxSource)
    for kind, row in SOURCE_KINDS.items():
        has_path = "path" in {f.name for f in dataclasses.fields(row.settings)}
        source = make_source(settings(kind, **({"path": str(tmp_path)} if has_path else {})))
        assert isinstance(source, classes) and source.name.startswith(f"{kind}:"), (kind, source)
    with pytest.raises(ConfigError, match="'webcam' is not one of"):
        make_source(VideoSettings(kind="webcam"))


# ---- picamera2 (the only fake: the camera library itself) -----------------------------------------------


class FakePicamera2:
    """The slice of picamera2's Picamera2 that the source uses; records every call."""

    instances: ClassVar[list[FakePicamera2]] = []
    fail_open: Exception | None = None
    has_af = True
    channels = 3

    def __init__(self, camera_num: int = 0) -> None:
        if FakePicamera2.fail_open is not None:
            raise FakePicamera2.fail_open
        self.calls: list[tuple] = [("init", camera_num)]
        self.camera_controls = {"ExposureTime": (1, 1000000, None), "AeEnable": (False, True, True)}
        if FakePicamera2.has_af:
            self.camera_controls |= {"AfMode": (0, 2, 0), "LensPosition": (0.0, 15.0, 1.0)}
        self.capture_error: Exception | None = None
        FakePicamera2.instances.append(self)

    def create_video_configuration(self, main):
        self.calls.append(("video_configuration", main))
        return {"use_case": "video", "main": main}

    def create_still_configuration(self, main):
        self.calls.append(("still_configuration", main))
        return {"use_case": "still", "main": main}

    def configure(self, config) -> None:
        self.calls.append(("configure", config["use_case"]))

    def set_controls(self, controls) -> None:
        self.calls.append(("set_controls", dict(controls)))

    def start(self) -> None:
        self.calls.append(("start",))

    def autofocus_cycle(self) -> bool:
        self.calls.append(("autofocus_cycle",))
        return True

    def capture_array(self, name: str = "main") -> np.ndarray:
        self.calls.append(("capture_array", name))
        if self.capture_error is not None:
            raise self.capture_error
        pixels = np.zeros((6, 8, FakePicamera2.channels), np.uint8)  # "RGB888" memory order: B, G, R
        pixels[..., 0] = 255  # pure blue
        if FakePicamera2.channels == 4:
            pixels[..., 3] = 255
        return pixels

    def stop(self) -> None:
        self.calls.append(("stop",))

    def close(self) -> None:
        self.calls.append(("close",))


@pytest.fixture
def fake_picamera2(monkeypatch):
    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2
    monkeypatch.setitem(sys.modules, "picamera2", module)
    FakePicamera2.instances = []
    FakePicamera2.fail_open = None
    FakePicamera2.has_af = True
    FakePicamera2.channels = 3
    return FakePicamera2


def names(camera: FakePicamera2) -> list[str]:
    return [c[0] for c in camera.calls]


def test_picamera_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes the import fail as on a PC
    with pytest.raises(SourceError) as err:
        PiCameraSource(settings(kind="picamera2")).open()
    assert str(err.value) == NOT_INSTALLED
    assert "sudo apt install python3-picamera2" in NOT_INSTALLED and "--system-site-packages" in NOT_INSTALLED


def test_picamera_video_configuration_with_continuous_focus(fake_picamera2):
    source = PiCameraSource(settings(kind="picamera2", width=1280, height=720, fps=15.0))
    source.open()
    frame = source.read(1.0)
    source.close()
    camera = fake_picamera2.instances[0]
    assert camera.calls[:5] == [
        ("init", 0),
        ("video_configuration", {"format": "RGB888", "size": (1280, 720)}),
        ("configure", "video"),
        ("set_controls", {"FrameRate": 15.0, "AfMode": 2}),
        ("start",),
    ]
    assert frame.source == "picamera2:0" and frame.index == 0 and frame.image.shape == (6, 8, 3)
    assert frame.image[0, 0].tolist() == [255, 0, 0]  # blue stays in channel 0: BGR as OpenCV wants
    assert "autofocus_cycle" not in names(camera)
    assert names(camera)[-2:] == ["stop", "close"]


def test_picamera_still_fixed_exposure_manual_focus(fake_picamera2):
    cfg = settings(kind="picamera2", still=True, exposure_us=4000, autofocus="manual", lens_position=2.5)
    source = PiCameraSource(cfg)
    source.open()
    source.read(1.0)
    source.close()
    camera = fake_picamera2.instances[0]
    assert ("still_configuration", {"format": "RGB888"}) in camera.calls
    assert ("configure", "still") in camera.calls
    controls = next(c[1] for c in camera.calls if c[0] == "set_controls")
    assert controls == {"ExposureTime": 4000, "AeEnable": False, "AfMode": 0, "LensPosition": 2.5}


def test_picamera_auto_focus_cycles_before_each_capture(fake_picamera2):
    fake_picamera2.channels = 4  # an XRGB8888 configuration: the padding byte is dropped
    source = PiCameraSource(settings(kind="picamera2", autofocus="auto"))
    source.open()
    frames = [source.read(1.0) for _ in range(2)]
    source.close()
    camera = fake_picamera2.instances[0]
    captures = [n for n in names(camera) if n in ("autofocus_cycle", "capture_array")]
    assert captures == ["autofocus_cycle", "capture_array"] * 2  # only frames asked for are taken
    assert ("set_controls", {"AfMode": 1}) in camera.calls
    assert [f.index for f in frames] == [0, 1] and frames[1].image.shape == (6, 8, 3)


def test_picamera_without_autofocus_sets_no_focus_controls(fake_picamera2):
    fake_picamera2.has_af = False
    source = PiCameraSource(settings(kind="picamera2", autofocus="auto"))
    source.open()
    source.read(1.0)
    source.close()
    camera = fake_picamera2.instances[0]
    assert "set_controls" not in names(camera) and "autofocus_cycle" not in names(camera)


def test_picamera_errors_become_source_errors(fake_picamera2):
    fake_picamera2.fail_open = IndexError("list index out of range")  # what picamera2 does with no camera
    with pytest.raises(SourceError, match="cannot start the camera: list index out of range"):
        PiCameraSource(settings(kind="picamera2")).open()
    fake_picamera2.fail_open = None
    cfg = settings(kind="picamera2", reopen_min_s=0.05, reopen_max_s=0.1)
    source = ResilientSource(PiCameraSource(cfg), cfg)
    source.open()
    assert source.read(1.0) is not None
    fake_picamera2.instances[0].capture_error = RuntimeError("Camera frontend has timed out!")
    assert source.read(1.0) is None
    assert source.errors == 1 and "Camera frontend has timed out" in source.last_error
    assert names(fake_picamera2.instances[0])[-2:] == ["stop", "close"]  # given back before the retry
    assert read_until(source, 2.0) is not None and source.reconnects == 1
    source.close()
    with pytest.raises(ConfigError, match="autofocus"):
        PiCameraSource(settings(kind="picamera2", autofocus="macro"))


def test_every_kind_in_the_one_table_has_its_own_settings_and_a_source_class():
    """config.kinds.SOURCE_KINDS is the only list of kinds: each row's settings carry its name and
    traits, and its factory imports to a class."""
    import importlib

    for name, row in SOURCE_KINDS.items():
        made = row.settings()
        assert made.kind == name
        module, _, cls = row.factory.partition(":")
        assert isinstance(getattr(importlib.import_module(module), cls), type)
        assert not (made.live and made.document), name
    assert source_settings("video", realtime=False).live is False
    assert source_settings("images", loop=True).document is False


def test_inbox_waits_for_a_writer_that_pauses_longer_than_the_settle_time(tmp_path):
    """Half a JPEG, a pause well past the settle time with the file still open for writing, then the
    rest: the file is taken only after the writer closes it, and read whole (it once went to failed/)."""
    from edge_ocr.sources.inbox import open_for_writing

    _, data = cv2.imencode(".jpg", np.full((200, 300, 3), 128, np.uint8))
    data = data.tobytes()
    source = inbox(tmp_path)
    path = tmp_path / "slow.jpg"
    with path.open("wb") as writer:
        writer.write(data[: len(data) // 2])
        writer.flush()
        assert open_for_writing(path)
        polls = source._last_poll
        # the inbox has looked at the file, stable, for more than its settle time (0.3 s)
        assert wait_until(lambda: source.read(0.05) is None and source._last_poll > polls, 5)
        time.sleep(source.settle_s + 0.2)  # the condition under test is the passage of time itself
        assert source.read(0.2) is None and path.exists()
        writer.write(data[len(data) // 2 :])
    assert not open_for_writing(path)
    frame = read_until(source)
    assert frame.item == str(path) and frame.image.shape[:2] == (200, 300)
    source.done(frame, True)
    assert (tmp_path / "done" / "slow.jpg").exists() and not list((tmp_path / "failed").iterdir())
    source.close()
