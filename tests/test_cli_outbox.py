"""`edge-ocr outbox` and the [mqtt] configuration checks, on real store files."""

import json

import pytest

from edge_ocr.cli import main
from edge_ocr.config import load, parse
from edge_ocr.errors import ConfigError
from edge_ocr.publish.messages import message_builder
from edge_ocr.publish.secrets import read_password
from edge_ocr.publish.topics import Topics
from edge_ocr.results import Code, PageResult, TextLine
from edge_ocr.store import Store, StoreSettings

BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


@pytest.fixture
def state(tmp_path):
    build = message_builder(Topics("edge_ocr", "dock-7"))
    with Store(tmp_path, StoreSettings(device="dock-7")) as store:
        for i in range(4):
            result = PageResult("cam0", 1, 64, 48, [TextLine(f"L{i}", 0.9, BOX)])
            if i == 3:
                result.codes = [Code("QRCode", b"Q", "Q", BOX)]
            store.save_scan(result, captured_ms=1_000 * (i + 1), messages=build)
        rows = store.pending()
        store.mark_sent([rows[0].id])
        store.record_attempt([rows[1].id], "broker down")
    return tmp_path


def test_outbox_status_counts_by_state(state, capsys):
    assert main(["outbox", "--format", "json", "--state-dir", str(state)]) == 0
    counts = json.loads(capsys.readouterr().out)
    # 4 scan messages + 1 code message; one sent, one retried
    assert (
        counts["depth"] == 4
        and counts["waiting"] == 3
        and counts["retrying"] == 1
        and counts["sent_kept"] == 1
    )


def test_outbox_retry_and_drop(state, capsys):
    assert main(["outbox", "retry", "--state-dir", str(state)]) == 0
    assert "attempt counts and errors reset on 4 unsent messages" in capsys.readouterr().out
    assert main(["outbox", "drop", "--state-dir", str(state)]) == 2
    assert "needs --before" in capsys.readouterr().err
    assert main(["outbox", "drop", "--before", "2000-01-01", "--state-dir", str(state)]) == 0
    assert "0 unsent messages dropped" in capsys.readouterr().out
    assert main(["outbox", "drop", "--before", "0s", "--state-dir", str(state)]) == 0
    assert "4 unsent messages dropped" in capsys.readouterr().out
    with Store(state, readonly=True) as store:
        assert store.counters()["outbox_dropped_by_operator"] == 4


def test_payloads_carry_ids_sequence_and_the_result(state):
    with Store(state, readonly=True) as store:
        rows = store.pending(limit=10)
    bodies = [json.loads(r.payload) for r in rows]
    assert [b["seq"] for b in bodies] == [2, 3, 4, 5]
    scan, code = bodies[2], bodies[3]
    assert rows[3].topic == "edge_ocr/dock-7/code" and code["symbology"] == "QRCode" and code["scan_id"] == 4
    assert scan["device"] == "dock-7" and scan["text"] == "L3" and scan["captured_at"].endswith("Z")
    assert scan["lines"][0]["text"] == "L3" and scan["codes"][0]["bytes_b64"] == "UQ=="


def test_mqtt_config_is_checked_by_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[mqtt]\nenabled = true\nhost = "10.0.0.5"\nprotocol = "3.1.1"\n')
    assert load(cfg).mqtt.protocol == "3.1.1"
    cfg.write_text('[mqtt]\nhots = "x"\n')
    with pytest.raises(ConfigError, match=r"c\.toml: \[mqtt\] hots: unknown key \(did you mean 'host'\?\)"):
        load(cfg)
    for bad, message in [
        ({"mqtt": {"protocol": "4"}}, "protocol"),
        ({"mqtt": {"port": 70000}}, "port"),
        ({"mqtt": {"password_file": "a", "password_credential": "b"}}, "not both"),
        ({"mqtt": {"cert_file": "c.pem"}}, "go together"),
        ({"mqtt": {"topic_prefix": "a/#"}}, "topic prefix"),
        ({"mqtt": {"inflight": "64"}}, "whole number"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse(bad, "x.toml")
    cfg.write_text("[mqtt\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(cfg)


def test_password_from_file_or_credential(tmp_path, monkeypatch):
    (tmp_path / "pw").write_text("s3cret\nignored\n")
    assert read_password(str(tmp_path / "pw")) == "s3cret"
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_password(credential="pw") == "s3cret"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(ConfigError, match="CREDENTIALS_DIRECTORY"):
        read_password(credential="pw")
    with pytest.raises(ConfigError, match="cannot read the password"):
        read_password(str(tmp_path / "missing"))
    assert read_password() is None
