"""Content generators: realistic strings for each kind of item, drawn from a seeded generator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from tests.synth import words

T = TypeVar("T")

# Codes skip I, O and Q like most real serial and plate schemes, so ground truth is not ambiguous.
CODE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
DIGITS = "0123456789"


@dataclass
class Segment:
    """One run of text in a row: its string, typographic role and horizontal alignment."""

    text: str
    role: str = "body"  # 'title' | 'bold' | 'body' | 'small'
    align: str = "left"  # 'left' | 'right' | 'center'


Row = list[Segment]


def pick(rng: np.random.Generator, seq: Sequence[T]) -> T:
    """Return one element as its own Python type (rng.choice would hand back numpy scalars)."""
    return seq[int(rng.integers(len(seq)))]


def chance(rng: np.random.Generator, p: float) -> bool:
    """Return True with probability p."""
    return bool(rng.random() < p)


def code(rng: np.random.Generator, pattern: str) -> str:
    """Fill a pattern: 'A' a letter, '9' a digit, 'X' either; anything else is kept as written."""
    out = []
    for ch in pattern:
        if ch == "A":
            out.append(pick(rng, CODE_LETTERS))
        elif ch == "9":
            out.append(pick(rng, DIGITS))
        elif ch == "X":
            out.append(pick(rng, CODE_LETTERS + DIGITS))
        else:
            out.append(ch)
    return "".join(out)


def company(rng: np.random.Generator) -> str:
    """Return a plausible company name, upper or title case."""
    name = f"{pick(rng, words.COMPANY_HEADS)} {pick(rng, words.COMPANY_TAILS)}"
    if chance(rng, 0.35):
        keep = {"GMBH": "GmbH", "LTD": "Ltd", "INC": "Inc", "CO": "Co"}
        name = " ".join(keep.get(w, w.capitalize()) for w in name.split())
    return name


def address(rng: np.random.Generator) -> list[str]:
    """Return a street line and a city line in US, EU or UK style."""
    street = f"{int(rng.integers(1, 4999))} {pick(rng, words.STREETS)}"
    if chance(rng, 0.15):
        street = f"Unit {int(rng.integers(1, 40))}, {street}"
    region = int(rng.integers(3))
    if region == 0:
        city, state = pick(rng, words.US_CITIES)
        return [street, f"{city}, {state} {code(rng, '99999')}"]
    if region == 1:
        post, city = pick(rng, words.EU_CITIES)
        return [street, f"{post} {city}"]
    city, post = pick(rng, words.UK_CITIES)
    return [street, f"{city} {post}"]


def part_no(rng: np.random.Generator) -> str:
    """Return a part number field like 'PART NO 4471-AX2'."""
    value = code(rng, pick(rng, ("9999-AX9", "AA-99999", "999-9999-99", "AAA9999", "99999-A")))
    return f"{pick(rng, ('PART NO', 'P/N', 'PART#', 'ITEM NO'))} {value}"


def serial_no(rng: np.random.Generator) -> str:
    """Return a serial number field like 'SN: 7F3K-22981'."""
    value = code(rng, pick(rng, ("9AXA-99999", "XXXX-XXXX", "AA99999999", "9999-9999", "A9A9A9")))
    return f"{pick(rng, ('SN:', 'S/N', 'SERIAL NO', 'SN'))} {value}"


def date(rng: np.random.Generator, iso: bool = True) -> str:
    """Return a date, ISO or day/month/year."""
    y, m, d = int(rng.integers(2019, 2031)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    return f"{y}-{m:02d}-{d:02d}" if iso else f"{d:02d}/{m:02d}/{y}"


def clock(rng: np.random.Generator) -> str:
    """Return a 24-hour time like '14:32'."""
    return f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}"


def lot(rng: np.random.Generator) -> str:
    """Return a lot or batch field like 'LOT 2026-11-04'."""
    if chance(rng, 0.5):
        return f"LOT {date(rng)}"
    return f"{pick(rng, ('LOT', 'LOT:', 'BATCH'))} {code(rng, pick(rng, ('A9999', '9999A', '99-999')))}"


def qty(rng: np.random.Generator) -> str:
    """Return a quantity field like 'QTY 24'."""
    n = int(pick(rng, (1, 2, 4, 6, 10, 12, 20, 24, 25, 36, 48, 50, 100, 120, 144, 250)))
    return pick(rng, (f"QTY {n}", f"QTY: {n} PCS", f"{n} PCS", f"QTY {n} EA"))


def weight(rng: np.random.Generator) -> str:
    """Return a weight like '12.5 kg'."""
    value = f"{rng.uniform(0.2, 48.0):.1f}"
    unit = pick(rng, ("kg", "KG", "lb"))
    return pick(rng, (f"{value} {unit}", f"GW {value} {unit}", f"NET WT {value} {unit}"))


def label_rows(rng: np.random.Generator) -> list[Row]:
    """Return the rows of a shipping, parts or asset label (3 to 7 text runs in all)."""
    template = int(rng.integers(3))
    head: list[Row]
    if template == 0:
        head = [[Segment(company(rng), "title")]] + [[Segment(s)] for s in address(rng)]
        if chance(rng, 0.4):
            head.insert(0, [Segment(pick(rng, ("FROM:", "SHIP TO:", "DELIVER TO:", "SENDER")), "small")])
    elif template == 1:
        head = [[Segment(company(rng), "title")]]
    else:
        head = [
            [Segment(pick(rng, ("PROPERTY OF", "ASSET TAG", "OWNED BY")), "small")],
            [Segment(company(rng), "bold")],
        ]
    fields = [part_no(rng), serial_no(rng), lot(rng)]
    if template == 2:
        fields = [f"ASSET NO {code(rng, '999999')}", serial_no(rng)]
    rng.shuffle(fields)
    body: list[Row] = [[Segment(f, "bold" if i == 0 else "body")] for i, f in enumerate(fields)]
    if chance(rng, 0.6):
        body.append([Segment(qty(rng)), Segment(weight(rng), align="right")])
    elif chance(rng, 0.5):
        body.append([Segment(weight(rng))])
    budget = int(rng.integers(3, 8))
    rows = list(head)
    for row in body:
        if sum(len(r) for r in rows) + len(row) > budget:
            continue
        rows.append(row)
    while sum(len(r) for r in rows) < 3:
        rows.append([Segment(pick(rng, (qty(rng), weight(rng), lot(rng))))])
    return rows


def plate_text(rng: np.random.Generator, style: str) -> str:
    """Return a registration or serial string in the given plate style."""
    patterns = {
        "uk": ("AA99 AAA",),
        "eu": ("A-999-AA", "AA-999-AA", "AA 9999", "99-AAA-9", "AAA 999", "A-AA 999"),
        "us": ("9AAA999", "AAA 9999", "AAA-9999", "999 AAA", "AA9 9AAA"),
    }
    return code(rng, pick(rng, patterns[style]))


def serial_plate_lines(rng: np.random.Generator) -> list[str]:
    """Return the one or two lines of an equipment serial plate."""
    first = f"{pick(rng, ('MODEL', 'TYPE', 'MOD'))} {code(rng, pick(rng, ('AA-999', 'AA999', '9999A')))}"
    second = serial_no(rng)
    return [first, second] if chance(rng, 0.7) else [second]


def sign_lines(rng: np.random.Generator) -> list[str]:
    """Return 1 to 3 lines of a warehouse or safety sign."""
    template = pick(rng, words.SIGN_PHRASES)
    values = {
        "n": str(int(rng.integers(1, 25))),
        "l": pick(rng, "ABCDEF"),
        "L": pick(rng, "ABCDEFGH"),
        "nn": f"{int(rng.integers(1, 40)):02d}",
        "mm": f"{int(rng.integers(40, 99)):02d}",
        "kg": str(int(rng.integers(2, 21)) * 250),
        "mph": str(int(pick(rng, (5, 8, 10, 15)))),
    }
    return [line.format(**values) for line in template]


def _price(rng: np.random.Generator) -> int:
    """Return a price in cents, skewed towards small amounts."""
    return round(float(rng.lognormal(5.6, 0.8))) + 9


def money(cents: int) -> str:
    """Format cents as '12.34'."""
    return f"{cents // 100}.{cents % 100:02d}"


def receipt_rows(rng: np.random.Generator, width: int) -> list[Row]:
    """Return 8 to 20 receipt rows whose totals add up, fitting in `width` monospace columns."""
    target = int(rng.integers(8, 21))
    header: list[Row] = [[Segment(pick(rng, words.STORES), "title", "center")]]
    for line in address(rng):
        if len(line) <= width:
            header.append([Segment(line, "body", "center")])
    if chance(rng, 0.4):
        header.append([Segment(f"TEL {code(rng, '999-999-9999')}", "body", "center")])
    stamp: Row = [Segment(date(rng, chance(rng, 0.5))), Segment(clock(rng), align="right")]
    footer_rows: list[Row] = [
        [Segment(pick(rng, ("THANK YOU", "THANK YOU FOR SHOPPING", "PLEASE COME AGAIN")), "body", "center")]
    ]
    fixed = len(header) + 1 + 4 + len(footer_rows)
    n_items = max(1, target - fixed)
    items: list[Row] = []
    subtotal = 0
    for _ in range(n_items):
        name = pick(rng, words.RECEIPT_ITEMS)
        cents = _price(rng)
        if chance(rng, 0.15):
            count = int(rng.integers(2, 6))
            name = f"{count} X {name}"
            cents *= count
        subtotal += cents
        items.append([Segment(name[: width - 10].rstrip()), Segment(money(cents), align="right")])
    rate = int(pick(rng, (5, 7, 8, 10, 20)))
    tax = round(subtotal * rate / 100)
    total = subtotal + tax
    totals: list[Row] = [
        [Segment("SUBTOTAL"), Segment(money(subtotal), align="right")],
        [Segment(f"TAX {rate}%"), Segment(money(tax), align="right")],
        [Segment("TOTAL", "bold"), Segment(money(total), "bold", "right")],
        [Segment(pick(rng, ("VISA", "MASTERCARD", "CASH", "DEBIT"))), Segment(money(total), align="right")],
    ]
    return [*header, stamp, *items, *totals, *footer_rows]


def sentence(rng: np.random.Generator) -> str:
    """Return a sentence of common and logistics words with light punctuation."""
    n = int(rng.integers(6, 17))
    out = []
    for i in range(n):
        if chance(rng, 0.05):
            w = pick(
                rng,
                (
                    str(int(rng.integers(2, 99))),
                    str(int(rng.integers(2019, 2031))),
                    f"{rng.uniform(1, 40):.1f}%",
                ),
            )
        else:
            w = pick(rng, words.LOGISTICS if chance(rng, 0.2) else words.COMMON)
        if i < n - 1 and chance(rng, 0.07):
            w += ","
        out.append(w)
    out[0] = out[0].capitalize()
    return " ".join(out) + pick(rng, (".", ".", ".", ".", "?"))


def title(rng: np.random.Generator) -> str:
    """Return a short heading in title case."""
    n = int(rng.integers(2, 5))
    picked = [pick(rng, words.LOGISTICS if i == n - 1 else words.COMMON) for i in range(n)]
    return " ".join(w.capitalize() for w in picked)


def line_text(rng: np.random.Generator) -> str:
    """Return one line a user might crop: a phrase, a field, an address or a company name."""
    choice = int(rng.integers(6))
    if choice == 0:
        words_ = sentence(rng).split()
        start = int(rng.integers(0, max(1, len(words_) - 3)))
        return " ".join(words_[start : start + int(rng.integers(2, 7))])
    if choice == 1:
        return pick(rng, (part_no(rng), serial_no(rng), lot(rng), qty(rng), weight(rng)))
    if choice == 2:
        return pick(rng, address(rng))
    if choice == 3:
        return company(rng)
    if choice == 4:
        number = code(rng, pick(rng, ("999999", "AA-99999", "9999-999")))
        return f"{pick(rng, ('ORDER', 'PO', 'INVOICE', 'REF'))} {number}"
    return f"{pick(rng, words.RECEIPT_ITEMS)} {money(_price(rng))}"


def paragraphs(rng: np.random.Generator, n_sentences: int) -> list[str]:
    """Return paragraphs of generated sentences, about n_sentences in all."""
    out: list[str] = []
    left = n_sentences
    while left > 0:
        k = min(left, int(rng.integers(2, 7)))
        out.append(" ".join(sentence(rng) for _ in range(k)))
        left -= k
    return out
