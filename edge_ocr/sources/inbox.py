"""A watched folder (a scanner's or another program's drop folder): each file read once, then filed away.

Delivery is at-least-once per file: a file moves to done/ or failed/ only after done() for its last
page, so a file that was half-read when the process died is read again from its first page after a
restart. item_fingerprint() (the file's sha256, as `edge-ocr scan` stores it) lets the daemon skip
pages it already stored. Nothing in done/ or failed/ is ever read or touched again.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from edge_ocr.config.kinds import InboxSettings
from edge_ocr.documents import DEFAULT_MAX_PIXELS
from edge_ocr.models import sha256_file
from edge_ocr.sources.base import Frame, SourceError, now_ms
from edge_ocr.sources.pages import PageReader

log = logging.getLogger(__name__)

PARTIAL_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload")  # files still being written elsewhere
EMPTY_GRACE_S = 60.0  # an empty file may be created before it is written: wait this long before failing it


def item_fingerprint(path: Path) -> str:
    """sha256 of the file (hex), the fingerprint the store keeps, to skip an inbox file read before."""
    return sha256_file(path)


def is_candidate(name: str) -> bool:
    """Dotfiles and partial downloads are someone else's work in progress."""
    return not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES) and not name.endswith("~")


@dataclass
class _Seen:
    """A file's size and mtime when first seen unchanged, to tell a complete file from a growing one."""

    size: int
    mtime_ns: int
    since: float  # monotonic


@dataclass
class _Item:
    """A file whose pages are handed out: the per-page failures to report when it is filed away."""

    errors: list[str] = field(default_factory=list)
    decode_error: str | None = None


