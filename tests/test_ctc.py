"""CTC decoding and the allow-list, on synthetic probabilities."""

import numpy as np
import pytest

from edge_ocr.ocr.ctc import CTCDecoder, parse_allowlist

CHARSET = ["", "A", "B", "O", "0", "1", "-", " "]


def frames(*spec):
    """One frame per (index, probability); the rest of the mass goes to blank."""
    out = np.zeros((len(spec), len(CHARSET)), dtype=np.float32)
    for t, (idx, p) in enumerate(spec):
        out[t, idx] = p
        if idx != 0:
            out[t, 0] = 1 - p
    return out


def test_repeats_collapse_and_blanks_separate():
    probs = frames((1, 0.9), (1, 0.9), (0, 1.0), (1, 0.8), (2, 0.7))
    d = CTCDecoder(CHARSET).decode(probs)
    assert d.text == "AAB"
    assert d.confidence == pytest.approx((0.9 + 0.8 + 0.7) / 3)


def test_allowlist_picks_best_allowed_class_inside_decode():
    probs = frames((3, 0.6), (5, 0.9))  # the model prefers the letter O ...
    probs[0, 4] = 0.3  # ... but also sees a digit 0
    probs[0, 0] = 0.1
    assert CTCDecoder(CHARSET).decode(probs).text == "O1"
    constrained = CTCDecoder(CHARSET, "0-1").decode(probs)
    assert constrained.text == "01"
    assert constrained.confidence == pytest.approx((0.3 + 0.9) / 2)


def test_empty_and_space_only_output():
    assert CTCDecoder(CHARSET).decode(frames((0, 1.0), (0, 1.0))).text == ""
    assert CTCDecoder(CHARSET).decode(frames((7, 0.9))).text == ""


def test_parse_allowlist_ranges_and_literal_dash():
    assert parse_allowlist("0-2A-") == {"0", "1", "2", "A", "-"}
    assert parse_allowlist("-A") == {"-", "A"}
    with pytest.raises(ValueError, match="reversed"):
        parse_allowlist("9-0")


def test_allowlist_with_unknown_characters_is_refused():
    with pytest.raises(ValueError, match="not in the model dictionary"):
        CTCDecoder(CHARSET, "AZ")


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="classes"):
        CTCDecoder(CHARSET).decode(np.zeros((3, 4), np.float32))


def test_full_width_forms_come_out_as_plain_latin():
    charset = ["", "Ｓ", "Ｎ", "：", "4"]
    probs = np.zeros((4, 5), np.float32)
    for t, idx in enumerate([1, 2, 3, 4]):
        probs[t, idx] = 1.0
    assert CTCDecoder(charset).decode(probs).text == "SN:4"
