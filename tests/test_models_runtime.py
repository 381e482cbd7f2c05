"""Model packs, sha256 checks, runtime loading, and TFLite outputs against ONNX golden outputs."""

import json
import os
import shutil

import cv2
import numpy as np
import pytest

from edge_ocr.errors import ModelError
from edge_ocr.models import Manifest, load_charset, sha256_file, verify_file, verify_pack
from edge_ocr.ocr.ctc import CTCDecoder
from edge_ocr.ocr.engine import EngineSettings, load_engine
from edge_ocr.ocr.recognise import normalise_line
from edge_ocr.ocr.runtime import resolve_interpreter, tflite_factory
from tests.golden.make_golden import HERE as GOLDEN_DIR


def test_every_shipped_pack_and_variant_verifies_and_matches_its_dictionary():
    manifest = Manifest.load()
    assert manifest.default_pack in manifest.pack_names
    for name in manifest.pack_names:
        for variant in manifest.variants(name):
            pack = manifest.pack(name, variant)
            verify_pack(pack)
            charset = load_charset(pack)
            assert charset[0] == "" and charset[-1] == " "
            assert len(charset) > 100


def test_unknown_pack_or_variant_names_what_exists():
    manifest = Manifest.load()
    with pytest.raises(ModelError, match="unknown model pack 'nope'; available: "):
        manifest.pack("nope")
    with pytest.raises(ModelError, match="has no variant 'fp8'"):
        manifest.pack(None, "fp8")


def test_missing_or_unreadable_manifest(tmp_path):
    with pytest.raises(ModelError, match=f"no model manifest at {tmp_path}"):
        Manifest.load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        Manifest.load(tmp_path)


def test_verify_file_names_file_and_both_hashes(tmp_path):
    f = tmp_path / "m.tflite"
    f.write_bytes(b"abc")
    good = sha256_file(f)
    verify_file(f, good)
    with pytest.raises(ModelError) as err:
        verify_file(f, "0" * 64)
    assert str(f) in str(err.value) and good in str(err.value) and "0" * 64 in str(err.value)


def test_unknown_runtime_is_refused():
    with pytest.raises(ModelError, match="unknown runtime 'onnx'"):
        resolve_interpreter("onnx")


@pytest.mark.engine
@pytest.mark.skipif(
    os.environ.get("EDGE_OCR_RUNTIME") == "tflite_runtime",
    reason="tflite-runtime 2.14 does not verify flatbuffers and segfaults on a truncated model; "
    "on that runtime the sha256 check in front of the loader is the protection",
)
def test_truncated_model_with_matching_hash_still_fails_clearly(tmp_path):
    root = Manifest.load().root
    copy = tmp_path / "models"
    shutil.copytree(root, copy)
    data = json.loads((copy / "manifest.json").read_text())
    pack = data["packs"][data["default_pack"]]
    det = next(m for m in pack["models"] if m["role"] == "det" and m["variant"] == "fp16")
    path = copy / det["file"]
    path.write_bytes(path.read_bytes()[:5000])
    det["sha256"] = sha256_file(path)  # someone "fixed" the manifest: the runtime must still refuse
    (copy / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match=f"model file {path}: the runtime cannot load it"):
        load_engine(EngineSettings(models_dir=copy))


def _golden_pack():
    golden = json.loads((GOLDEN_DIR / "golden.json").read_text())
    manifest = Manifest.load()
    name = next(n for n in golden if n in manifest.pack_names)
    return name, golden[name], manifest


@pytest.mark.engine
@pytest.mark.parametrize("variant,min_agree", [("fp16", 0.99), ("int8", 0.95)])
def test_tflite_outputs_match_the_onnx_originals(variant, min_agree):
    name, golden, manifest = _golden_pack()
    pack = manifest.pack(name, variant)
    _, open_model = tflite_factory()
    det = open_model(pack.det.path, 2)
    img = cv2.imread(str(GOLDEN_DIR / "det_input.png"))
    mean = np.array(pack.det_mean, np.float32) * 255
    std = np.array(pack.det_std, np.float32) * 255
    prob = det(((img.astype(np.float32) - mean) / std)[None])[0, :, :, 0]
    assert (prob > 0.3).mean() == pytest.approx(golden["det_mask_fraction"], rel=0.03)
    rows = set(np.where((prob > 0.3).any(axis=1))[0].tolist())
    want = set(golden["det_mask_rows"])
    assert len(rows & want) / len(rows | want) > 0.95

    rec = open_model(next(s for s in pack.rec if s.width == 320).path, 2)
    decoder = CTCDecoder(load_charset(pack))
    for i, expected in enumerate(golden["rec"]):
        line = normalise_line(cv2.imread(str(GOLDEN_DIR / f"line{i}.png")), 48)
        batch = np.zeros((1, 48, 320, 3), np.float32)
        batch[0, :, : line.shape[1]] = line[:, :320]
        out = rec(batch)[0]
        agree = (out.argmax(-1) == np.array(expected["argmax"])).mean()
        assert agree >= min_agree
        one_hot = np.eye(out.shape[-1], dtype=np.float32)[expected["argmax"]]
        if variant == "fp16":
            assert decoder.decode(out).text == decoder.decode(one_hot).text


def test_a_file_that_is_not_tflite_is_refused_before_the_runtime_sees_it(tmp_path):
    bogus = tmp_path / "det.tflite"
    bogus.write_bytes(b"GIF89a" + bytes(100))
    _, open_model = tflite_factory()
    with pytest.raises(ModelError, match="not a TFLite flatbuffer"):
        open_model(bogus, 1)
