"""Make the source of a [source] kind, through the one table of kinds in config.kinds."""

from __future__ import annotations

import importlib

from edge_ocr.config.kinds import SOURCE_KINDS, SourceSettings
from edge_ocr.errors import ConfigError
from edge_ocr.sources.base import FrameSource


def make_source(settings: SourceSettings) -> FrameSource:
    """The (not yet opened) source for [source]; wrap it in ResilientSource to keep it coming back."""
    try:
        kind = SOURCE_KINDS[settings.kind]
    except KeyError:
        kinds = ", ".join(SOURCE_KINDS)
        raise ConfigError(f"[source] kind: {settings.kind!r} is not one of {kinds}") from None
    module, _, name = kind.factory.partition(":")
    return getattr(importlib.import_module(module), name)(settings)
