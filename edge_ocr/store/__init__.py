"""The durable local store: scans, lines, codes and the MQTT outbox in SQLite; search; retention."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_ocr.store.db import MessageBuilder, ScanInfo, Store, now_ms
    from edge_ocr.store.records import OutboxRow, SearchHit, StoredScan, StoreStatus
    from edge_ocr.store.settings import ImagePolicy, RetentionPolicy, StoreSettings

# name -> module; imported on first use, so the configuration (store.settings) needs no OpenCV
_EXPORTS = {
    "MessageBuilder": "db",
    "ScanInfo": "db",
    "Store": "db",
    "now_ms": "db",
    "OutboxRow": "records",
    "SearchHit": "records",
    "StoredScan": "records",
    "StoreStatus": "records",
    "ImagePolicy": "settings",
    "RetentionPolicy": "settings",
    "StoreSettings": "settings",
}
__all__ = [
    "ImagePolicy",
    "MessageBuilder",
    "OutboxRow",
    "RetentionPolicy",
    "ScanInfo",
    "SearchHit",
    "Store",
    "StoreSettings",
    "StoreStatus",
    "StoredScan",
    "now_ms",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"edge_ocr.store.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'edge_ocr.store' has no attribute {name!r}")
