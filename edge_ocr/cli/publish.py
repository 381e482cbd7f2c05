"""`edge-ocr publish --config FILE`: drain the store's outbox to the configured broker until stopped
(the daemon runs the same publisher in a thread; this runs it alone)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from edge_ocr.cli import EXIT_OK, EXIT_USAGE
from edge_ocr.cli.run import stop_on_signals
from edge_ocr.cli.state import add_config_argument, add_state_argument, load_config, state_dir
from edge_ocr.errors import EdgeOcrError
from edge_ocr.publish.secrets import read_password
from edge_ocr.service import open_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `publish`."""
    add_config_argument(parser)
    add_state_argument(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every connection event")


def run(args: argparse.Namespace) -> int:
    """Publish until SIGTERM or SIGINT, then say offline and exit 0."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = load_config(args)
        if not config.mqtt.enabled:
            print(
                f"edge-ocr: [mqtt] enabled = false in {config.origin}: nothing to publish to", file=sys.stderr
            )
            return EXIT_USAGE
        password = read_password(config.mqtt.password_file, config.mqtt.password_credential)
        store = open_store(config, state_dir(args, config))
    except EdgeOcrError as exc:
        print(f"edge-ocr: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    stop_on_signals(stop.set)  # never set() from inside the handler: see stop_on_signals
    from edge_ocr.publish.publisher import Publisher  # paho only when publishing

    publisher = Publisher(store, config.mqtt, config.device_id, password)
    publisher.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        publisher.stop()
        store.close()
    return EXIT_OK
