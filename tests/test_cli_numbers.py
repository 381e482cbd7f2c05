"""Every number on the command line is range-checked when parsed: a usage error naming it, no traceback."""

import argparse
import math
from datetime import datetime, timezone

import pytest

from edge_ocr.cli import main
from edge_ocr.cli.numbers import MAX_AGE_DAYS, SQLITE_INT_MAX, float_range, int_range, scan_id
from edge_ocr.cli.state import parse_time
from edge_ocr.results import PageResult, TextLine
from edge_ocr.store import Store, now_ms

BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
HUGE = "99999999999999999999"  # beyond SQLite's 64-bit integers


@pytest.fixture
def state(tmp_path):
    with Store(tmp_path / "state") as store:
        store.save_scan(PageResult("cam0", 1, 64, 48, [TextLine("PUMP", 0.9, BOX)]), captured_ms=now_ms())
    return tmp_path / "state"


def _usage_error(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", HUGE], f"argument SCAN_ID: {HUGE} is not between 1 and {SQLITE_INT_MAX}"),
        (["show", str(SQLITE_INT_MAX + 1)], "argument SCAN_ID:"),
        (["show", "0"], "argument SCAN_ID: 0 is not between 1"),
        (["show", "seven"], "argument SCAN_ID: 'seven' is not a whole number"),
        (["export", "1", HUGE], f"argument SCAN_ID: {HUGE} is not between 1 and"),
        (["search", "X", "--limit", HUGE], f"argument --limit: {HUGE} is not between 1 and 1000000"),
        (["search", "X", "--limit", "0"], "argument --limit: 0 is not between 1 and 1000000"),
        (["search", "X", "--limit", "-5"], "argument --limit: -5 is not between"),
        (
            ["search", "X", "--since", "9999999999999d"],
            "argument --since: '9999999999999d': an age can be at most",
        ),
        (["search", "X", "--until", f"{MAX_AGE_DAYS + 1}d"], "argument --until:"),
        (["search", "X", "--since", "9" * 400 + "s"], "argument --since:"),  # float('9'*400) is inf
        (["search", "X", "--since", "1969-12-31"], "argument --since: '1969-12-31': not between 1970-01-01"),
        (["search", "X", "--since", "0001-01-01"], "not between 1970-01-01 and 9999-12-31"),
        (["search", "X", "--since", "10000-01-01"], "expected a date/time"),
        (["export", "--since", "99999999999999999d"], "argument --since:"),
        (["outbox", "drop", "--before", "99999999999999999d"], "argument --before: '99999999999999999d'"),
        (["outbox", "drop", "--before", "1900-01-01"], "argument --before: '1900-01-01': not between"),
        (["store", "prune", "--max-age-days", "nan"], "argument --max-age-days: nan is not above 0"),
        (["store", "prune", "--max-age-days", "inf"], "argument --max-age-days: inf is not above 0"),
        (
            ["store", "prune", "--max-age-days", "0"],
            "argument --max-age-days: 0 is not above 0 and at most 36500",
        ),
        (["store", "prune", "--max-age-days", "1e400"], "argument --max-age-days:"),
        (["store", "prune", "--max-mb", "1e300"], "argument --max-mb: 1e300 is not between 1 and 1000000000"),
        (["store", "prune", "--max-mb", "0.5"], "argument --max-mb: 0.5 is not between 1"),
        (["store", "prune", "--max-mb", "lots"], "argument --max-mb: 'lots' is not a number"),
        (["bench", "--repeat", "0"], "argument --repeat: 0 is not between 1 and 100000"),
        (["bench", "--repeat", HUGE], "argument --repeat:"),
        (["bench", "--min-fpm", "nan"], "argument --min-fpm: nan is not between 0 and 1000000"),
        (["bench", "--min-fpm", "-1"], "argument --min-fpm: -1 is not between"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(argv, message, tmp_path, capsys):
    err = _usage_error(capsys, [*argv, "--state-dir", str(tmp_path)] if argv[0] != "bench" else argv)
    assert message in err and "Traceback" not in err


def test_values_at_the_bounds_still_work(state, capsys):
    code = main(["show", str(SQLITE_INT_MAX), "--state-dir", str(state)])
    assert code == 1 and f"no scan #{SQLITE_INT_MAX}" in capsys.readouterr().err
    assert main(["show", "1", "--state-dir", str(state)]) == 0
    assert main(["search", "pump", "--limit", "1000000", "--state-dir", str(state)]) == 0
    assert main(["search", "pump", "--since", f"{MAX_AGE_DAYS}d", "--state-dir", str(state)]) == 0
    assert (
        main(["search", "pump", "--since", "1970-01-01", "--until", "9999-12-31", "--state-dir", str(state)])
        == 0
    )
    assert main(["export", "1", "--state-dir", str(state)]) == 0
    assert main(["outbox", "drop", "--before", "1970-01-01", "--state-dir", str(state)]) == 0
    capsys.readouterr()
    argv = ["store", "prune", "--max-age-days", str(MAX_AGE_DAYS), "--max-mb", "1e9", "--format", "json"]
    assert main([*argv, "--state-dir", str(state)]) == 0


def test_int_range():
    parse = int_range(1, 10)
    assert parse(" 7 ") == 7 and parse("1") == 1 and parse("10") == 10
    for bad in ("0", "11", "1.5", "", "x", "9" * 5000):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
    with pytest.raises(argparse.ArgumentTypeError, match=r"^11 is not between 1 and 10$"):
        parse("11")
    with pytest.raises(argparse.ArgumentTypeError, match=r"\.\.\.' is not a whole number"):
        parse("9" * 5000)  # too many digits for int(): refused, and not echoed in full
    assert scan_id(str(SQLITE_INT_MAX)) == SQLITE_INT_MAX


def test_float_range():
    parse = float_range(0, 1e6)
    assert parse("0") == 0.0 and parse("1e6") == 1e6 and parse("2.5") == 2.5
    for bad in ("nan", "inf", "-inf", "1e400", "-0.1", "1000000.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
    above = float_range(0, 5, above=True)
    assert above("0.001") == 0.001 and above("5") == 5.0
    with pytest.raises(argparse.ArgumentTypeError, match=r"^0 is not above 0 and at most 5$"):
        above("0")
    with pytest.raises(argparse.ArgumentTypeError, match=r"between 0 and 0\.5$"):
        float_range(0, 0.5)("NaN")
    assert not math.isnan(parse("0"))


def test_parse_time_bounds():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc)
    assert parse_time("2h", now) == int(now.timestamp() * 1000) - 7_200_000
    assert parse_time(f"{MAX_AGE_DAYS}d", now) == int(now.timestamp() * 1000) - MAX_AGE_DAYS * 86_400_000
    assert parse_time("1970-01-01T00:00Z") == 0
    assert parse_time("2026-11-21T12:00+00:00") == int(now.timestamp() * 1000)
    assert parse_time("9999-12-31T23:59:59Z") == 253_402_300_799_000
    for bad in (
        f"{MAX_AGE_DAYS + 1}d",
        "5300w",
        "9" * 400 + "m",
        "1969-12-31T23:59Z",
        "0001-01-01",
        "tomorrow",
    ):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_time(bad, now)


@pytest.mark.parametrize(
    ("connected", "error", "words"),
    [
        (True, None, "mqtt connected"),
        (
            True,
            "connection lost: Keep alive timeout",
            "mqtt connected (since the last failure: connection lost",
        ),
        (False, "cannot connect to 127.0.0.1:1883: Connection refused", "mqtt not connected: cannot connect"),
    ],
)
def test_status_says_whether_an_mqtt_error_is_past_or_present(tmp_path, capsys, connected, error, words):
    """`edge-ocr status` once printed "mqtt connected (disconnected by ...)" (issue 12)."""
    import json as json_module
    import os
    import time

    from edge_ocr.cli import main

    body = {"pid": os.getpid(), "updated": time.time(), "mqtt_connected": connected, "mqtt_last_error": error}
    (tmp_path / "status.json").write_text(json_module.dumps(body))
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert words in out, out
