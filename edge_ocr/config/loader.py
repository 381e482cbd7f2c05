"""Read the TOML file and turn it into a Config, collecting every problem before raising once."""

from __future__ import annotations

import difflib
import sys
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from edge_ocr.config import sections as sec
from edge_ocr.config.kinds import DEFAULT_SOURCE_KIND, SOURCE_KINDS, TRIGGERS, SourceSettings, VideoSettings
from edge_ocr.config.rules import check_value, shown
from edge_ocr.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 (Jetson JetPack 6)
    import tomli as tomllib

MAX_FILE_BYTES = 1 << 20  # a configuration is a few kB; anything this big is not one
MAX_DEPTH = 16  # TOML nesting deeper than this is not a configuration either


@dataclass(frozen=True)
class Config:
    """The whole file."""

    device: sec.DeviceSection = field(default_factory=sec.DeviceSection)
    ocr: sec.OcrSection = field(default_factory=sec.OcrSection)
    codes: sec.CodesSection = field(default_factory=sec.CodesSection)
    store: sec.StoreSection = field(default_factory=sec.StoreSection)
    mqtt: sec.MqttSection = field(default_factory=sec.MqttSection)
    source: SourceSettings = field(default_factory=VideoSettings)
    gate: sec.GateSection = field(default_factory=sec.GateSection)
    service: sec.ServiceSection = field(default_factory=sec.ServiceSection)
    origin: str = "defaults"  # the file it came from (not a key)

    @property
    def device_id(self) -> str:
        """The configured id, or the host name (looked up here, never while parsing)."""
        import socket

        return self.device.id or socket.gethostname().split(".")[0] or "edge-ocr"


SECTIONS: dict[str, type] = {
    "device": sec.DeviceSection,
    "ocr": sec.OcrSection,
    "codes": sec.CodesSection,
    "store": sec.StoreSection,
    "mqtt": sec.MqttSection,
    "source": VideoSettings,  # the default kind's class; `kind` picks another (config.kinds)
    "gate": sec.GateSection,
    "service": sec.ServiceSection,
}


class Problems:
    """Every problem of one file, each as `FILE: [section] key: what is wrong`."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.lines: list[str] = []

    def add(self, section: str | None, key: str | None, what: str) -> None:
        """One problem, named by section and key."""
        where = f"[{section}]" if section else "top level"
        self.lines.append(f"{self.origin}: {where}{f' {key}' if key else ''}: {what}")

    def raise_if_any(self) -> None:
        """One ConfigError holding them all."""
        if self.lines:
            raise ConfigError("\n".join(self.lines), problems=self.lines)


def _unknown(name: str, known: list[str], what: str = "key") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {shown(close[0])}?" if close else f"known: {', '.join(known)}"
    return f"unknown {what} ({hint})" if what == "key" else f"unknown {what} {shown(name)} ({hint})"


def _depth(value: Any, limit: int) -> bool:
    """True when nested deeper than `limit` (iteratively: a hostile file must not blow the stack)."""
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return False


def _section(cls: type, data: dict, name: str, problems: Problems, foreign: dict[str, str]) -> Any:
    """One section's values converted and checked; a bad value leaves the default in place."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, raw in data.items():
        if key not in known:
            owner = foreign.get(key)
            problems.add(name, key, owner or _unknown(key, list(known)))
            continue
        value, wrong = check_value(raw, hints[key], known[key].metadata)
        for what in wrong:
            problems.add(name, key, what)
        if not wrong:
            values[key] = value
    for key, f in known.items():  # a key a kind needs (an inbox's path) may be missing altogether
        check = f.metadata.get("check")
        default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
        if key not in data and check is not None and (what := check(default)):
            problems.add(name, key, what)
    section = cls(**values)
    for key, what in section.problems():
        problems.add(name, key, what)
    return section


def _source(data: dict, problems: Problems) -> SourceSettings:
    """[source]: the settings class of its kind; keys of other kinds are named as such."""
    kind = data.get("kind", DEFAULT_SOURCE_KIND)
    if not isinstance(kind, str) or kind not in SOURCE_KINDS:
        choices = ", ".join(SOURCE_KINDS)
        hint = difflib.get_close_matches(str(kind), list(SOURCE_KINDS), n=1)
        more = f" (did you mean {shown(hint[0])}?)" if hint else ""
        problems.add("source", "kind", f"{shown(kind)} is not one of {choices}{more}")
        kind = DEFAULT_SOURCE_KIND
        data = {k: v for k, v in data.items() if k == "kind"}  # the rest cannot be judged
    cls = SOURCE_KINDS[kind].settings
    own = {f.name for f in fields(cls)}
    foreign: dict[str, str] = {}
    for other in SOURCE_KINDS.values():
        for f in fields(other.settings):
            if f.name not in own:
                foreign.setdefault(
                    f.name, f"not a setting of kind {shown(kind)} (it belongs to kind {shown(other.name)})"
                )
    return _section(cls, {k: v for k, v in data.items() if k != "kind"}, "source", problems, foreign)


