"""The configuration file: the committed example is complete and current; checks name the key and file."""

import re
from dataclasses import fields
from pathlib import Path

import pytest

from edge_ocr.cli import main
from edge_ocr.config import SECTIONS, SOURCE_KINDS, TRIGGERS, Config, load, parse, tomllib
from edge_ocr.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "edge_ocr" / "config.example.toml"


def _kind_blocks(text: str) -> dict[str, str]:
    """The example's commented-out [source] blocks, one per kind, uncommented."""
    blocks = re.findall(r'^# --- kind = "([\w-]+)".*?\n((?:# .*\n)+)', text, flags=re.M)
    return {kind: "".join(line[2:] + "\n" for line in body.splitlines()) for kind, body in blocks}


def test_the_example_lists_every_key_with_its_default():
    text = EXAMPLE.read_text()
    data = tomllib.loads(text)
    assert set(data) == set(SECTIONS)
    defaults = Config()
    for name, cls in SECTIONS.items():
        commented = set(re.findall(r"^# ([a-z_]+) = ", text.split(f"[{name}]")[1].split("\n[")[0], re.M))
        listed = [k for k in (f.name for f in fields(cls)) if k in data[name]]
        assert set(data[name]) | commented >= {f.name for f in fields(cls)}, f"[{name}] keys missing"
        assert listed == list(data[name]), f"[{name}] keys out of order"
        for key, value in data[name].items():
            assert getattr(getattr(defaults, name), key) == value, f"[{name}] {key} is not the default"
    assert load(EXAMPLE) == Config(origin=str(EXAMPLE))


def test_the_example_shows_every_source_kind_with_its_own_keys():
    blocks = _kind_blocks(EXAMPLE.read_text())
    assert set(blocks) | {"video"} == set(SOURCE_KINDS)
    for kind, body in blocks.items():
        config = parse(tomllib.loads(f'[source]\nkind = "{kind}"\n{body}'), kind)
        own = {f.name for f in fields(SOURCE_KINDS[kind].settings)}
        assert set(tomllib.loads(body)) == own - {"kind", "stall_s", "reopen_min_s", "reopen_max_s"}, kind
        assert type(config.source) is SOURCE_KINDS[kind].settings


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
    assert "bad.toml: [gate] triger: unknown key (did you mean 'trigger'?)" in err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": {"kind": "webcam"}}, "[source] kind: 'webcam' is not one of"),
        ({"source": {"kind": ["v4l2"]}}, "[source] kind: ['v4l2'] is not one of"),
        ({"gate": {"trigger": "sometimes"}}, "[gate] trigger: 'sometimes' is not one of"),
        ({"service": {"queue_size": 0}}, "[service] queue_size: 0 is not between 1 and 1000"),
        ({"store": {"max_mb": "big"}}, "[store] max_mb: expected a number"),
        ({"store": {"images": "some"}}, "[store] images: 'some' is not one of none, results, all"),
        ({"ocr": {"threads": 2.5}}, "[ocr] threads: expected a whole number"),
        ({"codes": {"enabled": "yes"}}, "expected true or false"),
        ({"device": "dock"}, "[device]: must be a table"),
        ({"sources": {}}, "did you mean 'source'"),
        # each of these passed `config check` once and failed at `run` (issue 11)
        ({"codes": {"readers": ["zxingg"]}}, "[codes] readers: 'zxingg' is not one of zxing, zbar"),
        ({"codes": {"retry": ["bogus"]}}, "[codes] retry: 'bogus' is not one of"),
        ({"codes": {"readers": []}}, "[codes] readers: at least one reader"),
        ({"ocr": {"threads": 0}}, "[ocr] threads: 0 is not between 1 and 64"),
        ({"ocr": {"threads": 99999999999999999999}}, "[ocr] threads: 99999999999999999999 is not between"),
        ({"ocr": {"min_confidence": 7}}, "[ocr] min_confidence: 7 is not between 0 and 1"),
        ({"ocr": {"min_confidence": float("nan")}}, "[ocr] min_confidence: expected a finite number"),
        ({"ocr": {"allow": "Z-A"}}, "[ocr] allow: allow-list range Z-A is reversed"),
        ({"ocr": {"allow": "["}}, "[ocr] allow: '[' has no letter or digit"),
        ({"ocr": {"roi": [1, 2]}}, "[ocr] roi: expected [x, y, w, h] (4 numbers), got 2"),
        ({"ocr": {"roi": [2, 2, 2, 2]}}, "[ocr] roi: a region of 2 x 2 pixels is too small"),
        ({"ocr": {"roi": [-1, -1, 0.5, 0.5]}}, "[ocr] roi: x and y must be >= 0"),
        ({"ocr": {"roi": [0.5, 0.5, 0.8, 0.2]}}, "[ocr] roi: as fractions of the frame"),
        ({"ocr": {"runtime": "foo"}}, "[ocr] runtime: 'foo' is not one of auto, litert, tflite_runtime"),
        ({"ocr": {"runtime": "cuda"}}, "[ocr] runtime: 'cuda' is not one of"),
        ({"ocr": {"max_side": -5}}, "[ocr] max_side: -5 is not between 320 and 8192"),
        ({"ocr": {"second_opinion": "a/b/c"}}, "[ocr] second_opinion: 'a/b/c': expected auto, none"),
        ({"source": {"kind": "picamera2", "autofocus": "blurry"}}, "[source] autofocus: 'blurry' is not"),
        ({"source": {"autofocus": "auto"}}, "[source] autofocus: not a setting of kind 'video'"),
        ({"source": {"kind": "v4l2", "url": "rtsp://x/y"}}, "[source] url: not a setting of kind 'v4l2'"),
        ({"source": {"kind": "url", "url": "ftp://cam/1"}}, "[source] url: expected rtsp://HOST"),
        ({"source": {"kind": "gstreamer", "pipeline": "v4l2src ! fakesink"}}, "must end in appsink"),
        ({"source": {"kind": "inbox"}}, "[source] path: is empty (the watched folder)"),
        ({"source": {"kind": "url"}}, "[source] url: expected rtsp://HOST"),
        ({"gate": {"interval_s": 3}}, "[gate] interval_s: only used with trigger = 'interval'"),
        ({"gate": {"trigger": "interval", "interval_s": 0}}, "[gate] interval_s: 0 must be greater than 0"),
        ({"mqtt": {"backoff_min_s": 10, "backoff_max_s": 5}}, "[mqtt] backoff_min_s: 10 is above"),
        ({"mqtt": {"topic_prefix": "a/#"}}, "[mqtt] topic_prefix: 'a/#' is not a valid topic prefix"),
        ({"device": {"id": "dock 7/a"}}, "[device] id: 'dock 7/a' must be"),
        ({"service": {"log_level": "loud"}}, "[service] log_level: 'loud' is not one of"),
    ],
)
def test_bad_values_are_named(data, message):
    with pytest.raises(ConfigError) as info:
        parse(data, "site.toml")
    assert message in str(info.value) and str(info.value).startswith("site.toml: ")


