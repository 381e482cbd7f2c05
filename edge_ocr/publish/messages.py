"""The payloads stored in the outbox for each scan: a whole-result message and one per code."""

from __future__ import annotations

from datetime import datetime, timezone

from edge_ocr.publish.topics import Topics
from edge_ocr.store import MessageBuilder, ScanInfo

SCHEMA = 1  # payload version; fields may be added, none removed or renamed


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO 8601 UTC with milliseconds."""
    return (
        datetime.fromtimestamp(ms / 1000, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def scan_payload(info: ScanInfo) -> dict:
    """The whole result: lines, codes, times, source."""
    r = info.result.to_dict()
    return {
        "schema": SCHEMA,
        "device": info.device,
        "scan_id": info.scan_id,
        "captured_at": iso_ms(info.captured_ms),
        "captured_ms": info.captured_ms,
        "status": info.status,
        "error": info.error,
        "text": info.result.text,
        **r,
    }


def code_payload(info: ScanInfo, index: int) -> dict:
    """One code with where and when it was read."""
    code = info.result.codes[index].to_dict()
    return {
        "schema": SCHEMA,
        "device": info.device,
        "scan_id": info.scan_id,
        "captured_at": iso_ms(info.captured_ms),
        "captured_ms": info.captured_ms,
        "source": info.result.source,
        "page": info.result.page,
        **code,
    }


def message_builder(topics: Topics, publish_codes: bool = True, ha_tags: bool = False) -> MessageBuilder:
    """The builder the store calls inside the scan's transaction."""

    def build(info: ScanInfo) -> list[tuple[str, dict]]:
        out = [(topics.scan, scan_payload(info))]
        for i, code in enumerate(info.result.codes):
            if publish_codes:
                out.append((topics.code, code_payload(info, i)))
            if ha_tags and code.symbology == "QRCode" and code.text:
                out.append(
                    (topics.tag, {"tag_id": code.text, "device": info.device, "scan_id": info.scan_id})
                )
        return out

    return build
