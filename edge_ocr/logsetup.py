"""Logging: the journal with structured fields under systemd (systemd-python), otherwise stderr."""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "info") -> str:
    """Configure the root logger once; returns where logs go ("journal" or "stderr")."""
    root = logging.getLogger()
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"):
        try:
            from systemd.journal import JournalHandler  # python3-systemd / systemd-python

            root.addHandler(JournalHandler(SYSLOG_IDENTIFIER="edge-ocr"))
            return "journal"
        except ImportError:
            pass  # stderr still reaches the journal, without the extra fields
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return "stderr"
