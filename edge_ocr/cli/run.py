"""`edge-ocr run [--config FILE]`: the daemon. With no configuration it reads the bundled sample footage
(no camera, no broker) into the local store and stops at the end of it."""

from __future__ import annotations

import _thread
import argparse
import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from edge_ocr.cli import EXIT_FAILED, report_error
from edge_ocr.cli.state import add_config_argument, add_state_argument, load_config, state_dir
from edge_ocr.config import Config
from edge_ocr.errors import ConfigError, EdgeOcrError
from edge_ocr.logsetup import setup_logging

EXIT_CONFIG = 78  # EX_CONFIG: the unit's RestartPreventExitStatus= stops pointless restarts
SAMPLE_FOOTAGE = Path(__file__).resolve().parent.parent / "samples" / "footage.avi"
log = logging.getLogger("edge_ocr.run")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `run`."""
    add_config_argument(parser)
    add_state_argument(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def with_sample_footage(config: Config) -> Config:
    """A video source without a path reads the bundled footage (the quick start's built-in default)."""
    if config.source.kind == "video" and not config.source.path:
        return replace(config, source=replace(config.source, path=str(SAMPLE_FOOTAGE), realtime=False))
    return config


def stop_on_signals(request_stop: Callable[[], None]) -> None:
    """SIGTERM/SIGINT call request_stop from a new thread, so a signal can never deadlock the main one."""
    # A handler runs in the main thread between two bytecodes, maybe while that thread holds the lock
    # inside Event.wait() that Event.set() needs: called there, request_stop would wait for itself
    # forever. _thread.start_new_thread takes no threading-module lock.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: _thread.start_new_thread(request_stop, ()))


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT (exit 0) or until a finite source ends (exit 0).

    78 (EX_CONFIG, which the unit does not restart) for anything a restart cannot mend: the
    configuration, the state directory or database, the models, a missing package; 1 after start-up.
    """
    try:
        config = with_sample_footage(load_config(args))
    except EdgeOcrError as exc:
        report_error(exc)
        return EXIT_CONFIG
    where = setup_logging("debug" if args.verbose else config.service.log_level)
    from edge_ocr.daemon import Daemon
    from edge_ocr.publish.secrets import read_password

    try:
        password = read_password(config.mqtt.password_file, config.mqtt.password_credential)
        daemon = Daemon(config, state_dir(args, config), password=password)
    except EdgeOcrError as exc:
        report_error(exc)
        return EXIT_CONFIG
    stop_on_signals(daemon.request_stop)
    log.info(
        "starting: config %s, state %s, device %s, logs to %s",
        config.origin,
        daemon.state_dir,
        config.device_id,
        where,
    )
    try:
        return daemon.run()
    except (EdgeOcrError, OSError) as exc:
        if daemon.started and not isinstance(exc, ConfigError):
            log.error("%s", exc)
            return EXIT_FAILED
        log.error("cannot start: %s", exc)
        report_error(exc)
        return EXIT_CONFIG
    except Exception:
        log.exception("the daemon failed")
        return EXIT_FAILED
