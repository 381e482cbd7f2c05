"""`edge-ocr run`, the daemon, end to end: a child process on the shipped models, reading rendered labels
from real videos, folders and an inbox, storing into its SQLite file and publishing to a real mosquitto.

Signals are real (SIGTERM for a clean stop, SIGKILL for a crash), the systemd notify socket is a Unix
socket bound here, and what the daemon stored is read back from its database and with `edge-ocr search`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edge_ocr.cli.run import EXIT_CONFIG
from tests.broker import Broker, Recorder, broker_available
from tests.daemon_helpers import (
    DEVICE,
    PREFIX,
    START_S,
    STATUS_LINE,
    DaemonProcess,
    NotifySocket,
    cli,
    index_of,
    label,
    mqtt_section,
    normalised,
    outbox_by_scan,
    query,
    scan_ids_published,
    scans,
    scene,
    two_page_pdf,
    wait_until,
    write_config,
    write_image,
    write_video,
)
from tests.publish_helpers import unsent

NO_BROKER = broker_available()
needs_broker = pytest.mark.skipif(NO_BROKER is not None, reason=NO_BROKER or "")

DEVICE_TOPICS = f"{PREFIX}/{DEVICE}/#"
SCAN_TOPIC = f"{PREFIX}/{DEVICE}/scan"
CODE_TOPIC = f"{PREFIX}/{DEVICE}/code"
STATUS_TOPIC = f"{PREFIX}/{DEVICE}/status"

VALVE = ["VALVE HOUSE 12", "LOT K7-3310"]
VALVE_QR = "https://assets.example/VH12"
TANK = ["TANK FARM 4", "SN 88-QX-201"]
READ_S = 90.0  # a few frames through OCR on a loaded 2-core machine


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Daemons, brokers and recorders a test opens are stopped even when it fails."""
    with contextlib.ExitStack() as stack:
        yield stack


def start_daemon(stack: contextlib.ExitStack, config: Path | None, state: Path, **kw) -> DaemonProcess:
    """A started daemon that is killed at the end of the test if it is still running."""
    daemon = DaemonProcess(config, state, **kw)
    stack.callback(daemon.close)
    return daemon.start()


def started_broker(stack: contextlib.ExitStack) -> Broker:
    """A mosquitto on a free loopback port, closed at the end of the test."""
    broker = Broker()
    stack.callback(broker.close)
    return broker.start()


def recorder(stack: contextlib.ExitStack, broker: Broker, topics: str = DEVICE_TOPICS) -> Recorder:
    """A persistent-session subscriber, so nothing published while it reconnects is lost."""
    rec = Recorder.for_broker(broker, [topics])
    stack.callback(rec.stop)
    return rec.start()


def retained(broker: Broker, topic: str) -> list[bytes]:
    """What a newcomer gets on the topic at once: the retained message (if any)."""
    with Recorder.for_broker(broker, [topic], persistent=False) as fresh:
        fresh.wait_count(1, topic, timeout=2.0)
        return [m.payload for m in fresh.messages(topic) if m.retain]


def read_text(found: list, wanted: list[str]) -> list:
    """The stored scans whose text contains every wanted line (as printed, case and spaces aside)."""
    return [s for s in found if all(normalised(w) in normalised(s.text) for w in wanted)]


# ---- 1. a video to MQTT, a clean stop, and the store searched afterwards ---------------------------------


