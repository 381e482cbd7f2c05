"""Text made safe for XML 1.0 (hOCR and ALTO): escaped, and characters XML cannot hold replaced."""

from __future__ import annotations

import re

# XML 1.0 allows tab, LF, CR and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ATTR = {**_TEXT, '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


def xml_chars(value: str) -> str:
    """The string with characters XML 1.0 cannot carry (control codes) replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def text(value: str) -> str:
    """Element content."""
    return "".join(_TEXT.get(c, c) for c in xml_chars(value))


def attr(value: object) -> str:
    """A double-quoted attribute value (whitespace kept as character references)."""
    return '"' + "".join(_ATTR.get(c, c) for c in xml_chars(str(value))) + '"'
