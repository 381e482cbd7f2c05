"""What `config check` can only warn about: things that depend on the machine it runs on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from edge_ocr.config.loader import Config
from edge_ocr.ocr.defaults import INTERPRETERS

# runtime name -> the package that must be installed for it
RUNTIME_MODULES = {name: module.split(".")[0] for name, module in INTERPRETERS.items()}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def machine_warnings(config: Config) -> list[str]:
    """Missing files, devices and optional packages the configuration refers to (fatal only at `run`)."""
    out = []
    m = config.mqtt
    for key in ("password_file", "ca_file", "cert_file", "key_file"):
        value = getattr(m, key)
        if m.enabled and value and not Path(value).exists():
            out.append(f"[mqtt] {key} = {value!r} does not exist")
    source = config.source
    path = getattr(source, "path", "")
    if path and not any(c in path for c in "*?[") and not Path(path).exists():
        out.append(f"[source] path = {path!r} does not exist")
    device = getattr(source, "device", "")
    if source.kind == "v4l2" and device.startswith("/") and not Path(device).exists():
        out.append(f"[source] device = {device!r} does not exist on this machine")
    if source.kind == "picamera2" and not _importable("picamera2"):
        out.append(
            '[source] kind = "picamera2" needs picamera2 (Raspberry Pi OS: apt install python3-picamera2)'
        )
    if config.gate.trigger == "gpio" and not _importable("gpiozero"):
        out.append('[gate] trigger = "gpio" needs gpiozero, which is not installed here')
    o = config.ocr
    if o.enabled and o.runtime in RUNTIME_MODULES and not _importable(RUNTIME_MODULES[o.runtime]):
        out.append(f"[ocr] runtime = {o.runtime!r}: {RUNTIME_MODULES[o.runtime]} is not installed here")
    if o.enabled and o.runtime == "auto" and not any(_importable(m) for m in RUNTIME_MODULES.values()):
        out.append("[ocr] no TFLite runtime is installed here (ai-edge-litert or tflite-runtime)")
    return out
