"""The durable local store: scans, lines, codes and the MQTT outbox in SQLite; search; retention."""

from edge_ocr.store.db import MessageBuilder, ScanInfo, Store, now_ms
from edge_ocr.store.records import OutboxRow, SearchHit, StoredScan, StoreStatus
from edge_ocr.store.settings import ImagePolicy, RetentionPolicy, StoreSettings

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
