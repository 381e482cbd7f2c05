"""What an operator can set about the store: images kept, retention caps, outbox policy, disk reserve."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_ocr.errors import ConfigError

IMAGE_MODES = ("none", "results", "all")
OUTBOX_POLICIES = ("keep", "drop-oldest")


@dataclass(frozen=True)
class ImagePolicy:
    """Which frames are kept as JPEG (plus a thumbnail) under the state directory."""

    keep: str = "none"  # none | results (frames with text or codes) | all
    quality: int = 85
    thumb_px: int = 320  # long side of the thumbnail

    def validate(self) -> None:
        """Refuse bad values by name."""
        if self.keep not in IMAGE_MODES:
            raise ConfigError(f"store.images.keep: {self.keep!r} is not one of {', '.join(IMAGE_MODES)}")
        if not 1 <= self.quality <= 100:
            raise ConfigError("store.images.quality must be between 1 and 100")
        if self.thumb_px < 16:
            raise ConfigError("store.images.thumb_px must be at least 16")


@dataclass(frozen=True)
class RetentionPolicy:
    """Caps by age and size; the oldest data goes first and every deletion is counted."""

    max_age_days: float | None = 90.0
    max_bytes: int | None = None  # database + kept images
    outbox: str = "keep"  # keep (unsent rows stay until sent) | drop-oldest (beyond outbox_max_unsent)
    outbox_max_unsent: int = 100_000
    keep_sent_s: float = 3600.0  # sent outbox rows are deleted after this long
    min_free_bytes: int = 64 * 1024 * 1024  # refuse new scans when the disk has less free

    def validate(self) -> None:
        """Refuse bad values by name."""
        if self.max_age_days is not None and self.max_age_days <= 0:
            raise ConfigError("store.retention.max_age_days must be > 0 (or unset)")
        if self.max_bytes is not None and self.max_bytes < 1024 * 1024:
            raise ConfigError("store.retention.max_bytes must be at least 1 MiB (or unset)")
        if self.outbox not in OUTBOX_POLICIES:
            raise ConfigError(
                f"store.retention.outbox: {self.outbox!r} is not one of {', '.join(OUTBOX_POLICIES)}"
            )
        if self.outbox_max_unsent < 1:
            raise ConfigError("store.retention.outbox_max_unsent must be at least 1")
        if self.min_free_bytes < 0:
            raise ConfigError("store.retention.min_free_bytes must be >= 0")


@dataclass(frozen=True)
class StoreSettings:
    """Everything the store needs to open."""

    device: str = "edge-ocr"
    images: ImagePolicy = field(default_factory=ImagePolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    busy_timeout_ms: int = 10_000
    retention_every: int = 200  # saves between automatic retention passes

    def validate(self) -> None:
        """Refuse bad values by name."""
        if not self.device or "/" in self.device or "+" in self.device or "#" in self.device:
            raise ConfigError(f"device id {self.device!r} must be non-empty and free of '/', '+', '#'")
        self.images.validate()
        self.retention.validate()