@needs_broker
def test_video_results_reach_mqtt_and_sigterm_stops_cleanly(tmp_path: Path, stack: contextlib.ExitStack):
    broker = started_broker(stack)
    rec = recorder(stack, broker)
    valve, tank = label(VALVE, qr=VALVE_QR), label(TANK)
    video = write_video(tmp_path / "belt.avi", [scene(valve)] * 8 + [scene(tank)] * 8, fps=8)
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": str(video), "loop": True},
        mqtt=mqtt_section(broker.port),
    )
    state = tmp_path / "state"
    daemon = start_daemon(stack, config, state)
    daemon.wait_ready()

    def scan_with(lines: list[str]) -> bool:
        return any(
            all(normalised(w) in normalised(p.get("text", "")) for w in lines)
            for p in rec.payloads_json(SCAN_TOPIC)
        )

    assert rec.wait_for(lambda _: scan_with(VALVE) and scan_with(TANK), READ_S), rec.payloads_json(SCAN_TOPIC)
    assert rec.wait_count(1, CODE_TOPIC, timeout=10)
    code = rec.payloads_json(CODE_TOPIC)[0]
    assert code["symbology"] == "QRCode" and code["text"] == VALVE_QR and code["device"] == DEVICE
    scan = next(p for p in rec.payloads_json(SCAN_TOPIC) if normalised(VALVE[0]) in normalised(p["text"]))
    assert scan["device"] == DEVICE and scan["source"] == f"video:{video}"
    assert [c["text"] for c in scan["codes"]] == [VALVE_QR]
    assert retained(broker, STATUS_TOPIC) == [b"online"]

    daemon.wait_status(lambda s: s.get("mqtt_connected"), 10)
    running = cli("status", "--state-dir", str(state))
    assert running.returncode == 0, running.stdout + running.stderr
    assert "running" in running.stdout and f"video:{video}" in running.stdout

    rc, took = daemon.terminate()
    assert rc == 0, daemon.log()[-3000:]
    assert took < 10, f"SIGTERM took {took:.1f} s"

    def states() -> list[bytes]:
        return [m.payload for m in rec.messages(STATUS_TOPIC)]

    assert rec.wait_for(lambda _: states()[-1:] == [b"offline"], 10), states()
    assert states()[0] == b"online", states()
    assert retained(broker, STATUS_TOPIC) == [b"offline"]
    # The frame in hand at SIGTERM was stored and, the broker being up, sent before `offline`.
    assert unsent(state) == 0, daemon.log()[-3000:]

    stopped = cli("status", "--state-dir", str(state))
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    assert "NOT RUNNING" in stopped.stdout
    found = cli("search", "--state-dir", str(state), "--format", "json", "valve", "house")
    assert found.returncode == 0, found.stdout + found.stderr
    assert [hit["text"] for hit in json.loads(found.stdout)] == [VALVE[0]]
    codes = cli("search", "--state-dir", str(state), "--format", "json", "--codes", "assets")
    assert codes.returncode == 0, codes.stdout + codes.stderr
    assert [(hit["symbology"], hit["text"]) for hit in json.loads(codes.stdout)] == [("QRCode", VALVE_QR)]
    # The label passed the camera many times in the loop; it is one scan, counted, not one per pass.
    assert len(read_text(scans(state), VALVE)) == 1


# ---- 2. the inbox survives a SIGKILL: nothing lost, nothing stored twice, everything published ----------