def _gate(data: dict, problems: Problems) -> sec.GateSection:
    """[gate]: the trigger from the table in config.kinds; keys of other triggers are named."""
    trigger = data.get("trigger", sec.GateSection.trigger)
    foreign: dict[str, str] = {}
    if not isinstance(trigger, str) or trigger not in TRIGGERS:
        hint = difflib.get_close_matches(str(trigger), list(TRIGGERS), n=1)
        more = f" (did you mean {shown(hint[0])}?)" if hint else ""
        problems.add("gate", "trigger", f"{shown(trigger)} is not one of {', '.join(TRIGGERS)}{more}")
        data = {k: v for k, v in data.items() if k != "trigger"}
    else:
        for other, keys in TRIGGERS.items():
            for key in keys:
                if key not in TRIGGERS[trigger] and key in data:
                    foreign[key] = f"only used with trigger = {shown(other)} (this file has {shown(trigger)})"
        data = {k: v for k, v in data.items() if k not in foreign}
        for key, what in foreign.items():
            problems.add("gate", key, what)
    return _section(sec.GateSection, data, "gate", problems, {})


def override(section: Any, values: dict[str, tuple[str, Any]], name: str) -> Any:
    """A section with command-line values put in, checked by the same rules as the file's keys.

    `values` maps a key to (the flag that set it, the value); problems name the flag.
    """
    problems = Problems("edge-ocr")
    hints = typing.get_type_hints(type(section))
    known = {f.name: f for f in fields(section)}
    changes = {}
    for key, (flag, raw) in values.items():
        value, wrong = check_value(raw, hints[key], known[key].metadata)
        for what in wrong:
            problems.lines.append(f"{flag}: {what}")
        if not wrong:
            changes[key] = value
    merged = replace(section, **changes)
    for key, what in merged.problems():
        flag = values.get(key, (f"[{name}] {key}", None))[0]
        problems.lines.append(f"{flag}: {what}")
    problems.raise_if_any()
    return merged


def parse_into(data: dict, problems: Problems) -> Config:
    """A Config from parsed TOML, bad values left at their defaults and added to `problems`."""
    if _depth(data, MAX_DEPTH):
        problems.add(None, None, f"nested more than {MAX_DEPTH} levels deep: not an edge-ocr configuration")
        return Config(origin=problems.origin)
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SECTIONS:
            problems.add(None, None, _unknown(name, list(SECTIONS), "section"))
        elif not isinstance(value, dict):
            problems.add(name, None, f"must be a table (a [{name}] section)")
        elif name == "source":
            sections[name] = _source(value, problems)
        elif name == "gate":
            sections[name] = _gate(value, problems)
        else:
            sections[name] = _section(SECTIONS[name], value, name, problems, {})
    config = Config(**sections, origin=problems.origin)
    _roi_in_frame(config, problems)
    return config


def _roi_in_frame(config: Config, problems: Problems) -> None:
    """A pixel region must lie inside the frame size the camera is asked for (when one is set)."""
    roi, width, height = (
        config.ocr.roi,
        getattr(config.source, "width", 0),
        getattr(config.source, "height", 0),
    )
    if len(roi) == 4 and max(roi) > 1.0 and width and height:
        x, y, w, h = roi
        if x + w > width or y + h > height:
            problems.add("ocr", "roi", f"{roi} reaches outside the {width}x{height} frame of [source]")


def parse(data: dict, source: str = "<config>") -> Config:
    """A Config from parsed TOML (every section optional); all problems in one ConfigError. No I/O."""
    problems = Problems(source)
    config = parse_into(data, problems)
    problems.raise_if_any()
    return config


def read_toml(path: Path) -> dict:
    """The file's TOML table, or a ConfigError saying why it is not one."""
    try:
        with Path(path).open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_FILE_BYTES // 1024} kB: not an edge-ocr configuration")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{path}: the file is UTF-16; save it as UTF-8")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte order mark (some Windows editors write one)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply: not an edge-ocr configuration") from None