def _bad_value(value):
    """A value of the wrong type for a key whose good value is `value`."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "many"
    if isinstance(value, str):
        return 5
    return {"not": "a list"}


def test_every_key_of_the_example_refuses_a_value_of_the_wrong_type_and_names_it():
    data = tomllib.loads(EXAMPLE.read_text())
    for section, keys in data.items():
        for key, value in keys.items():
            bad = {section: {**keys, key: _bad_value(value)}}
            with pytest.raises(ConfigError) as info:
                parse(bad, "walk.toml")
            assert f"walk.toml: [{section}] {key}: " in str(info.value), (section, key)
    for kind, body in _kind_blocks(EXAMPLE.read_text()).items():  # the keys of every other source kind
        keys = tomllib.loads(body)
        for key, value in keys.items():
            with pytest.raises(ConfigError) as info:
                parse({"source": {"kind": kind, **keys, key: _bad_value(value)}}, "walk.toml")
            assert f"walk.toml: [source] {key}: " in str(info.value), (kind, key)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[ocr]\nthreads = 0\nmin_confidence = 7\nallow = "Z-A"\n'
        '[codes]\nreaders = ["zxingg"]\n[gate]\ntriger = "interval"\n[mqtt]\nport = 70000\n'
    )
    with pytest.raises(ConfigError) as info:
        load(bad)
    assert len(info.value.problems) == 6, info.value.problems
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    for key in ("[ocr] threads", "[ocr] min_confidence", "[ocr] allow", "[codes] readers", "[gate] triger"):
        assert f"bad.toml: {key}:" in err
    assert "6 problems" in err
    assert main(["run", "--config", str(bad), "--state-dir", str(tmp_path / "s")]) == 78
    assert "[mqtt] port: 70000 is not between 0 and 65535" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("ocr", "message"),
    [
        ({"pack": "nope"}, "[ocr] pack: unknown model pack 'nope'"),
        ({"variant": "fp64"}, "[ocr] variant:"),
        ({"second_opinion": "nope"}, "[ocr] second_opinion: unknown model pack 'nope'"),
        ({"allow": "0-9\u16a0"}, "[ocr] allow: characters not in the ppocrv6-tiny model dictionary"),
    ],
)
def test_model_names_are_checked_against_the_manifest(tmp_path, ocr, message):
    path = tmp_path / "c.toml"
    path.write_text("[ocr]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in ocr.items()))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("\ufeff[ocr]\nthreads = 1\n".encode("utf-16"), "the file is UTF-16; save it as UTF-8"),
        (b'[ocr]\nallow = "\xff"\n', "not UTF-8 text (byte 15)"),
        (b"[ocr]\nroi = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested"),
        (b"x = 1\n" * 200_000, "larger than 1024 kB"),
        (b"[ocr\n", "not valid TOML"),
    ],
)
def test_files_that_are_not_a_configuration_are_named_not_a_traceback(tmp_path, capsys, content, message):
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    assert main(["config", "check", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert main(["run", "--config", str(path), "--state-dir", str(tmp_path / "s")]) == 78


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b"\xef\xbb\xbf[ocr]\nthreads = 1\n")
    assert load(path).ocr.threads == 1


def test_what_depends_on_the_machine_is_a_warning(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gpiozero", None)  # not installed here
    path = tmp_path / "c.toml"
    path.write_text('[gate]\ntrigger = "gpio"\n[source]\nkind = "v4l2"\ndevice = "/dev/video97"\n')
    assert main(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert 'warning: [gate] trigger = "gpio" needs gpiozero' in err
    assert "warning: [source] device = '/dev/video97' does not exist" in err


def test_trigger_table_lists_the_keys_only_a_trigger_uses():
    assert set(TRIGGERS) == {"continuous", "interval", "scene-change", "command", "gpio"}
    assert parse({"gate": {"trigger": "gpio", "gpio_pin": 5}}).gate.gpio_pin == 5
    with pytest.raises(ConfigError, match="gpio_pin: only used with trigger = 'gpio'"):
        parse({"gate": {"trigger": "interval", "gpio_pin": 5}})


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
    from edge_ocr.service import engine_settings

    with pytest.raises(ConfigError) as info:
        parse({"ocr": {"second_opinion_below": 2}}, "site.toml")
    assert "site.toml: [ocr] second_opinion_below: 2 is not between 0 and 1" in str(info.value)
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


def test_readme_configuration_reference_is_generated_from_the_sections(capsys):
    from edge_ocr.config.reference import reference_markdown

    readme = (EXAMPLE.parent.parent / "README.md").read_text()
    block = readme.split("<!-- config-reference:start -->\n")[1].split("<!-- config-reference:end -->")[0]
    assert block == reference_markdown(), "run `edge-ocr config reference` and paste it into the README"
    for name, cls in SECTIONS.items():
        for f in fields(cls):
            assert f"] {f.name}`" in block or f": `{f.name}`" in block, (name, f.name)
    assert main(["config", "reference"]) == 0
    assert capsys.readouterr().out == block


def test_a_pixel_roi_must_fit_the_requested_frame_and_one_outside_the_image_is_an_error():
    import numpy as np

    from edge_ocr.ocr.pipeline import roi_box

    frame = {"source": {"kind": "v4l2", "width": 1280, "height": 720}}
    assert parse({**frame, "ocr": {"roi": [100, 100, 400, 200]}}).ocr.roi == [100, 100, 400, 200]
    with pytest.raises(ConfigError, match=r"\[ocr\] roi: .* reaches outside the 1280x720 frame"):
        parse({**frame, "ocr": {"roi": [5000, 5000, 100, 100]}})
    image = np.zeros((720, 1280, 3), np.uint8)
    assert roi_box((0.5, 0.5, 0.5, 0.5), 1280, 720) == (640, 360, 1280, 720)
    with pytest.raises(ValueError, match="lies outside the 1280x720 image"):
        roi_box((5000, 5000, 100, 100), image.shape[1], image.shape[0])


@pytest.mark.parametrize("broken", ["file", "garbage"])
def test_a_state_directory_run_cannot_use_exits_78_not_a_restart_loop(tmp_path, capsys, broken):
    state = tmp_path / "state"
    if broken == "file":
        state.write_text("not a folder")
    else:
        state.mkdir()
        (state / "edge_ocr.db").write_bytes(b"this is not an SQLite database" * 100)
    config = tmp_path / "c.toml"
    config.write_text("[ocr]\nenabled = false\n[codes]\nenabled = false\n")
    assert main(["run", "--config", str(config), "--state-dir", str(state)]) == 78
    assert "cannot" in capsys.readouterr().err
