"""Code 39 Full ASCII (ISO/IEC 16388): what a reader that applies it makes of the raw characters.

Code 39 has 43 data characters; Full ASCII writes every other ASCII character as a pair of a shift
character ($, %, / or +) and a letter (+A is 'a', /Z is ':', %U is NUL). Nothing in the symbol says
whether it is Full ASCII: zxing-cpp applies the pairs whenever every shift character in the raw
text starts a valid pair (and then reports Code39Ext, symbology identifier ]A4, or ]A5 with a
check character); ZBar never applies them. The merge uses this module to check that zxing-cpp's
text is exactly the Full ASCII reading of the characters ZBar saw.
"""

from __future__ import annotations

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# The pairs of the Full ASCII table, by shift character; pairs not listed (/M, /N, /P to /Y) are
# reserved in the standard, so a raw text holding one is not read as Full ASCII here.
_PAIRS: dict[str, dict[str, int]] = {
    "$": {letter: 1 + i for i, letter in enumerate(_LETTERS)},  # $A..$Z: SOH..SUB
    "%": {
        **{letter: 27 + i for i, letter in enumerate("ABCDE")},  # ESC FS GS RS US
        **{letter: ord(c) for letter, c in zip("FGHIJ", ";<=>?", strict=True)},
        **{letter: ord(c) for letter, c in zip("KLMNO", "[\\]^_", strict=True)},
        **{letter: ord(c) for letter, c in zip("PQRS", "{|}~", strict=True)},
        "T": 0x7F,
        "U": 0x00,
        "V": ord("@"),
        "W": ord("`"),
        "X": 0x7F,
        "Y": 0x7F,
        "Z": 0x7F,
    },
    "/": {
        **{letter: ord(c) for letter, c in zip("ABCDEFGHIJKL", "!\"#$%&'()*+,", strict=True)},
        "O": ord("/"),
        "Z": ord(":"),
    },
    "+": {letter: ord(letter.lower()) for letter in _LETTERS},  # +A..+Z: a..z
}


def full_ascii(raw: bytes) -> bytes | None:
    """The Full ASCII reading of raw Code 39 characters; None when they are not valid Full ASCII
    (a character outside Code 39, a shift character without its letter, a reserved pair)."""
    out = bytearray()
    chars = iter(raw.decode("latin-1"))
    for c in chars:
        if c not in _ALPHABET:
            return None
        pairs = _PAIRS.get(c)
        if pairs is None:
            out.append(ord(c))
            continue
        value = pairs.get(next(chars, ""))
        if value is None:
            return None
        out.append(value)
    return bytes(out)


def check_character(raw: bytes) -> str | None:
    """The optional modulo-43 check character of raw Code 39 characters; None outside Code 39."""
    text = raw.decode("latin-1")
    if not text or any(c not in _ALPHABET for c in text):
        return None
    return _ALPHABET[sum(_ALPHABET.index(c) for c in text) % 43]


def is_full_ascii_of(text: bytes, raw: bytes) -> bool:
    """True when `text` is the Full ASCII reading of the raw characters `raw` and differs from them,
    either of all of them or, when the last one is a valid check character, of the others with the
    check character kept as it is (what zxing-cpp transmits as ]A5)."""
    if text == raw:
        return False
    if full_ascii(raw) == text:
        return True
    body, last = raw[:-1], raw[-1:]
    decoded = full_ascii(body) if last and check_character(body) == last.decode("latin-1") else None
    return decoded is not None and decoded + last == text