@needs_broker
def test_inbox_resumes_after_sigkill_without_loss_or_duplicates(tmp_path: Path, stack: contextlib.ExitStack):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    texts = {
        "a-dock.png": ["DOCK 12B", "BAY 4"],
        "b-meter.jpg": ["METER 5521", "READ 0931"],
        "d-crate.png": ["CRATE 77-K", "ZONE C"],
        "f-drum.png": ["DRUM 3309", "GRADE A2"],
    }
    pdf_pages = [["FORM 1 OF 2", "INVOICE 7781"], ["FORM 2 OF 2", "TOTAL 4410"]]
    files: list[Path] = []
    for name, lines in texts.items():
        files.append(write_image(inbox / name, label(lines)))
    pdf = two_page_pdf(inbox / "c-form.pdf", label(pdf_pages[0]), label(pdf_pages[1]))
    broken = inbox / "e-broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" + bytes(range(256)) * 4)
    files += [pdf, broken]
    # Oldest first is the inbox's order: a, b, c (the PDF), d, e (broken), f; all settled long ago.
    for i, path in enumerate(sorted(files)):
        os.utime(path, (time.time() - 600 + i, time.time() - 600 + i))
    fingerprints = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    broker = started_broker(stack)
    rec = recorder(stack, broker, SCAN_TOPIC)
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "inbox", "path": str(inbox), "inbox_poll_s": 0.2},
        mqtt=mqtt_section(broker.port),
    )
    state = tmp_path / "state"
    first = start_daemon(stack, config, state, name="first")
    first.wait_ready()

    # Kill it the moment the PDF's first page is committed: its second page is then being read.
    def pdf_page_one_stored() -> bool:
        return any(s.source == "inbox:c-form.pdf" and s.page == 1 for s in scans(state))

    assert wait_until(pdf_page_one_stored, READ_S, 0.02), first.log()[-3000:]
    first.kill()
    assert pdf.exists(), "the PDF was filed away before the kill: the test missed the half-read file"
    before = {s.id: s for s in scans(state)}
    outbox_before = outbox_by_scan(state)
    assert {s.source for s in before.values()} >= {"inbox:a-dock.png", "inbox:b-meter.jpg"}

    second = start_daemon(stack, config, state, name="second")
    second.wait_ready()
    done, failed = inbox / "done", inbox / "failed"

    def all_filed() -> bool:
        return len(list(done.iterdir())) == 5 and (failed / "e-broken.jpg").exists()

    assert wait_until(all_filed, READ_S, 0.2), second.log()[-3000:]
    after = scans(state)
    assert wait_until(lambda: scan_ids_published(rec, SCAN_TOPIC) >= {s.id for s in after}, 30), (
        sorted(scan_ids_published(rec, SCAN_TOPIC)),
        [s.id for s in after],
    )
    rc, _ = second.terminate()
    assert rc == 0, second.log()[-3000:]
    status = second.status()  # written on the way out

    # Every file filed away: the good ones in done/, the broken one in failed/ with the reason.
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == []
    assert sorted(p.name for p in done.iterdir()) == sorted(p.name for p in files if p != broken)
    note = (failed / "e-broken.jpg.error.txt").read_text()  # filed by whichever run reached it
    assert "e-broken.jpg" in note
    # Each page of each file stored exactly once (the PDF's page 1 was not read again).
    pages = sorted((s.fingerprint, s.page) for s in after)
    expected = sorted(
        [(fingerprints[name], 1) for name in texts]
        + [(fingerprints["c-form.pdf"], 1), (fingerprints["c-form.pdf"], 2)]
    )
    assert pages == expected, [(s.source, s.page) for s in after]
    assert status["frames"]["skipped_already_stored"] >= 1, status["frames"]
    for s in after:
        lines = texts.get(s.source.removeprefix("inbox:")) or pdf_pages[s.page - 1]
        assert read_text([s], lines), (s.source, s.page, s.text)
        assert s.status == "ok"
    # What was stored before the kill is still there, with the same ids and outbox rows.
    assert {s.id: s for s in after if s.id in before} == before
    outbox_after = outbox_by_scan(state)
    assert all(outbox_after[i] == outbox_before[i] for i in before)
    assert all(outbox_after.get(s.id) for s in after)


# ---- 3. a source that disappears and comes back --------------------------------------------------------


def test_video_that_vanishes_and_returns_is_reopened(tmp_path: Path, stack: contextlib.ExitStack):
    video = write_video(tmp_path / "cam.avi", [scene(label(TANK))] * 6, fps=6)
    aside = tmp_path / "cam.avi.moved"
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": str(video), "loop": True, "reopen_min_s": 0.2, "reopen_max_s": 1.0},
    )
    daemon = start_daemon(stack, config, tmp_path / "state")
    daemon.wait_ready()
    daemon.wait_status(lambda s: s["frames"]["captured"] >= 3, 30)

    video.rename(aside)  # the next loop reopens the file: it is not there
    gone = daemon.wait_status(lambda s: "does not exist" in (s["source"]["last_error"] or ""), 30)
    assert daemon.running()
    assert gone["source"]["reconnects"] == 0
    time.sleep(1.5)  # a while with the file gone: no frames, and the daemon stays up
    down = daemon.status()
    assert daemon.running() and down["frames"]["captured"] == gone["frames"]["captured"]

    aside.rename(video)
    back = daemon.wait_status(
        lambda s: s["source"]["reconnects"] >= 1 and s["frames"]["captured"] > down["frames"]["captured"], 30
    )
    assert back["source"]["reconnects"] >= 1
    shown = cli("status", "--state-dir", str(daemon.state_dir))
    assert shown.returncode == 0 and re.search(r"[1-9]\d* reconnects", shown.stdout), shown.stdout
    rc, _ = daemon.terminate()
    assert rc == 0, daemon.log()[-3000:]
    assert len(read_text(scans(daemon.state_dir), TANK)) == 1


