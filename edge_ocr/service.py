"""The composition root: the one place where configuration sections become parts (store, engine,
codes, publisher, GPIO button, source), opened in order and closed in reverse (an ExitStack).

`edge-ocr run` (edge_ocr/daemon.py), `scan` and `publish` build their parts here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_ocr.codes.scanner import CodeOptions, CodeScanner
from edge_ocr.config import Config
from edge_ocr.errors import ConfigError
from edge_ocr.store import Store
from edge_ocr.store.settings import ImagePolicy, RetentionPolicy, StoreSettings

log = logging.getLogger("edge_ocr.service")


# ---- settings: the configuration's sections become the stages' own settings here only ----------


def store_settings(config: Config) -> StoreSettings:
    """The store's settings from the [device] and [store] sections."""
    s = config.store
    return StoreSettings(
        device=config.device_id,
        images=ImagePolicy(keep=s.images, quality=s.image_quality, thumb_px=s.thumb_px),
        retention=RetentionPolicy(
            max_age_days=s.max_age_days or None,
            max_bytes=int(s.max_mb * 1048576) or None,
            outbox=s.outbox_policy,
            outbox_max_unsent=s.outbox_max_unsent,
            min_free_bytes=int(s.min_free_mb * 1048576),
        ),
    )


def engine_settings(config: Config, models_dir: Path | None = None):
    """The OCR engine's settings from the [ocr] section (imported lazily: codes-only devices skip it)."""
    from dataclasses import replace

    from edge_ocr.ocr.detect import DetectorSettings
    from edge_ocr.ocr.engine import EngineSettings
    from edge_ocr.ocr.pipeline import OcrOptions

    o = config.ocr
    options = OcrOptions(
        min_confidence=o.min_confidence,
        roi=(o.roi[0], o.roi[1], o.roi[2], o.roi[3]) if o.roi else None,
        allowlist=o.allow or None,
        classify=o.classify,
        detect_rotation=o.detect_rotation,
        second_opinion_below=o.second_opinion_below,
    )
    return EngineSettings(
        pack=o.pack or None,
        variant=o.variant or None,
        models_dir=models_dir,
        threads=o.threads,
        runtime=o.runtime,
        second_opinion=o.second_opinion,
        detector=replace(DetectorSettings(), max_side=o.max_side),
        options=options,
        memory=o.memory,
    )


def code_options(config: Config) -> CodeOptions:
    """The code scanner's options from the [codes] section."""
    c = config.codes
    return CodeOptions(tuple(c.readers), tuple(c.retry), c.budget_ms, c.zbar_density)


def gpio_button(pin: int, pressed: Callable[[], None]):
    """A push button (to ground) on a Raspberry Pi GPIO pin that triggers a read (gpiozero, imported only
    for trigger = "gpio")."""
    try:
        from gpiozero import Button
    except ImportError:
        raise ConfigError(
            '[gate] trigger = "gpio" needs gpiozero: on Raspberry Pi OS `sudo apt install python3-gpiozero` '
            "(venv with --system-site-packages) or `pip install gpiozero lgpio`"
        ) from None
    try:
        button = Button(pin, pull_up=True, bounce_time=0.05)
    except Exception as exc:  # no GPIO chip, pin in use, no permission (the unit allows /dev/gpiochip*)
        raise ConfigError(f"[gate] gpio_pin {pin}: cannot use the pin: {exc}") from None
    button.when_pressed = pressed
    return button


# ---- parts ----------------------------------------------------------------------------------------


@dataclass
class Parts:
    """What the daemon runs on; each part is None when the configuration leaves it out."""

    store: Store
    pipeline: Any = None  # OcrPipeline (imported only when text reading is on)
    codes: CodeScanner | None = None
    publisher: Any = None  # Publisher (imported only when MQTT is on)
    source: Any = None  # ResilientSource
    button: Any = None  # the GPIO trigger, kept alive while the daemon runs
    stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        """Close everything that was opened, the last opened first."""
        self.stack.close()


def open_store(config: Config, state_dir: Path) -> Store:
    """The store under the state directory, as [device] and [store] say."""
    return Store(state_dir, store_settings(config))


def open_engine(config: Config):
    """The OCR engine from [ocr]; None when text reading is off."""
    if not config.ocr.enabled:
        return None
    from edge_ocr.ocr.engine import load_engine

    engine = load_engine(engine_settings(config))
    p = engine.pack
    mode = ", low-memory mode" if engine.low_memory else ""
    log.info(
        "models loaded: %s (%s) on %s in %.0f ms%s", p.name, p.variant, engine.runtime, engine.load_ms, mode
    )
    return engine


def open_parts(
    config: Config,
    state_dir: Path,
    *,
    password: str | None = None,
    stats_extra: Callable[[], dict] | None = None,
    commands: dict[str, Callable[[bytes], None]] | None = None,
    on_button: Callable[[], None] | None = None,
    before_store_closes: Callable[[], None] | None = None,
    source: Any = None,
) -> Parts:
    """Open every part the configuration asks for; on any failure, close what was opened and raise."""
    stack = ExitStack()
    try:
        store = open_store(config, state_dir)
        stack.callback(store.close)
        if before_store_closes is not None:
            stack.callback(before_store_closes)  # e.g. the last status.json, while the store is open
        parts = Parts(store, stack=stack)
        engine = open_engine(config)
        parts.pipeline = engine.pipeline if engine else None
        if config.codes.enabled:
            parts.codes = CodeScanner(code_options(config))
            stack.callback(parts.codes.close)
        if config.mqtt.enabled:
            from edge_ocr.publish.publisher import Publisher  # paho only with MQTT on

            parts.publisher = Publisher(store, config.mqtt, config.device_id, password, stats_extra, commands)
            parts.publisher.start()
            stack.callback(parts.publisher.stop)
        if config.gate.trigger == "gpio" and on_button is not None:
            parts.button = gpio_button(config.gate.gpio_pin, on_button)
        from edge_ocr.sources import ResilientSource, make_source

        parts.source = ResilientSource(source or make_source(config.source), config.source)
        stack.callback(parts.source.close)
        return parts
    except BaseException:
        stack.close()
        raise
