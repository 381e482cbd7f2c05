"""Bounded argparse types: every number on the command line is range-checked when it is parsed.

A value out of range is a usage error (exit 2) that argparse prints with the option's name,
`argument --limit: 99999999999999999999 is not between 1 and 1000000`, never a traceback later.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

SQLITE_INT_MAX = 2**63 - 1  # SQLite integers are 64-bit signed
MAX_AGE_DAYS = 36_500  # 100 years: the longest age or retention a command accepts
_SHOWN = 40  # characters of a refused value echoed back


def shown(text: str) -> str:
    """A refused value as echoed in its error: stripped, and cut short if long."""
    text = text.strip()
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _num(x: float) -> str:
    """1000000, 0.5: bounds as a person writes them (no 1e+06, no 1000000.0)."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def int_range(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from lo to hi inclusive."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown(text)!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not between {_num(lo)} and {_num(hi)}")
        return value

    return parse


def float_range(lo: float, hi: float, *, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number from lo (or, with above, greater than lo) to hi inclusive."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{shown(text)!r} is not a number") from None
        inside = math.isfinite(value) and (lo < value if above else lo <= value) and value <= hi
        if not inside:
            bounds = f"above {_num(lo)} and at most" if above else f"between {_num(lo)} and"
            raise argparse.ArgumentTypeError(f"{shown(text)} is not {bounds} {_num(hi)}")
        return value

    return parse


scan_id = int_range(1, SQLITE_INT_MAX)  # a stored scan's id