def held_for_writing(paths: list[Path], proc: Path = Path("/proc")) -> set[str]:
    """Those of `paths` (real paths) a process we can see has open for writing, in one walk of /proc
    (Linux; elsewhere, or with other users' processes hidden, this sees less and the settle time
    alone decides)."""
    wanted = {os.path.realpath(p) for p in paths}
    held: set[str] = set()
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()] if wanted else []
    except OSError:
        return held
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or not ours to see
            continue
        for fd in fds:
            try:
                target = os.readlink(fd_dir / fd)
                if target not in wanted:
                    continue
                flags = (proc / pid / "fdinfo" / fd).read_text().split("flags:", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if int(flags, 8) & (os.O_WRONLY | os.O_RDWR):
                held.add(target)
    return held


def open_for_writing(path: Path) -> bool:
    """True when a process we can see has this file open for writing."""
    return bool(held_for_writing([path]))


class InboxSource:
    """Oldest complete file first (by mtime, then name); its pages are Frames carrying `item`.

    A file is complete when its size and mtime have not changed for `settle_s` (across two polls, or
    an mtime that old; [source] inbox_settle_s) and no process is seen holding it open for writing
    (a writer that pauses longer than the settle time is waited for). Writers should still
    prefer writing NAME.tmp (or a dotfile) and renaming it.
    done() may be called from another thread than read() (the daemon's inference thread).
    """

    may_idle = True  # an empty inbox is idle, not stalled

    def __init__(
        self, settings: InboxSettings, settle_s: float | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> None:
        self.settings = settings
        self.folder = Path(settings.path)
        self.done_dir = Path(settings.inbox_done) if settings.inbox_done else self.folder / "done"
        self.failed_dir = Path(settings.inbox_failed) if settings.inbox_failed else self.folder / "failed"
        self.name = f"inbox:{settings.path}"
        self.poll_s = max(0.01, settings.inbox_poll_s)
        self.settle_s = settings.inbox_settle_s if settle_s is None else settle_s
        self.max_pixels = max_pixels
        self.files_done = 0
        self.files_failed = 0
        self.last_error: str | None = None
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._seen: dict[str, _Seen] = {}
        self._waiting: list[Path] = []  # at the last poll, oldest first; excludes files in hand
        self._last_poll = float("-inf")
        self._reader: PageReader | None = None
        self._items: dict[str, _Item] = {}  # handed out, awaiting done() for the last page
        self._stuck: dict[str, tuple[int, int]] = {}  # could not be moved: (size, mtime_ns), skipped this run
        self._wall = 0.0
        self._index = 0

    # ---- open / close ----------------------------------------------------------------------------

    def open(self) -> None:
        """Check the folder, create done/ and failed/, and look at what is waiting."""
        if not self.settings.path:
            raise SourceError(f"{self.name}: [source] path is empty (the folder to watch)")
        if not self.folder.is_dir():
            raise SourceError(f"{self.name}: {self.folder} is not a folder (not mounted yet?)")
        try:
            self.done_dir.mkdir(parents=True, exist_ok=True)
            self.failed_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot create {exc.filename}: {exc.strerror or exc}") from None
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise SourceError(f"{self.name}: no permission to move files out of {self.folder}")
        self._closed.clear()
        with self._lock:
            self._poll()

    def close(self) -> None:
        """Stop reading; a file read part-way is read again from its first page after open()."""
        self._closed.set()
        with self._lock:
            if self._reader is not None:
                self._items.pop(str(self._reader.path), None)
                self._reader.close()
                self._reader = None
            self._last_poll = float("-inf")

    def backlog_size(self) -> int:
        """Files waiting in the inbox at the last poll, the one being read included."""
        with self._lock:
            return len(self._waiting) + (1 if self._reader is not None else 0)

    # ---- read ------------------------------------------------------------------------------------

    def read(self, timeout_s: float) -> Frame | None:
        """The next page of the current file, or of the oldest complete file; None while none is."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            with self._lock:
                frame = self._next_frame()
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed.wait(min(self.poll_s, remaining)):
                return None

    def _next_frame(self) -> Frame | None:
        while True:
            if self._reader is None:
                if time.monotonic() - self._last_poll >= self.poll_s:
                    self._poll()
                path = self._pick()
                if path is None:
                    return None
                self._reader = PageReader(path, self.max_pixels)
                self._items[str(path)] = _Item()
            reader = self._reader
            got = reader.next()
            if got is None:  # not a single page could be decoded
                self._reader = None
                reader.close()
                self._items.pop(str(reader.path), None)
                self._file_away(reader.path, reader.error or f"{reader.path}: no pages")
                continue
            page, last = got
            if last:
                self._items[str(reader.path)].decode_error = reader.error  # later pages that failed
                self._reader = None
                reader.close()
            frame = Frame(page.image, f"inbox:{reader.path.name}", self._index, now_ms(), page.page)
            frame.item, frame.last_of_item = str(reader.path), last
            self._index += 1
            return frame

    def _poll(self) -> None:
        """List complete-looking candidates, oldest first; SourceError when the folder is gone."""
        now, wall = time.monotonic(), time.time()
        found: list[tuple[int, str, Path]] = []
        seen: dict[str, _Seen] = {}
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if not is_candidate(entry.name) or not entry.is_file(follow_symlinks=False):
                        continue
                    path = str(self.folder / entry.name)
                    if path in self._items:
                        continue
                    st = entry.stat(follow_symlinks=False)
                    if self._stuck.get(path) == (st.st_size, st.st_mtime_ns):
                        continue
                    old = self._seen.get(path)
                    same = old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns)
                    seen[path] = old if same else _Seen(st.st_size, st.st_mtime_ns, now)
                    found.append((st.st_mtime_ns, entry.name, Path(path)))
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot list {self.folder}: {exc.strerror or exc}") from None
        self._seen = seen
        self._waiting = [p for _, _, p in sorted(found)]
        self._last_poll = now
        self._wall = wall

    def _ready(self, path: Path) -> bool:
        s = self._seen[str(path)]
        quiet = max(self._last_poll - s.since, self._wall - s.mtime_ns / 1e9)  # as the last poll saw it
        return quiet >= (self.settle_s if s.size else max(self.settle_s, EMPTY_GRACE_S))

    def _pick(self) -> Path | None:
        ready = [p for p in self._waiting if self._ready(p)]
        held = held_for_writing(ready)
        for path in ready:
            if os.path.realpath(path) not in held:
                self._waiting.remove(path)
                return path
        return None

    # ---- filing away -----------------------------------------------------------------------------

    def retry_later(self, frame: Frame) -> bool:
        """Put the frame's file back: it stays in the inbox and is read again from its first page on a
        later pick (pages stored meanwhile are skipped as already stored). For a store that refused it
        for want of space: a full disk is no reason to file a good file away as failed."""
        if frame.item is None:
            return False
        with self._lock:
            if self._items.pop(frame.item, None) is None:
                return False
            if self._reader is not None and str(self._reader.path) == frame.item:
                self._reader.close()
                self._reader = None
            return True

    def done(self, frame: Frame, ok: bool, error: str | None = None) -> None:
        """Record one page's outcome; after the last page the file moves to done/ or failed/."""
        if frame.item is None:
            return
        with self._lock:
            item = self._items.get(frame.item)
            if item is None:  # not ours, or forgotten by close(): the file is read again anyway
                return
            if not ok:
                item.errors.append(f"page {frame.page}: {error or 'failed'}")
            if not frame.last_of_item:
                return
            del self._items[frame.item]
            reasons = item.errors + ([item.decode_error] if item.decode_error else [])
            self._file_away(Path(frame.item), "\n".join(reasons) if reasons else None)

    def _file_away(self, path: Path, error: str | None) -> None:
        """Move to done/ (error None) or failed/ with NAME.error.txt; never overwrites anything."""
        folder = self.failed_dir if error else self.done_dir
        try:
            target = free_name(folder, path.name)
            shutil.move(str(path), str(target))  # a rename; a copy and delete across file systems
        except OSError as exc:
            try:
                st = path.stat()
                self._stuck[str(path)] = (st.st_size, st.st_mtime_ns)
            except OSError:
                pass
            self.last_error = f"{self.name}: cannot move {path} to {folder}: {exc.strerror or exc}"
            log.error("%s (it is read again after a restart)", self.last_error)
            return
        if error:
            note = f"{error}\n\nfile: {path}\nfailed: {time.strftime('%Y-%m-%d %H:%M:%S %z')}\n"
            try:
                target.with_name(target.name + ".error.txt").write_text(note, encoding="utf-8")
            except OSError as exc:
                log.warning("%s: cannot write the error note for %s: %s", self.name, target, exc)
            self.files_failed += 1
            self.last_error = error.splitlines()[0]
            log.warning("%s: %s -> %s: %s", self.name, path.name, target, self.last_error)
        else:
            self.files_done += 1
            log.info("%s: %s -> %s", self.name, path.name, target)


def free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/stem-N.suffix for the first N not taken (error notes count as taken)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 0
    while True:
        candidate = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
        note = candidate.with_name(candidate.name + ".error.txt")
        if not candidate.exists() and not note.exists():
            return candidate
        n += 1
