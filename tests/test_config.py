"""The configuration file: the committed example is complete and current; checks name the key and file."""

from dataclasses import fields
from pathlib import Path

import pytest

from edge_ocr.cli import main
from edge_ocr.config import SECTIONS, Config, load, parse, tomllib
from edge_ocr.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "edge_ocr" / "config.example.toml"


def test_the_example_lists_every_key_with_its_default():
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data) == set(SECTIONS)
    defaults = Config()
    for name, cls in SECTIONS.items():
        assert [f.name for f in fields(cls)] == list(data[name]), f"[{name}] keys out of step"
        for key, value in data[name].items():
            assert getattr(getattr(defaults, name), key) == value, f"[{name}] {key} is not the default"
    assert load(EXAMPLE) == Config(origin=str(EXAMPLE))


def test_config_example_and_check_commands(tmp_path, capsys):
    assert main(["config", "example"]) == 0
    assert capsys.readouterr().out == EXAMPLE.read_text()
    good = tmp_path / "good.toml"
    good.write_text('[device]\nid = "dock-7"\n[source]\nkind = "inbox"\npath = "/nonexistent/inbox"\n')
    assert main(["config", "check", str(good)]) == 0
    out = capsys.readouterr()
    assert "ok:" in out.out and "device dock-7" in out.out and "does not exist" in out.err
    bad = tmp_path / "bad.toml"
    bad.write_text("[gate]\ntriger = 'interval'\n")
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: [gate]: unknown key 'triger' (did you mean 'trigger'?)" in err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": {"kind": "webcam"}}, "[source] key 'kind'"),
        ({"gate": {"trigger": "sometimes"}}, "[gate] key 'trigger'"),
        ({"service": {"queue_size": 0}}, "queue_size"),
        ({"store": {"max_mb": "big"}}, "[store] key 'max_mb': expected a number"),
        ({"ocr": {"threads": 2.5}}, "[ocr] key 'threads': expected a whole number"),
        ({"codes": {"enabled": "yes"}}, "expected true or false"),
        ({"device": "dock"}, "[device] must be a table"),
        ({"sources": {}}, "did you mean 'source'"),
    ],
)
def test_bad_values_are_named(data, message):
    with pytest.raises(ConfigError) as info:
        parse(data, "site.toml")
    assert message in str(info.value) and "site.toml" in str(info.value)


def test_gpio_trigger_wires_a_button_to_the_gate(monkeypatch):
    """gpiozero exists only on a Pi: a stand-in module at the import boundary, the real wiring above it."""
    import sys
    import types

    from edge_ocr.gate import FrameGate
    from edge_ocr.service import gpio_button

    made = []

    class Button:
        def __init__(self, pin, pull_up, bounce_time):
            self.pin, self.when_pressed = pin, None
            made.append(self)

    monkeypatch.setitem(sys.modules, "gpiozero", types.SimpleNamespace(Button=Button))
    gate = FrameGate(parse({"gate": {"trigger": "gpio"}}).gate)
    gpio_button(27, gate.request)
    assert made[0].pin == 27
    made[0].when_pressed()  # the button is pressed
    assert gate._requested.is_set()
    monkeypatch.setitem(sys.modules, "gpiozero", None)  # not installed
    with pytest.raises(ConfigError, match="needs gpiozero"):
        gpio_button(27, gate.request)


def test_second_opinion_settings_are_checked_and_passed_on():
    from edge_ocr.config import engine_settings

    with pytest.raises(ConfigError) as info:
        engine_settings(parse({"ocr": {"second_opinion_below": 2}}, "site.toml"))
    assert "[ocr] key 'second_opinion_below'" in str(info.value) and "site.toml" in str(info.value)
    settings = engine_settings(parse({"ocr": {"second_opinion": "none", "second_opinion_below": 0.9}}, "s"))
    assert settings.second_opinion == "none" and settings.options.second_opinion_below == 0.9


@pytest.mark.engine
def test_second_opinion_none_loads_one_recogniser_and_a_wrong_pack_is_named():
    from edge_ocr.errors import ModelError
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    assert load_engine(EngineSettings(second_opinion="none")).pipeline.second is None
    with pytest.raises(ModelError, match="unknown model pack 'nope'"):
        load_engine(EngineSettings(second_opinion="nope"))
    small = load_engine(EngineSettings(pack="ppocrv6-small"))
    assert small.pipeline.second is None and small.second is None  # its manifest entry names none
