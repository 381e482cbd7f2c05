"""The one TOML configuration file: typed sections, each default and rule defined once (sections.py,
kinds.py); every problem of a file is reported at once with the file, section and key named."""

from __future__ import annotations

from pathlib import Path

from edge_ocr.config.kinds import (
    SOURCE_KINDS,
    TRIGGERS,
    GstreamerSettings,
    ImagesSettings,
    InboxSettings,
    PiCameraSettings,
    SourceBase,
    SourceSettings,
    UrlSettings,
    V4l2Settings,
    VideoSettings,
)
from edge_ocr.config.loader import SECTIONS, Config, Problems, override, parse, parse_into, read_toml, tomllib
from edge_ocr.config.machine import machine_warnings
from edge_ocr.config.sections import (
    CodesSection,
    DeviceSection,
    GateSection,
    MqttSection,
    OcrSection,
    ServiceSection,
    StoreSection,
)


def load(path: Path, models_dir: Path | None = None) -> Config:
    """Read and check a TOML file, model names included; every problem in one ConfigError."""
    from edge_ocr.config.models_check import check_models

    problems = Problems(str(path))
    config = parse_into(read_toml(path), problems)
    check_models(config, problems, models_dir)
    problems.raise_if_any()
    return config


def source_settings(kind: str, **values) -> SourceSettings:
    """The settings class of a source kind (for code and tests that build one directly)."""
    return SOURCE_KINDS[kind].settings(**values)


__all__ = [
    "SECTIONS",
    "SOURCE_KINDS",
    "TRIGGERS",
    "CodesSection",
    "Config",
    "DeviceSection",
    "GateSection",
    "GstreamerSettings",
    "ImagesSettings",
    "InboxSettings",
    "MqttSection",
    "OcrSection",
    "PiCameraSettings",
    "Problems",
    "ServiceSection",
    "SourceBase",
    "SourceSettings",
    "StoreSection",
    "UrlSettings",
    "V4l2Settings",
    "VideoSettings",
    "load",
    "machine_warnings",
    "override",
    "parse",
    "parse_into",
    "read_toml",
    "source_settings",
    "tomllib",
]
