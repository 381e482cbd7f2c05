"""Word-level scores and CER."""

import pytest

from edge_ocr.evaluation import cer, levenshtein, word_score, words


def test_words_strip_surrounding_punctuation_only():
    assert words("Hello, world! SN:4F-22 (x)") == ["Hello", "world", "SN:4F-22", "x"]


def test_word_score_is_an_order_independent_multiset():
    s = word_score("fox the the quick", "the quick fox")
    assert (s.matched, s.predicted, s.expected) == (3, 4, 3)
    assert s.precision == pytest.approx(0.75) and s.recall == 1.0
    assert s.f1 == pytest.approx(2 * 0.75 / 1.75)


def test_scores_add_up_over_images():
    total = word_score("a b", "a b") + word_score("c", "d")
    assert (total.matched, total.predicted, total.expected) == (2, 3, 3)


def test_empty_prediction_and_truth():
    assert word_score("", "").f1 == 1.0
    assert word_score("", "a").f1 == 0.0


def test_levenshtein_and_cer():
    assert levenshtein("kitten", "sitting") == 3
    assert cer("AB12  CDE", "AB12 CDE") == 0.0
    assert cer("AB12 CDF", "AB12 CDE") == pytest.approx(1 / 8)


def test_curly_and_straight_quotes_score_the_same():
    assert word_score("don’t", "don't").f1 == 1.0


def test_plate_found_ignores_separators_and_line_breaks_but_not_characters():
    from edge_ocr.evaluation import plate_found

    assert plate_found("2014-06-17 14:20:16\nSB3-X6N\n626-257", "SB3X6N")
    assert plate_found("PK2\nV6M", "PK2V6M")  # the plate's two halves read as two lines in a row
    assert plate_found("ｐｋ２ ｖ６ｍ", "PK2V6M")  # full-width forms are the same letters (NFKC)
    assert not plate_found("SB3-XEN", "SB3X6N")
    assert not plate_found("OSG-719", "0SG719")  # O and 0 are different characters on a plate
    assert not plate_found("anything", "--")  # a plate with no letters or digits is never found
