"""`edge-ocr run`'s loop: capture and inference threads with a bounded queue, one frame's read ->
store -> publish, and the systemd notify protocol. Parts come from service.open_parts; health
(counters, status.json) from health.py."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from edge_ocr.codes.scanner import CodeScanner
from edge_ocr.config import Config
from edge_ocr.documents import PageImage
from edge_ocr.errors import StoreFullError
from edge_ocr.gate import FrameGate, RepeatFilter
from edge_ocr.health import Health
from edge_ocr.notify import Notifier
from edge_ocr.publish.messages import message_builder
from edge_ocr.publish.topics import Topics
from edge_ocr.reader import read_page
from edge_ocr.results import PageResult
from edge_ocr.service import Parts, open_parts
from edge_ocr.sources import EndOfSource, Frame, FrameSource, ResilientSource, item_fingerprint
from edge_ocr.store import Store
from edge_ocr.store.lock import StateLock

log = logging.getLogger("edge_ocr.daemon")

BACKLOG_NICE = 10  # CPU niceness while an inbox backlog is worked through
BACKLOG_LARGE = 20
DRAIN_S = 10.0  # a finite source has ended: the longest wait for a connected publisher to send the rest
STOP_JOIN_S = 15.0  # on SIGTERM, the longest wait for the frame in hand (the unit's TimeoutStopSec is 20)
ROOM_WAIT_S = 5.0  # after the store refused a scan for want of space: the least wait before the next try
DEFERRED = 0  # _save's answer when the store was full and the source took the frame back (ids start at 1)


class Daemon:
    """`edge-ocr run`: capture -> gate -> queue -> read -> store (+ outbox) -> publish."""

    def __init__(
        self,
        config: Config,
        state_dir: Path,
        notifier: Notifier | None = None,
        source: FrameSource | None = None,
        password: str | None = None,
    ) -> None:
        self.config = config
        self.state_dir = Path(state_dir)
        self.notifier = notifier or Notifier()
        self.gate = FrameGate(config.gate)
        self.health = Health(config, self.state_dir, self.gate, self.notifier)
        self.counters = self.health.counters
        self.repeats = RepeatFilter(config.gate.repeat_window_s)
        self.kind = config.source.kind
        self.live = config.source.live
        # Documents (inbox files, an images folder read once) are kept page by page, empty or repeated;
        # a live scene stores neither empty frames nor repeats.
        self._documents = config.source.document
        self._source_arg = source
        self._password = password
        self._stop = threading.Event()
        self._queue: deque[Frame] = deque()
        self._cond = threading.Condition()
        self._capture_beat = time.monotonic()
        self._busy_since: float | None = None
        self._abandoned = False  # stopping went on without the frame in hand: it must not be stored or filed
        self._room_retry_at = 0.0  # monotonic time of the next free-space check after a refusal; 0: none
        self._capture_done = threading.Event()
        self._capture_failed = False
        self._fingerprint: tuple[str, str] | None = None  # (inbox file, its sha256)
        self.parts: Parts | None = None
        self.started = False  # start() has finished: later errors are worth a restart
        self.lock = StateLock(self.state_dir)  # one daemon per state directory, held for its life

    # the parts, as open_parts made them (None before start)
    @property
    def store(self) -> Store | None:
        return self.parts.store if self.parts else None

    @property
    def pipeline(self):
        return self.parts.pipeline if self.parts else None

    @property
    def codes(self) -> CodeScanner | None:
        return self.parts.codes if self.parts else None

    @property
    def publisher(self):
        return self.parts.publisher if self.parts else None

    @property
    def source(self) -> ResilientSource | None:
        return self.parts.source if self.parts else None

    # ---- start and stop ----------------------------------------------------------------------------

    def start(self) -> None:
        """Lock the state directory (a second daemon there exits 78 with the holder's PID), open the
        parts (service.open_parts: store, models, codes, publisher, button, source); then wait for
        the source and send READY=1."""
        self.lock.acquire()  # before anything in the state directory is opened
        c = self.config
        self.builder = message_builder(
            Topics(c.mqtt.topic_prefix, c.device_id), c.mqtt.publish_codes, c.mqtt.ha_discovery
        )
        parts = open_parts(
            c,
            self.state_dir,
            password=self._password,
            stats_extra=self.health.stats_extra,
            commands={"scan": self._cmd_scan},
            on_button=self.gate.request,
            before_store_closes=self.health.write_status,
            source=self._source_arg,
        )
        self.parts = parts
        self.health.attach(parts.store, parts.publisher, parts.source)
        self._wait_for_source()
        if self._stop.is_set():
            return
        self.started = True
        self.notifier.ready(self.health.status_line())
        log.info("ready: source %s, trigger %s", self.source.name, c.gate.trigger)

    def _wait_for_source(self) -> None:
        """READY=1 waits for the source; meanwhile the start timeout is extended and the reason shown."""
        while not self._stop.is_set():
            if self.source.try_open():
                return
            self.health.write_status(notify=False)  # `edge-ocr status`: running, and why it is not ready
            self.notifier.send(
                EXTEND_TIMEOUT_USEC=int(30e6), STATUS=f"waiting for the source: {self.source.last_error}"
            )
            self._stop.wait(min(5.0, self.config.source.reopen_max_s))

    def request_stop(self) -> None:
        """SIGTERM/SIGINT: finish the frame in hand, then stop."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def _cmd_scan(self, _payload: bytes) -> None:
        self.gate.request()

    # ---- the threads -------------------------------------------------------------------------------

    def run(self) -> int:
        """Start, run until stopped (or a finite source ends), shut down cleanly; the exit status."""
        try:
            self.start()
        except Exception:
            self.shutdown()
            raise
        threads = [
            threading.Thread(target=self._capture_loop, name="capture", daemon=True),
            threading.Thread(target=self._inference_loop, name="inference", daemon=True),
        ]
        for t in threads:
            t.start()
        next_status = 0.0
        while not self._stop.is_set():
            if self._capture_done.is_set() and not self._queue and self._busy_since is None:
                log.info("the source has ended; stopping")
                self._let_publisher_drain()
                break
            now = time.monotonic()
            if self._making_progress(now):
                self.notifier.watchdog()
            if now >= next_status:
                self.health.write_status()
                next_status = now + self.config.service.status_interval_s
            self._stop.wait(0.5)
        self.request_stop()
        self.notifier.stopping()
        deadline = time.monotonic() + STOP_JOIN_S
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        busy = [t.name for t in threads if t.is_alive()]
        if busy:  # closing the store and codes under it would fail it half-way: say so, store nothing
            self._abandoned = True
            log.warning(
                "stopping while the %s thread is still busy after %.0f s: its frame is not stored "
                "(an inbox file stays in the inbox and is read again at the next start)",
                " and ".join(busy),
                STOP_JOIN_S,
            )
        self.shutdown()
        return 1 if self._capture_failed else 0

    def _let_publisher_drain(self) -> None:
        """A finite source ended: a connected publisher may send what was just stored before the stop."""
        if self.publisher is None:
            return
        self.publisher.wake()
        deadline = time.monotonic() + DRAIN_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            if not self.publisher.stats.connected or not self.store.outbox_depth():
                return
            self._stop.wait(0.1)

    def _making_progress(self, now: float) -> bool:
        """WATCHDOG=1 only while both threads are alive and no frame is stuck in inference."""
        stall = self.config.service.watchdog_stall_s
        capture_ok = self._capture_done.is_set() or now - self._capture_beat < stall
        busy = self._busy_since
        inference_ok = busy is None or now - busy < stall
        return capture_ok and inference_ok

    def _capture_loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._capture_beat = time.monotonic()
                try:
                    frame = self.source.read(0.5)
                except EndOfSource:
                    break
                if frame is None:
                    continue
                self.counters.captured += 1
                if not self.config.source.DOCUMENT:  # an images folder is never gated, looped or not
                    decision = self.gate.check(frame.image)
                    if not decision.process:
                        continue
                self._enqueue(frame)
        except Exception as exc:  # never silently: the exit status is 1, so systemd restarts the service
            log.exception("capture failed")
            self.counters.last_error = f"capture: {exc}"
            self._capture_failed = True
        finally:
            self._capture_done.set()
            with self._cond:
                self._cond.notify_all()

    def _enqueue(self, frame: Frame) -> None:
        limit = self.config.service.queue_size
        with self._cond:
            if self.live:
                while len(self._queue) >= limit:
                    self._queue.popleft()  # capture never blocks: the oldest frame goes
                    self.counters.dropped += 1
            else:
                while len(self._queue) >= limit and not self._stop.is_set():
                    self._cond.wait(0.2)  # files and recordings: wait, never drop
                    self._capture_beat = time.monotonic()  # held back by a full queue: not stalled
            self._queue.append(frame)
            self._cond.notify_all()

    def _inference_loop(self) -> None:
        self._lower_priority_for_backlog()
        while True:
            if self._waiting_for_room():
                self._stop.wait(0.5)
                continue
            with self._cond:
                while not self._queue and not self._stop.is_set() and not self._capture_done.is_set():
                    self._cond.wait(0.5)
                if self._stop.is_set() or not self._queue:
                    if self._stop.is_set() or self._capture_done.is_set():
                        return
                    continue
                frame = self._queue.popleft()
                self._busy_since = time.monotonic()  # under the lock: never "idle" with a frame in hand
                self._cond.notify_all()
            try:
                self.process(frame)
            finally:
                self._busy_since = None
                self.counters.recent.append(time.monotonic())

    def _waiting_for_room(self) -> bool:
        """After a refusal for space, no frame is read until the disk has room again (checked every few
        seconds): reading them would only be refused, and inbox files would be read again and again."""
        if not self._stop.is_set() and time.monotonic() < self._room_retry_at:
            return True
        if self._room_retry_at and not self._stop.is_set():
            if not self.store.has_room():
                self._room_retry_at = time.monotonic() + ROOM_WAIT_S
                return True
            log.info("the disk has room again: reading resumes")
            self._room_retry_at = 0.0
        return False

    def _lower_priority_for_backlog(self) -> None:
        backlog = getattr(self.source.source if self.source else None, "backlog_size", None)
        if backlog is not None and backlog() > BACKLOG_LARGE:
            try:
                os.nice(BACKLOG_NICE)
                log.info("working through a backlog of %d files at lower CPU priority", backlog())
            except OSError:
                pass

    # ---- one frame -----------------------------------------------------------------------------------

    def read_frame(self, frame: Frame) -> PageResult:
        """OCR and codes of one frame: the very stages `edge-ocr scan` uses (reader.read_page)."""
        t = time.perf_counter()
        h, w = frame.image.shape[:2]
        result = read_page(
            self.pipeline, PageImage(frame.source, frame.page, w, h, frame.image), codes=self.codes
        )
        result.timings_ms["total"] = (time.perf_counter() - t) * 1000
        return result

    def process(self, frame: Frame) -> None:
        """Read, de-duplicate, store (with its outbox rows), wake the publisher; a failure is recorded."""
        fingerprint = self._item_fingerprint(frame)
        earlier = self.store.find_fingerprint(fingerprint, frame.page) if fingerprint else None
        if earlier is not None:
            self._already_stored(frame, fingerprint or "", earlier)
            self._done(frame, True)
            return
        try:
            result = self.read_frame(frame)
        except Exception as exc:
            if self._abandoned:  # the code readers were closed under it by the stop
                return
            log.exception("reading frame %d of %s failed", frame.index, frame.source)
            self.counters.failed += 1
            self.counters.last_error = f"{frame.source}: {exc}"
            h, w = frame.image.shape[:2]
            failed = PageResult(frame.source, frame.page, w, h, text_origin="none")
            if self._save(failed, frame, fingerprint, status="error", error=str(exc)) != DEFERRED:
                self._done(frame, False, str(exc))
            return
        self.counters.processed += 1
        document = bool(frame.item) or self._documents
        if not document and not (result.lines or result.codes):
            self.counters.empty += 1  # a frame of a live scene with nothing on it is not stored
            return
        repeat = None if document else self.repeats.repeat_of(result)
        if repeat is not None:
            self.counters.repeats += 1
            self.store.bump_seen(repeat, frame.captured_ms)
            self._done(frame, True)
            return
        scan_id = self._save(result, frame, fingerprint)
        if scan_id == DEFERRED:
            return
        if scan_id is not None:
            self.repeats.remember(result, scan_id)
        self._done(frame, scan_id is not None, None if scan_id is not None else self.counters.last_error)

    def _already_stored(self, frame: Frame, fingerprint: str, earlier: int) -> None:
        """Content stored before is not stored again; under another name that is said and counted
        (an operator must be able to tell it from a read), the same name is a resume after a restart."""
        self.counters.skipped_already_stored += 1
        stored = self.store.get_scan(earlier)
        first = stored.result.source if stored else "?"
        if first == frame.source:
            log.info(
                "%s page %d: already stored as scan #%d (read before a restart)",
                frame.source,
                frame.page,
                earlier,
            )
            return
        self.counters.duplicates += 1
        log.warning(
            "%s page %d: same content (sha256 %s...) as scan #%d from %s: not stored again",
            frame.source,
            frame.page,
            fingerprint[:12],
            earlier,
            first,
        )

    def _save(self, result: PageResult, frame: Frame, fingerprint: str | None, **kw) -> int | None:
        if self._abandoned:
            return DEFERRED  # the store is closing: an inbox file is read again at the next start
        try:
            scan_id = self.store.save_scan(
                result,
                captured_ms=frame.captured_ms,
                fingerprint=fingerprint,
                image=frame.image,
                messages=self.builder,
                **kw,
            )
        except Exception as exc:  # e.g. disk full: counted and shown; the loop goes on
            log.error("could not store the result of %s: %s", frame.source, exc)
            self.counters.last_error = str(exc)
            if not isinstance(exc, StoreFullError):
                return None
            self._room_retry_at = time.monotonic() + ROOM_WAIT_S
            if self.source.retry_later(frame):
                log.warning("%s: left in the inbox, read again once the disk has room", frame.source)
                return DEFERRED
            return None
        self.counters.stored += 1
        if self.publisher is not None:
            self.publisher.wake()
        return scan_id

    def _item_fingerprint(self, frame: Frame) -> str | None:
        """sha256 of the inbox file, hashed once per file (at its first page: a scanner often reuses
        a name such as scan.png for new content)."""
        if not frame.item:
            return None
        if frame.page == 1 or self._fingerprint is None or self._fingerprint[0] != frame.item:
            self._fingerprint = (frame.item, item_fingerprint(Path(frame.item)))
        return self._fingerprint[1]

    def _done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        if self._abandoned:
            return
        try:
            self.source.done(frame, ok, error)
        except Exception as exc:
            log.error("could not file %s away: %s", frame.item, exc)

    def shutdown(self) -> None:
        """Close the parts in reverse order (the publisher says offline; the last status is written
        while the store is still open), then the notify socket; the state directory's lock last."""
        try:
            if self.parts is not None:
                self.parts.close()  # kept, closed: a thread still winding down sees closed parts, not None
            self.notifier.close()
        finally:
            self.lock.release()
