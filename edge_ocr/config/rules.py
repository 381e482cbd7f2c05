"""What a setting may hold, declared next to its default: type, range, choices, extra checks.

A section field is made with `setting(default, ...)`; `check_value` turns a raw TOML value into the
field's type or a list of plain-language problems. Nothing here does I/O.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Iterable
from dataclasses import field
from typing import Any

MAX_TEXT = 4096  # characters in one string value (paths, URLs, pipelines)
MAX_ITEMS = 64  # entries in one list value

Check = Callable[[Any], str | None]  # a problem in words, or None


def setting(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    above: float | None = None,
    choices: Iterable[str] | None = None,
    check: Check | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field with its default and the rules a value must follow."""
    rules = {"lo": lo, "hi": hi, "above": above, "choices": tuple(choices) if choices else None}
    rules.update(check=check, doc=doc)
    if isinstance(default, list):
        frozen = list(default)
        return field(default_factory=lambda: list(frozen), metadata=rules)
    return field(default=default, metadata=rules)


SHOWN_CHARS = 60  # of a value repeated in a message: a 5,000-character string is not echoed whole


def shown(value: Any) -> str:
    """A value as a message repeats it: its repr, cut to SHOWN_CHARS with the full length said."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def _type_name(tp: Any) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _plural(tp: Any) -> str:
    return {bool: "true/false values", int: "whole numbers", float: "numbers", str: "strings"}.get(
        tp, f"{_type_name(tp)} values"
    )


def _scalar(value: Any, tp: Any) -> tuple[Any, str | None]:
    """The value as `tp`, or why it cannot be."""
    if tp is bool:
        if isinstance(value, bool):
            return value, None
        return None, f"expected true or false, got {shown(value)}"
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return None, f"expected a whole number, got {shown(value)}"
        return value, None
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"expected a number, got {shown(value)}"
        if not math.isfinite(value):
            return None, f"expected a finite number, got {shown(value)}"
        return float(value), None
    if tp is str:
        if not isinstance(value, str):
            return None, f"expected a string, got {shown(value)}"
        if len(value) > MAX_TEXT:
            return None, f"longer than {MAX_TEXT} characters"
        if "\x00" in value:
            return None, "contains a NUL character"
        return value, None
    return None, f"unsupported type {tp}"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _rules(value: Any, rules: typing.Mapping[str, Any]) -> list[str]:
    """Range, choice and custom checks of one converted (scalar) value."""
    out = []
    lo, hi, above, choices = rules.get("lo"), rules.get("hi"), rules.get("above"), rules.get("choices")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if above is not None and value <= above:
            out.append(f"{_number(value)} must be greater than {_number(above)}")
        if lo is not None and hi is not None and not lo <= value <= hi:
            out.append(f"{_number(value)} is not between {_number(lo)} and {_number(hi)}")
        elif lo is not None and value < lo:
            out.append(f"{_number(value)} must be at least {_number(lo)}")
        elif hi is not None and value > hi:
            out.append(f"{_number(value)} must be at most {_number(hi)}")
    if choices is not None and value not in choices:
        out.append(f"{shown(value)} is not one of {', '.join(choices)}{_did_you_mean(value, choices)}")
    return out


def _did_you_mean(value: Any, choices: Iterable[str]) -> str:
    import difflib

    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean {shown(close[0])}?)" if close else ""


def check_value(value: Any, tp: Any, rules: typing.Mapping[str, Any]) -> tuple[Any, list[str]]:
    """A raw TOML value as the field's type `tp`, with every problem found (empty when good)."""
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            return None, [f"expected a list of {_plural(item)}, got {shown(value)}"]
        if len(value) > MAX_ITEMS:
            return None, [f"more than {MAX_ITEMS} entries"]
        converted, problems = [], []
        for v in value:
            c, why = _scalar(v, item)
            if why:
                problems.append(why)
            else:
                converted.append(c)
                problems += _rules(c, rules)
        if not problems and rules.get("check"):
            problems += _custom(rules["check"], converted)
        return converted, problems
    converted, why = _scalar(value, tp)
    if why:
        return None, [why]
    problems = _rules(converted, rules)
    if not problems and rules.get("check"):
        problems += _custom(rules["check"], converted)
    return converted, problems


def _custom(check: Check, value: Any) -> list[str]:
    why = check(value)
    return [why] if why else []
