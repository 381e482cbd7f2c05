"""What the store hands out: one stored scan, a search hit, an outbox row, the store's health."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_ocr.results import PageResult


@dataclass
class StoredScan:
    """A scan as stored: its result plus when, where and what was kept."""

    id: int
    captured_ms: int
    device: str
    result: PageResult
    status: str = "ok"
    error: str | None = None
    fingerprint: str | None = None
    image_path: str | None = None
    thumb_path: str | None = None
    seen_count: int = 1
    last_seen_ms: int | None = None


@dataclass(frozen=True)
class SearchHit:
    """One matching line or code payload."""

    scan_id: int
    captured_ms: int
    source: str
    kind: str  # "text" or "code"
    text: str
    highlighted: str  # text with the matches between \x02 and \x03
    symbology: str | None = None


@dataclass(slots=True)
class OutboxRow:
    """A message waiting for (or done with) the broker (slotted, not frozen: thousands are made per
    second while draining, and a frozen dataclass's __init__ costs several times more)."""

    id: int
    message_id: str
    seq: int
    scan_id: int | None
    topic: str
    payload: bytes
    created_ms: int
    attempts: int
    sent_ms: int | None


@dataclass
class StoreStatus:
    """Health figures for `edge-ocr status`, the stats topic and the daemon's STATUS line."""

    schema_version: int
    scans: int
    lines: int
    codes: int
    outbox_unsent: int
    outbox_sent: int
    oldest_unsent_ms: int | None
    db_bytes: int
    image_bytes: int
    disk_free_bytes: int
    disk_full: bool
    last_error: str | None
    counters: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return dict(self.__dict__)