def test_missing_camera_is_waited_for_and_status_says_why(tmp_path: Path, stack: contextlib.ExitStack):
    camera = tmp_path / "video7"  # a V4L2 device that is not plugged in
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "v4l2", "device": str(camera), "reopen_min_s": 0.2, "reopen_max_s": 1.0},
    )
    daemon = start_daemon(stack, config, tmp_path / "state")
    waiting = daemon.wait_status(lambda s: "does not exist" in (s["source"]["last_error"] or ""), START_S)
    assert waiting["frames"]["captured"] == 0 and waiting["pid"] == daemon.pid
    time.sleep(1.5)  # it keeps trying and stays up
    assert daemon.running() and "edge_ocr.daemon: ready:" not in daemon.log()
    shown = cli("status", "--state-dir", str(daemon.state_dir))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "running" in shown.stdout and f"{camera} does not exist" in shown.stdout, shown.stdout
    rc, took = daemon.terminate()
    assert rc == 0 and took < 10, (rc, took, daemon.log()[-3000:])


# ---- 4. the systemd notify protocol --------------------------------------------------------------------


def test_systemd_notify_ready_watchdog_status_stopping(tmp_path: Path, stack: contextlib.ExitStack):
    notify = NotifySocket()
    stack.callback(notify.close)
    video = tmp_path / "later.avi"  # not there yet: READY=1 must wait for it
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": str(video), "loop": True, "reopen_min_s": 0.2, "reopen_max_s": 1.0},
    )
    daemon = start_daemon(
        stack, config, tmp_path / "state", env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "5000000"}
    )

    def waiting(msgs: list[dict[str, str]]) -> bool:
        return any(
            "waiting for the source" in m.get("STATUS", "") and "EXTEND_TIMEOUT_USEC" in m for m in msgs
        )

    assert notify.wait_for(waiting, START_S), (notify.snapshot(), daemon.log())
    assert "models loaded" in daemon.log()  # the models come first, then the wait for the source
    time.sleep(1.5)  # it keeps waiting, and says so, without claiming to be ready
    msgs = notify.snapshot()
    assert index_of(msgs, "READY") == -1 and index_of(msgs, "WATCHDOG") == -1, msgs
    assert sum(waiting([m]) for m in msgs) >= 2, msgs

    write_video(video, [scene(label(VALVE, qr=VALVE_QR))] * 6, fps=6)
    assert notify.wait_for(lambda m: index_of(m, "READY", "1") >= 0, 30), notify.snapshot()
    log_at_ready = daemon.log()  # logged before READY=1 was sent: the models, then the source opening
    assert "models loaded" in log_at_ready and f"{video}: reconnected" in log_at_ready, log_at_ready
    ready = index_of(notify.snapshot(), "READY", "1")

    def running_well(m: list[dict[str, str]]) -> bool:
        after = m[ready + 1 :]
        pings = sum(x.get("WATCHDOG") == "1" for x in after)
        return pings >= 3 and any(re.search(r"outbox \d+", x.get("STATUS", "")) for x in after)

    assert notify.wait_for(running_well, 30), notify.snapshot()
    rc, _ = daemon.terminate()
    assert rc == 0, daemon.log()[-3000:]
    assert notify.wait_for(lambda m: index_of(m, "STOPPING", "1") >= 0, 5), notify.snapshot()

    msgs = notify.snapshot()
    ready, stopping = index_of(msgs, "READY", "1"), index_of(msgs, "STOPPING", "1")
    assert 0 <= ready < stopping
    assert STATUS_LINE.match(msgs[ready]["STATUS"]), msgs[ready]
    assert index_of(msgs, "WATCHDOG") > ready and index_of(msgs, "WATCHDOG", start=stopping) == -1, msgs
    statuses = [m["STATUS"] for m in msgs[ready + 1 : stopping] if "STATUS" in m]
    assert statuses and all(STATUS_LINE.match(s) for s in statuses), statuses


# ---- 5. the gate: a label lying under the camera, a blurred frame, a new label -------------------------


