"""One broker connection's state and its in-flight window.

The window is kept here rather than by paho (whose window walks every message in flight on each
PUBACK): at most `window` QoS 1 messages, outbox rows and control messages (status, stats, command
results, discovery) alike, await their PUBACK at once, and `window` never exceeds the Receive
Maximum the broker announces in its CONNACK (MQTT 5; paho itself ignores it)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from edge_ocr.publish.netloop import NetLoop
from edge_ocr.store import OutboxRow

# Control messages (command results, stats, status) waiting for room in the window: a broker that
# never acknowledges plus a flood of commands must not grow memory without bound.
MAX_HELD = 256


@dataclass
class Connection:
    """State of one broker connection (thrown away with it)."""

    client: mqtt.Client
    since_ms: int
    window: int  # QoS 1 messages awaiting PUBACK at most; lowered to the broker's Receive Maximum
    net: NetLoop = field(init=False)
    connack: bool = False
    refused: str | None = None
    lost: str | None = None
    inflight: dict[int, OutboxRow] = field(default_factory=dict)  # paho mid -> row
    control: set[int] = field(default_factory=set)  # mids of control messages awaiting PUBACK
    held: deque[tuple[str, bytes, bool]] = field(default_factory=deque)  # control messages, no room yet
    acked: list[int] = field(default_factory=list)  # outbox ids acknowledged, not yet marked
    failed_acks: list[tuple[int, str]] = field(default_factory=list)
    last_id: int = 0  # highest outbox id read from the store on this connection
    queue: deque[OutboxRow] = field(default_factory=deque)  # read ahead, not yet handed to paho
    settled_at: float = 0.0
    peak: int = 0  # the most QoS 1 messages awaiting PUBACK at once (never above `window`)
    dropped: int = 0  # held control messages dropped, oldest first, to stay within MAX_HELD

    def __post_init__(self) -> None:
        self.net = NetLoop(self.client)
        self.client.max_inflight_messages_set(0)  # the window is kept here, see the module docstring

    def room(self) -> int:
        """How many more QoS 1 messages may go out now."""
        return self.window - len(self.inflight) - len(self.control)

    def note_peak(self) -> None:
        """After sending: remember the fullest the window has been."""
        self.peak = max(self.peak, len(self.inflight) + len(self.control))

    def limit_window(self, receive_maximum: int | None) -> bool:
        """Apply the broker's Receive Maximum; True when it lowered the window."""
        if receive_maximum is not None and 0 < receive_maximum < self.window:
            self.window = receive_maximum
            return True
        return False

    def publish_control(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        """A QoS 1 message that is not an outbox row: sent when the window has room, in order."""
        data = payload.encode() if isinstance(payload, str) else payload
        if len(self.held) >= MAX_HELD:
            self.held.popleft()  # the oldest snapshot or reply is the least useful one
            self.dropped += 1
        self.held.append((topic, data, retain))
        self.flush_control()

    def flush_control(self) -> None:
        """Send held control messages while there is room (before any further outbox rows)."""
        while self.held and self.room() > 0:
            topic, data, retain = self.held.popleft()
            info = self.client.publish(topic, data, qos=1, retain=retain)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.lost = f"publish failed ({mqtt.error_string(info.rc)})"
                return
            self.control.add(info.mid)
            self.note_peak()
