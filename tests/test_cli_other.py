"""`edge-ocr eval`, `bench` and `models`, run as a user would."""

import json
import shutil

import cv2
import pytest

from edge_ocr.cli import main
from tests.imaging import render_lines
from tests.synth import write_set

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def gt_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalsets")
    write_set(root / "photos", 6, seed=3, kinds=("label", "sign", "plate"), level="photo")
    lines = root / "lines"
    lines.mkdir()
    for i, text in enumerate(["SN 7F3K-22981", "DOCK 12B", "LOT 2026-11-04"]):
        cv2.imwrite(str(lines / f"l{i}.png"), render_lines([text], size=30))
        (lines / f"l{i}.png.gt.txt").write_text(text + "\n")  # IMAGE.gt.txt naming
    (lines / "no-truth.png").write_bytes((lines / "l0.png").read_bytes())  # ignored: no ground truth
    return root


def test_eval_reports_per_folder_and_overall(gt_folders, capsys):
    assert main(["eval", "--format", "json", str(gt_folders)]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {r["folder"].rsplit("/", 1)[-1]: r for r in report["folders"]}
    assert set(by_name) == {"photos", "lines"}
    assert by_name["photos"]["images"] == 6 and by_name["lines"]["images"] == 3
    assert by_name["lines"]["cer_images"] == 3 and by_name["lines"]["cer"] < 0.05
    assert by_name["lines"]["f1"] > 0.9 and by_name["photos"]["f1"] > 0.7
    assert report["overall"]["images"] == 9 and report["overall"]["ms_mean"] > 0


def test_eval_text_table_and_bad_folder(gt_folders, capsys):
    assert main(["eval", str(gt_folders / "lines")]) == 0
    out = capsys.readouterr().out
    assert "F1" in out and "overall" in out
    assert main(["eval", str(gt_folders / "nope")]) == 2


def test_bench_reports_every_figure_and_the_verdict(capsys):
    assert main(["bench", "--repeat", "1", "--format", "json", "--min-fpm", "1"]) == 0
    f = json.loads(capsys.readouterr().out)
    for key in (
        "load_ms",
        "cold_start_ms",
        "detector_tile_ms",
        "detect_ms",
        "recognise_line_ms",
        "recognise_batch8_ms",
        "frame",
        "frames_per_minute",
        "peak_rss_mb",
    ):
        assert key in f, key
    assert set(f["detect_ms"]) == {"640x480", "1280x720", "1920x1080"}
    assert f["frame"]["lines"] >= 3 and f["meets_minimum"] is True


def test_bench_names_the_memory_mode_it_measured(capsys):
    """A board's row must say whether it ran the low-memory mode: its tiles and peak differ."""
    assert main(["bench", "--repeat", "1", "--format", "json", "--memory", "low"]) == 0
    low = json.loads(capsys.readouterr().out)
    assert low["memory"] == "low" and list(low["detector_tile_ms"]) == ["320x320"]
    assert main(["bench", "--repeat", "1", "--memory", "normal"]) in (0, 1)
    out = capsys.readouterr().out
    assert "low-memory mode" not in out and "detector tile 640x640" in out
    assert main(["bench", "--repeat", "1", "--memory", "low"]) in (0, 1)
    assert "threads, low-memory mode" in capsys.readouterr().out


def test_bench_fails_when_the_device_is_too_slow(capsys):
    assert main(["bench", "--repeat", "1", "--min-fpm", "1000000"]) == 1
    assert "DOES NOT MEET" in capsys.readouterr().out


def test_models_list_and_verify(tmp_path, capsys, engine):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert engine.pack.name in listing
    assert "second opinion: ppocrv6-small/int8" in listing
    assert main(["models", "verify"]) == 0
    root = engine.pack.det.path.parent.parent
    copy = tmp_path / "m"
    shutil.copytree(root, copy)
    victim = (
        copy / engine.pack.cls.path.relative_to(root)
        if engine.pack.cls
        else copy / engine.pack.det.path.relative_to(root)
    )
    victim.write_bytes(b"\0" + victim.read_bytes()[1:])
    capsys.readouterr()
    assert main(["models", "verify", "--models-dir", str(copy)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_an_altered_second_opinion_model_stops_loading_and_is_named(tmp_path, engine):
    from edge_ocr.errors import ModelError
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    assert engine.second is not None
    root = engine.pack.det.path.parent.parent
    copy = tmp_path / "m"
    shutil.copytree(root, copy)
    victim = copy / engine.second.rec[0].path.relative_to(root)
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError) as info:
        load_engine(EngineSettings(models_dir=copy))
    assert str(victim) in str(info.value) and engine.second.rec[0].sha256 in str(info.value)


def test_a_second_opinion_dictionary_that_does_not_fit_its_model_stops_loading(tmp_path, engine):
    import json

    from edge_ocr.errors import ModelError
    from edge_ocr.models import sha256_file
    from edge_ocr.ocr.engine import EngineSettings, load_engine

    root = engine.pack.det.path.parent.parent
    copy = tmp_path / "m"
    shutil.copytree(root, copy)
    dictionary = copy / engine.second.dict_path.relative_to(root)
    dictionary.write_text("\n".join(dictionary.read_text(encoding="utf-8").split("\n")[1:]), encoding="utf-8")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["packs"][engine.second.name]["dict"]["sha256"] = sha256_file(dictionary)  # hash fits
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="classes") as info:
        load_engine(EngineSettings(models_dir=copy))
    assert str(dictionary) in str(info.value)
