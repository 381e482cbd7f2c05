"""Home Assistant MQTT discovery: the device, its sensors (last text, last code, outbox depth) and QR
codes through HA's tag-scanner convention. Off by default."""

from __future__ import annotations

from edge_ocr import __version__
from edge_ocr.config import MqttSection
from edge_ocr.publish.topics import Topics


def discovery_messages(settings: MqttSection, topics: Topics, device: str) -> list[tuple[str, dict]]:
    """(topic, payload) pairs, published retained on every connect."""
    ha = settings.ha_prefix
    dev = {
        "identifiers": [f"edge_ocr_{device}"],
        "name": f"edge_ocr {device}",
        "model": "edge_ocr",
        "sw_version": __version__,
        "manufacturer": "edge_ocr",
    }
    common = {
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": dev,
    }
    oid = f"edge_ocr_{device}"
    return [
        (
            f"{ha}/sensor/{oid}/last_text/config",
            {
                **common,
                "name": "Last text",
                "unique_id": f"{oid}_last_text",
                "state_topic": topics.scan,
                "value_template": "{{ value_json.text[:250] }}",
                "icon": "mdi:text-recognition",
            },
        ),
        (
            f"{ha}/sensor/{oid}/last_code/config",
            {
                **common,
                "name": "Last code",
                "unique_id": f"{oid}_last_code",
                "state_topic": topics.code,
                "value_template": "{{ (value_json.text or value_json.bytes_b64)[:250] }}",
                "icon": "mdi:barcode-scan",
            },
        ),
        (
            f"{ha}/sensor/{oid}/outbox_depth/config",
            {
                **common,
                "name": "Outbox depth",
                "unique_id": f"{oid}_outbox_depth",
                "state_topic": topics.stats,
                "value_template": "{{ value_json.outbox_depth }}",
                "unit_of_measurement": "messages",
                "state_class": "measurement",
                "icon": "mdi:tray-full",
            },
        ),
        (
            f"{ha}/tag/{oid}/config",
            {"topic": topics.tag, "value_template": "{{ value_json.tag_id }}", "device": dev},
        ),
    ]
