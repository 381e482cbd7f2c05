"""Hypothesis strategies for the fuzz tests: configuration tables and search queries."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.inputs import KNOWN_SECTIONS, known_keys

# Strings a user might plausibly type into a config, and some nobody should.
WORDS = (
    "inbox",
    "picamera2",
    "v4l2",
    "continuous",
    "gpio",
    "auto",
    "none",
    "all",
    "/dev/video0",
    "../../etc/passwd",
    "ppocrv6-tiny",
    "ppocrv6-small/int8",
    "0-9A-Z",
    "",
    " ",
    "\x00",
    "x" * 5000,
)
scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(WORDS),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@st.composite
def config_tables(draw) -> dict:
    """A TOML table: known and unknown sections, each with known and unknown keys of any value type."""
    keys = known_keys()
    table: dict = {}
    for _ in range(draw(st.integers(0, 6))):
        section = draw(st.sampled_from(KNOWN_SECTIONS) | st.text(min_size=1, max_size=12))
        if draw(st.integers(0, 9)) == 0:
            table[section] = draw(scalars)  # a section that is not a table
            continue
        known = keys.get(section) or ["kind"]
        body = draw(
            st.dictionaries(st.sampled_from(known) | st.text(min_size=1, max_size=12), values, max_size=6)
        )
        table[section] = body
    return table


SYNTAX = ['"', "*", "(", ")", ":", "^", "-", "+", "NEAR", "OR", "AND", "NOT", "{", "}", "'", ";", "%", "\\"]
SQL = ["'; DROP TABLE scans; --", '" OR 1=1 --', "lines_fts MATCH 'x'", "*", "NEAR(a b, 0)", "col:text"]


def queries():
    """Search strings: FTS5 operators, quotes, SQL, control characters, very long words."""
    token = st.one_of(
        st.sampled_from(SYNTAX + SQL + ["4471-AX2", "TAG-3", "result", "RESULT*", "résult"]),
        st.text(max_size=20),
        st.text(st.characters(max_codepoint=0x1F), max_size=5),
        st.just("a" * 10000),
    )
    return st.lists(token, max_size=12).map(" ".join)
