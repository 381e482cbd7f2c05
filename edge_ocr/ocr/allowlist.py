"""Allow-list syntax ('A-Z0-9-'), without numpy: the configuration check parses it too."""

from __future__ import annotations

MAX_RANGE = 0x3000  # wider ranges are a mistake (and would build sets of a million strings)


def parse_allowlist(spec: str) -> set[str]:
    """Expand 'A-Z0-9-' style specs: ranges between two characters, a lone '-' is literal."""
    chars: set[str] = set()
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            lo, hi = spec[i], spec[i + 2]
            if ord(lo) > ord(hi):
                raise ValueError(f"allow-list range {lo}-{hi} is reversed")
            if ord(hi) - ord(lo) > MAX_RANGE:
                raise ValueError(f"allow-list range {lo}-{hi} is wider than {MAX_RANGE} characters")
            chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
        else:
            chars.add(spec[i])
            i += 1
    return chars