@pytest.mark.slow
@needs_broker
def test_gate_suppresses_a_static_label_skips_blur_and_keeps_a_new_label(
    tmp_path: Path, stack: contextlib.ExitStack
):
    valve, tank = label(VALVE, qr=VALVE_QR), label(TANK)
    frames = [scene(valve, noise=2.0, seed=i) for i in range(20)]  # lying still: sensor noise only
    frames += [scene(valve, at=(52, 72), noise=2.0, seed=20 + i) for i in range(20)]  # nudged
    frames += [cv2.GaussianBlur(scene(valve, at=(52, 72)), (0, 0), 6)] * 3  # the camera shaken
    frames += [scene(tank, noise=2.0, seed=50 + i) for i in range(12)]  # the next label
    video = write_video(tmp_path / "desk.avi", frames, fps=15)
    broker = started_broker(stack)
    rec = recorder(stack, broker, SCAN_TOPIC)
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": str(video), "loop": False},  # real time: ends with the video
        mqtt=mqtt_section(broker.port),
    )
    state = tmp_path / "state"
    daemon = start_daemon(stack, config, state)
    assert daemon.wait_exit(START_S + READ_S) == 0, daemon.log()[-3000:]

    found = scans(state)
    valves, tanks = read_text(found, VALVE), read_text(found, TANK)
    assert len(valves) == 1 and len(tanks) == 1, [(s.id, s.text, s.codes) for s in found]
    assert valves[0].seen_count > 1 and valves[0].codes == (VALVE_QR,)
    status = daemon.status()
    gate, frames_ = status["gate"], status["frames"]
    assert gate.get("blurred", 0) >= 1 and gate.get("unchanged", 0) >= 30, gate
    assert frames_["repeats"] >= 1 and frames_["captured"] == len(frames), frames_
    assert query(state, "SELECT count(*) FROM outbox WHERE sent_ms IS NULL") == [(0,)]
    assert wait_until(lambda: len(rec.messages(SCAN_TOPIC)) >= len(found), 10)
    published = [p["scan_id"] for p in rec.payloads_json(SCAN_TOPIC)]
    assert published.count(valves[0].id) == 1 and published.count(tanks[0].id) == 1, published


# ---- 6. a file that cannot be read does not stop the others -------------------------------------------


@needs_broker
def test_unreadable_file_is_recorded_and_the_rest_is_read(tmp_path: Path, stack: contextlib.ExitStack):
    folder = tmp_path / "scans"
    folder.mkdir()
    write_image(folder / "1-valve.png", label(VALVE))
    (folder / "2-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)  # a header and nothing else
    write_image(folder / "3-tank.png", label(TANK))
    broker = started_broker(stack)
    rec = recorder(stack, broker, SCAN_TOPIC)
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "images", "path": str(folder)},
        mqtt=mqtt_section(broker.port),
    )
    daemon = start_daemon(stack, config, tmp_path / "state")
    assert daemon.wait_exit(START_S + READ_S) == 0, daemon.log()[-3000:]

    found = scans(daemon.state_dir)
    assert len(read_text(found, VALVE)) == 1 and len(read_text(found, TANK)) == 1, found
    assert [s.source for s in found] == ["images:1-valve.png", "images:3-tank.png"]
    # The folder is done and the broker was up: all of it was published before the daemon exited.
    assert query(daemon.state_dir, "SELECT count(*) FROM outbox WHERE sent_ms IS NULL") == [(0,)]
    assert rec.wait_for(lambda _: scan_ids_published(rec, SCAN_TOPIC) == {s.id for s in found}, 10)
    assert "2-broken.png" in daemon.log()
    status = daemon.status()
    assert status["source"]["files_failed"] == 1, status["source"]
    assert "2-broken.png" in (status["source"]["file_error"] or ""), status["source"]
    shown = cli("status", "--state-dir", str(daemon.state_dir))
    assert shown.returncode == 3 and "2-broken.png" in shown.stdout, shown.stdout


