"""Full-text search over stored lines and code payloads (FTS5), newest first."""

from __future__ import annotations

import re

from edge_ocr.errors import StoreError
from edge_ocr.store.db import Store, scan_filters
from edge_ocr.store.records import SearchHit

MARK_START, MARK_END = "\x02", "\x03"
_TOKEN = re.compile(r'"([^"]*)"(\*?)|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
KINDS = ("text", "code")
OPERATORS = ("OR", "AND", "NOT")
SHOWN_QUERY = 80  # characters of a query repeated in a message


def fts_query(user: str) -> str:
    """A user's query as safe FTS5 syntax: words AND-ed, "quoted phrases", word* prefixes, OR kept.

    Every term is quoted, so characters FTS5 treats as syntax (-, :, ., /) are just text: a serial
    number like 4471-AX2 matches as the phrase of its tokens.
    """
    parts = []
    user = _CONTROL.sub(" ", user)  # never searchable, and a NUL ends SQLite's copy of the expression
    for m in _TOKEN.finditer(user):
        phrase, star, word = m.group(1), m.group(2), m.group(3)
        if phrase is not None:
            if phrase.strip():
                parts.append('"' + phrase.replace('"', "") + '"' + star)
            continue
        if word in OPERATORS:
            if parts and parts[-1] not in OPERATORS:  # "a OR OR b" reads as "a OR b"
                parts.append(word)
            continue
        prefix = word.endswith("*") and len(word) > 1
        body = word.rstrip("*").replace('"', "")
        if body:
            parts.append('"' + body + '"' + ("*" if prefix else ""))
    while parts and parts[-1] in OPERATORS:
        parts.pop()
    if not parts:
        raise StoreError("search: the query has no words")
    return " ".join(parts)


def search(
    store: Store,
    query: str,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    source: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    limit: int = 20,
) -> list[SearchHit]:
    """Matching lines and/or code payloads, newest first (insertion order stands for time)."""
    match = fts_query(query)
    hits: list[SearchHit] = []
    for kind in kinds:
        table, rows = ("lines", "lines_fts") if kind == "text" else ("codes", "codes_fts")
        extra = ", c.symbology" if kind == "code" else ", NULL"
        filters, values = scan_filters(since_ms, until_ms, source, table="s.")
        where, params = [f"{rows} MATCH ?", *filters], [match, *values]
        sql = (
            f"SELECT s.id, s.captured_ms, s.source, c.text, highlight({rows}, 0, ?, ?){extra}"
            f" FROM {rows} JOIN {table} c ON c.id = {rows}.rowid JOIN scans s ON s.id = c.scan_id"
            f" WHERE {' AND '.join(where)} ORDER BY {rows}.rowid DESC LIMIT ?"
        )
        try:
            rows_found = store.query(sql, (MARK_START, MARK_END, *params, limit))
        except StoreError as exc:
            if any(word in str(exc).lower() for word in ("fts5", "syntax", "unterminated")):
                shown = query if len(query) <= SHOWN_QUERY else query[:SHOWN_QUERY] + "…"
                raise StoreError(f"search: cannot understand the query {shown!r}") from None
            raise
        hits += [SearchHit(r[0], r[1], r[2], kind, r[3], r[4], r[5]) for r in rows_found]
    hits.sort(key=lambda h: (h.captured_ms, h.scan_id), reverse=True)
    return hits[:limit]
