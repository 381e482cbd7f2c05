"""One daemon per state directory (daemon.lock), and readers on a store they cannot write."""

from __future__ import annotations

import contextlib
import io
import os
import pwd
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_ocr.cli import main
from edge_ocr.cli.run import EXIT_CONFIG
from edge_ocr.errors import StoreError
from edge_ocr.results import PageResult, TextLine
from edge_ocr.store import Store, now_ms
from edge_ocr.store.lock import LOCK_NAME, StateDirLockedError, StateLock
from tests.daemon_helpers import DaemonProcess, write_config

BOX = ((10.0, 10.0), (300.0, 10.0), (300.0, 40.0), (10.0, 40.0))


# ---- 1. a second daemon on the same state directory is refused ---------------------------------------


@pytest.fixture
def daemons() -> Iterator[list[DaemonProcess]]:
    started: list[DaemonProcess] = []
    yield started
    for d in started:
        d.close()


def test_a_second_daemon_on_the_state_directory_exits_78_and_a_killed_ones_lock_is_freed(
    tmp_path: Path, daemons: list[DaemonProcess]
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    state = tmp_path / "state"
    config = write_config(
        tmp_path / "edge-ocr.toml",
        source={"kind": "inbox", "path": str(inbox), "inbox_poll_s": 0.2},
        ocr={"enabled": False},
        codes={"enabled": False},
    )

    def start(name: str) -> DaemonProcess:
        d = DaemonProcess(config, state, name=name).start()
        daemons.append(d)
        return d

    first = start("first")
    first.wait_ready()

    second = start("second")  # refused at once, before it opens the store or the inbox
    assert second.wait_exit(30) == EXIT_CONFIG, second.log()
    lock = state / LOCK_NAME
    message = second.log()
    assert f"PID {first.pid}" in message and str(lock) in message, message
    assert lock.read_text().strip() == str(first.pid)
    assert first.running()

    first.kill()  # SIGKILL: no shutdown code runs, the kernel drops the flock
    third = start("third")
    third.wait_ready()
    assert lock.read_text().strip() == str(third.pid)
    rc, _ = third.terminate()
    assert rc == 0, third.log()
    assert lock.read_text() == ""  # released on a clean stop: no stale PID left to show


def test_the_lock_is_exclusive_names_its_holder_and_is_released(tmp_path: Path):
    held = StateLock(tmp_path / "state")
    held.acquire()
    other = StateLock(tmp_path / "state")
    with pytest.raises(StateDirLockedError, match=rf"PID {os.getpid()}\b.*{LOCK_NAME}"):
        other.acquire()
    assert isinstance(StateDirLockedError("x"), StoreError)  # run maps it to 78 before start-up
    held.release()
    other.acquire()
    assert other.held
    other.release()


# ---- 2. readers open the store read-only, even in a directory they cannot write ----------------------


def _two_scans(state: Path) -> None:
    now = now_ms()
    with Store(state) as store:
        store.save_scan(
            PageResult("cam0", 1, 640, 480, [TextLine("PUMP STATION 3", 0.97, BOX)]), captured_ms=now
        )
        store.save_scan(PageResult("cam1", 1, 640, 480, [TextLine("VALVE 4471", 0.9, BOX)]), captured_ms=now)


@pytest.fixture
def readonly_state() -> Iterator[Path]:
    """A store with two scans in a 0555 directory of 0444 files, reachable by an unprivileged user
    (pytest's own tmp_path is private to root when the tests run as root)."""
    top = Path(tempfile.mkdtemp(prefix="eo-ro-"))
    top.chmod(0o755)
    state = top / "state"
    _two_scans(state)
    _two_scans(top / "twin")  # writable: warms up the readers' imports before privileges are dropped
    files = sorted(p.name for p in state.iterdir())
    assert not any(name.endswith(("-wal", "-shm")) for name in files), files  # folded in on close
    for p in state.rglob("*"):
        p.chmod(0o444 if p.is_file() else 0o555)
    state.chmod(0o555)
    try:
        yield state
    finally:
        for p in [state, *state.rglob("*")]:
            p.chmod(stat.S_IRWXU | (p.stat().st_mode & 0o777))
        shutil.rmtree(top)


def _nobody() -> tuple[int, int]:
    try:
        user = pwd.getpwnam("nobody")
        return user.pw_uid, user.pw_gid
    except KeyError:
        return 65534, 65534


CANNOT_TEST = 99  # the child could write the state directory: chmod would prove nothing


def run_unprivileged(state: Path, *argv: str) -> tuple[int, str, str]:
    """`edge-ocr ARGV --state-dir STATE` in a forked child of this process; as root the child first
    becomes nobody, for whom chmod's 0555 is a real wall (root passes it). A fork, not a new
    interpreter: the Python in use may live where nobody cannot even execute it (/root/.pyenv)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main([*argv, "--state-dir", str(state.parent / "twin")])  # imports every module it needs
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(out_r)
            os.close(err_r)
            if os.geteuid() == 0:
                uid, gid = _nobody()
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            try:
                (state / "probe").open("w").close()
                os._exit(CANNOT_TEST)
            except PermissionError:
                pass
            sys.stdout = open(out_w, "w", buffering=1)  # noqa: SIM115 - flushed before os._exit
            sys.stderr = open(err_w, "w", buffering=1)  # noqa: SIM115
            code = main([*argv, "--state-dir", str(state)])
        except BaseException as exc:  # reported through the pipe
            with contextlib.suppress(Exception):
                os.write(err_w, repr(exc).encode())
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with os.fdopen(out_r) as out, os.fdopen(err_r) as err:
        stdout, stderr = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stdout, stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("search", "pump"), "PUMP"),
        (("show", "1"), "PUMP STATION 3"),
        (("store", "status"), "2 (2 lines"),
    ],
)
def test_readers_work_on_a_store_in_a_directory_they_cannot_write(readonly_state: Path, argv, expected):
    before = sorted(p.name for p in readonly_state.iterdir())
    code, out, err = run_unprivileged(readonly_state, *argv)
    assert code != CANNOT_TEST, "the child could write the state directory: the test proves nothing"
    assert code == 0, err
    assert expected in out, out
    assert sorted(p.name for p in readonly_state.iterdir()) == before  # nothing created


def test_a_readonly_store_still_sees_a_running_writers_commits(tmp_path: Path):
    """With the writer open (its -wal and -shm present) the reader uses the normal read-only mode,
    with locks, not the immutable one: scans committed after the reader opened are seen."""
    with Store(tmp_path) as writer:
        writer.save_scan(PageResult("cam0", 1, 640, 480, [TextLine("FIRST", 0.9, BOX)]))
        with contextlib.closing(Store(tmp_path, readonly=True)) as reader:
            assert reader.query("SELECT count(*) FROM scans")[0][0] == 1
            writer.save_scan(PageResult("cam0", 1, 640, 480, [TextLine("SECOND", 0.9, BOX)]))
            assert reader.query("SELECT count(*) FROM scans")[0][0] == 2