def test_the_same_content_under_a_second_name_is_named_not_silently_dropped(
    tmp_path: Path, stack: contextlib.ExitStack
):
    """An inbox file whose bytes were stored before under another name: not stored twice, but the log
    names the earlier scan and its source, and status counts it (it once looked like a read)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = write_image(inbox / "a-valve.png", label(VALVE))
    os.utime(first, (time.time() - 600, time.time() - 600))
    config = write_config(
        tmp_path / "config.toml", source={"kind": "inbox", "path": str(inbox), "inbox_poll_s": 0.1}
    )
    daemon = start_daemon(stack, config, tmp_path / "state")
    daemon.wait_ready()
    assert wait_until(lambda: (inbox / "done" / "a-valve.png").exists(), READ_S), daemon.log()[-3000:]
    copy = inbox / "b-again.png"
    copy.write_bytes((inbox / "done" / "a-valve.png").read_bytes())
    os.utime(copy, (time.time() - 600, time.time() - 600))
    assert wait_until(lambda: (inbox / "done" / "b-again.png").exists(), READ_S), daemon.log()[-3000:]
    assert wait_until(lambda: "same content" in daemon.log(), 10), daemon.log()[-3000:]
    rc, _ = daemon.terminate()
    assert rc == 0
    assert [s.source for s in scans(daemon.state_dir)] == ["inbox:a-valve.png"]
    line = next(ln for ln in daemon.log().splitlines() if "same content" in ln)
    assert "inbox:b-again.png page 1" in line and "as scan #1 from inbox:a-valve.png" in line, line
    frames = daemon.status()["frames"]
    assert frames["duplicates"] == 1 and frames["skipped_already_stored"] == 1, frames


# ---- 7. configuration errors ---------------------------------------------------------------------------


def test_bad_config_key_is_named_by_check_and_by_run(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text('[gate]\ntrigerr = "interval"\n')
    checked = cli("config", "check", str(config))
    assert checked.returncode == 2, checked.stdout + checked.stderr
    assert "trigerr" in checked.stderr and "'trigger'" in checked.stderr and str(config) in checked.stderr
    run = cli("run", "--config", str(config), "--state-dir", str(tmp_path / "state"))
    assert run.returncode == EXIT_CONFIG and "trigerr" in run.stderr, run.stderr  # systemd: no restart loop
    assert not (tmp_path / "state").exists()


# ---- 8. the quick start: no configuration at all -------------------------------------------------------


@pytest.mark.slow
def test_quick_start_reads_the_bundled_footage_and_ends(tmp_path: Path, stack: contextlib.ExitStack):
    system_config = Path("/etc/edge-ocr/config.toml")
    if system_config.exists():
        pytest.skip(f"{system_config} exists here and would be read instead of the defaults")
    state = tmp_path / "state"
    daemon = start_daemon(stack, None, state, cwd=tmp_path)
    assert daemon.wait_exit(START_S + 120) == 0, daemon.log()[-3000:]
    assert "the source has ended" in daemon.log()
    status = daemon.status()
    assert status["config"] == "defaults" and status["source"]["name"].endswith("samples/footage.avi")

    text = cli("search", "--state-dir", str(state), "--format", "json", "pump", "station", cwd=tmp_path)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "PUMP STATION 3" in [hit["text"] for hit in json.loads(text.stdout)]
    code = cli("search", "--state-dir", str(state), "--codes", "--format", "json", "assets", cwd=tmp_path)
    assert code.returncode == 0, code.stdout + code.stderr
    hits = json.loads(code.stdout)
    assert any(h["symbology"] == "QRCode" and h["text"] == "https://assets.example/00417-PS3" for h in hits)


def test_sigterm_during_a_slow_frame_leaves_it_unstored_in_the_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """A frame still being read when the stop's wait runs out must not be stored or filed by a closing
    store (it used to fail half-way with "Cannot operate on a closed database"): said in the log, and the
    inbox file stays to be read at the next start. In-process, the read held on an event."""
    import threading

    from edge_ocr import config as config_module
    from edge_ocr import daemon as daemon_module

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_image(inbox / "valve.png", label(VALVE))
    path = write_config(
        tmp_path / "config.toml",
        source={"kind": "inbox", "path": str(inbox), "inbox_poll_s": 0.1, "inbox_settle_s": 0.1},
        ocr={"enabled": False},
    )
    monkeypatch.setattr(daemon_module, "STOP_JOIN_S", 0.5)
    daemon = daemon_module.Daemon(config_module.load(path), tmp_path / "state")
    reading, finish = threading.Event(), threading.Event()

    def slow_read(frame):
        reading.set()
        finish.wait(30)
        raise RuntimeError("the code readers were closed under it")  # what the closed parts did

    monkeypatch.setattr(daemon, "read_frame", slow_read)
    exit_code: list[int] = []
    runner = threading.Thread(target=lambda: exit_code.append(daemon.run()))
    runner.start()
    assert reading.wait(60), "the inbox file was never read"
    daemon.request_stop()
    runner.join(30)
    assert exit_code == [0]
    assert "inference thread is still busy" in caplog.text and "not stored" in caplog.text
    finish.set()  # the read ends now, after the shutdown: nothing may be stored, counted or filed
    assert wait_until(lambda: not any(t.name == "inference" for t in threading.enumerate()), 10)
    assert "reading frame" not in caplog.text  # not logged as a failed frame either
    assert scans(tmp_path / "state") == []
    assert (inbox / "valve.png").exists() and not list(inbox.rglob("done/*"))
