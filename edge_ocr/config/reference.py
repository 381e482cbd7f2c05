"""The README's configuration reference, generated: keys, defaults and rules from the section classes,
meanings from the comments of the committed example file (so neither can drift from the code)."""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, Field, fields
from importlib import resources

from edge_ocr.config.kinds import DEFAULT_SOURCE_KIND, SOURCE_KINDS, TRIGGERS, SourceBase
from edge_ocr.config.loader import SECTIONS

_LINE = re.compile(r"^(?:# )?([a-z_]+) = .*?(?:\s#\s+(.*))?$")


def _comments() -> dict[tuple[str, str], str]:
    """(section, key) -> the example's comment on that key (kind blocks: (source:KIND, key))."""
    text = resources.files("edge_ocr").joinpath("config.example.toml").read_text(encoding="utf-8")
    out: dict[tuple[str, str], str] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        elif kind := re.match(r'^# --- kind = "([\w-]+)": (.*?) ---', line):
            section = f"source:{kind.group(1)}"
            out[(section, "")] = kind.group(2)  # what the kind is: the meaning of a key without a comment
        elif m := _LINE.match(line):
            out.setdefault((section, m.group(1)), (m.group(2) or "").strip())
    return out


def _default(f: Field) -> str:
    value = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
    return f"`{json.dumps(value, ensure_ascii=False)}`" if value not in ("", []) else "empty"


def _rule(f: Field) -> str:
    r = f.metadata
    table = {"kind": SOURCE_KINDS, "trigger": TRIGGERS}.get(f.name)
    choices = r.get("choices") or (tuple(table) if table else None)
    if choices:
        return " | ".join(f"`{c}`" for c in choices)
    parts = []
    if r.get("above") is not None:
        parts.append(f"> {r['above']:g}")
    if r.get("lo") is not None and r.get("hi") is not None:
        return f"{r['lo']:g} to {r['hi']:g}"
    if r.get("lo") is not None:
        parts.append(f">= {r['lo']:g}")
    if r.get("hi") is not None:
        parts.append(f"<= {r['hi']:g}")
    check = r.get("check")
    return ", ".join(parts) or (((check.__doc__ or "") if check else "").strip().rstrip("."))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _rows(section: str, cls: type, skip: set[str], where: str, comments: dict) -> list[str]:
    rows = []
    for f in fields(cls):
        if f.name in skip:
            continue
        meaning = comments.get((where, f.name)) or comments.get((where, ""), "")
        rows.append(f"| `[{section}] {f.name}` | {_default(f)} | {_cell(_rule(f))} | {_cell(meaning)} |")
    return rows


def reference_markdown() -> str:
    """The table the README shows between its config-reference markers."""
    comments = _comments()
    out = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
    base = {f.name for f in fields(SourceBase)}
    for name, cls in SECTIONS.items():
        if name == "source":
            out += _rows("source", SourceBase, set(), "source", comments)
            for kind in SOURCE_KINDS.values():
                where = "source" if kind.name == DEFAULT_SOURCE_KIND else f"source:{kind.name}"
                rows = _rows("source", kind.settings, base, where, comments)
                out += [r.replace("| `[source] ", f"| `[source]` {kind.name}: `", 1) for r in rows]
        else:
            out += _rows(name, cls, set(), name, comments)
    gated = ", ".join(f'`{k}` only with `trigger = "{t}"`' for t, keys in TRIGGERS.items() for k in keys)
    out.append("")
    out.append(f"`[source]` keys other than the first four belong to one kind each; `[gate]`: {gated}.")
    return "\n".join(out) + "\n"
