"""Shared fixtures: the real engine on the shipped models, loaded once per test session."""

from __future__ import annotations

import os

import pytest

from edge_ocr.ocr.engine import EngineSettings, load_engine


@pytest.fixture(scope="session")
def engine():
    """The default pack on the runtime chosen by EDGE_OCR_RUNTIME (LiteRT unless told otherwise)."""
    return load_engine(EngineSettings(runtime=os.environ.get("EDGE_OCR_RUNTIME", "auto")))


@pytest.fixture(scope="session")
def pipeline(engine):
    return engine.pipeline
