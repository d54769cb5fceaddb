from __future__ import annotations

import csv
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np
import pytest

from glamml.ml.drift import (
    DEFAULT_DRIFT_THRESHOLD,
    LENGTH_EDGES,
    SIGNIFICANCE,
    band_index,
    band_names,
    distribution_shift,
    dominant_script,
    histogram,
    input_stats,
    merge_counts,
    precision_at_threshold,
    reference_profile,
    trigram_vocabulary,
    unseen_shares,
    vocabulary_decode,
    vocabulary_encode,
    wilson_interval,
)
from glamml.ml.text import clean_text

REPO = Path(__file__).resolve().parents[2]
MIN_RECORDS = 50


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _ordered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(rows, key=lambda r: hashlib.sha256(r["identifier"].encode()).hexdigest())


@pytest.fixture(scope="module")
def english_titles() -> list[str]:
    rows = _rows(REPO / "data" / "label-samples" / "bl-genre.csv")
    return [r["title"] for r in _ordered([r for r in rows if r["language"] == "eng"])]


@pytest.fixture(scope="module")
def finnish_titles() -> list[str]:
    rows = _rows(REPO / "data" / "sample" / "records.csv")
    return [r["title"] for r in _ordered([r for r in rows if r["language"] == "fin"])]


@pytest.fixture(scope="module")
def japanese_titles() -> list[str]:
    return [r["title"] for r in _rows(REPO / "tests" / "fixtures" / "japanese_titles.csv")]


def _shifts(live: list[str], train: list[str], held_out: list[str]) -> dict[str, object]:
    vocabulary = trigram_vocabulary(train)

    def unseen(texts):
        return unseen_shares(texts, vocabulary)

    reference = input_stats([*train, *held_out], unseen=None)
    reference["unseen"] = input_stats(held_out, unseen=unseen)["unseen"]
    observed = input_stats(live, unseen=unseen)
    return {
        name: distribution_shift(observed[key], reference[key])
        for name, key in (("length", "length"), ("script", "scripts"), ("unseen", "unseen"))
    }


def test_a_fresh_sample_of_english_titles_is_not_drift(english_titles):
    train, held_out, fresh = english_titles[:400], english_titles[400:500], english_titles[500:]
    assert len(fresh) >= 100
    for name, shift in _shifts(fresh, train, held_out).items():
        assert not shift.crosses(threshold=DEFAULT_DRIFT_THRESHOLD, min_records=MIN_RECORDS), (
            name,
            shift,
        )


def test_finnish_titles_are_drift_from_english_ones_in_trigrams_never_seen(
    english_titles, finnish_titles
):
    train, held_out = english_titles[:400], english_titles[400:500]
    shifts = _shifts(finnish_titles, train, held_out)
    assert shifts["unseen"].crosses(threshold=DEFAULT_DRIFT_THRESHOLD, min_records=MIN_RECORDS)
    # Same alphabet: the script mix does not move.
    assert shifts["script"].distance < 0.05


def test_japanese_titles_are_drift_in_script_and_length(english_titles, japanese_titles):
    train, held_out = english_titles[:400], english_titles[400:500]
    shifts = _shifts(japanese_titles, train, held_out)
    assert shifts["script"].distance > 0.9
    assert shifts["script"].crosses(threshold=DEFAULT_DRIFT_THRESHOLD, min_records=MIN_RECORDS)
    assert shifts["length"].crosses(threshold=DEFAULT_DRIFT_THRESHOLD, min_records=MIN_RECORDS)


def test_the_distance_is_zero_for_one_distribution_and_one_for_disjoint_ones():
    assert distribution_shift({"a": 5, "b": 5}, {"a": 50, "b": 50}).distance == pytest.approx(0)
    disjoint = distribution_shift({"a": 100}, {"b": 100})
    assert disjoint.distance == pytest.approx(1.0)
    assert disjoint.p_value < SIGNIFICANCE


def test_an_empty_side_gives_no_shift_rather_than_a_number():
    assert distribution_shift({}, {"a": 3}) is None
    assert distribution_shift([0, 0], [1, 2]) is None


def test_a_large_shift_on_too_few_records_does_not_count():
    shift = distribution_shift({"a": 10}, {"b": 1000})
    assert shift.distance == pytest.approx(1.0)
    assert not shift.crosses(threshold=0.2, min_records=50)
    assert shift.crosses(threshold=0.2, min_records=10)


def test_samples_of_the_reference_itself_look_significant_about_as_often_as_they_should():
    rng = np.random.default_rng(0)
    reference = np.array([400, 250, 150, 100, 50, 30, 15, 5])
    p = reference / reference.sum()
    trials = 500
    significant = sum(
        distribution_shift(list(rng.multinomial(200, p)), list(reference)).p_value < 0.05
        for _ in range(trials)
    )
    # The χ² approximation of the Jensen–Shannon statistic: about 5% at the 5% level.
    assert 0.02 < significant / trials < 0.09


def test_the_wilson_interval_is_the_score_interval():
    z = 1.959963984540054
    for successes, n in ((8, 10), (0, 5), (57, 60), (120, 400)):
        p = successes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        interval = wilson_interval(successes, n)
        assert interval.low == pytest.approx(max(0.0, centre - half), abs=1e-9)
        assert interval.high == pytest.approx(min(1.0, centre + half), abs=1e-9)
        assert interval.estimate == pytest.approx(p)


def test_an_interval_excludes_a_precision_only_when_it_lies_wholly_below():
    assert wilson_interval(0, 5).excludes_above(0.95)  # 0 of 5: at most 43%
    assert not wilson_interval(5, 5).excludes_above(0.95)
    assert not wilson_interval(0, 0).excludes_above(0.95)  # nothing checked says nothing


def test_held_out_precision_at_a_threshold_reads_the_curve_from_the_top():
    curve = [
        {"threshold": 0.99, "precision": 1.0, "coverage": 0.2},
        {"threshold": 0.9, "precision": 0.97, "coverage": 0.6},
        {"threshold": 0.5, "precision": 0.85, "coverage": 1.0},
    ]
    assert precision_at_threshold(curve, 0.9) == (0.97, 0.6)
    assert precision_at_threshold(curve, 0.95) == (1.0, 0.2)
    assert precision_at_threshold(curve, 0.0) == (0.85, 1.0)
    assert precision_at_threshold(curve, 0.999) == (None, 0.0)


def test_a_texts_script_is_the_one_most_of_its_letters_are_in():
    assert dominant_script("Война и мир") == "Cyrillic"
    assert dominant_script("Ὁμήρου Ἰλιάς") == "Greek"
    assert dominant_script("縮緬のこころ") == "Kana"
    assert dominant_script("電気鳩") == "Han"
    assert dominant_script("Visit to the Falls of Niagara") == "Latin"
    assert dominant_script("1859; 3 vols.") == "Latin"
    assert dominant_script("1859 – 42") == "none"


def test_confidence_bands_put_one_in_the_top_band():
    assert band_index(1.0) == len(band_names()) - 1
    assert band_index(0.0) == 0
    assert band_index(0.95) == band_names().index("0.95–0.99")


def test_length_bins_are_open_at_the_top():
    assert histogram([0, 5, 10000], LENGTH_EDGES) == [1, 1, 0, 0, 0, 0, 0, 1]


def test_the_vocabulary_survives_its_text_form(english_titles):
    vocabulary = trigram_vocabulary(english_titles[:200])
    assert np.array_equal(vocabulary_decode(vocabulary_encode(vocabulary)), vocabulary)
    assert unseen_shares(english_titles[:3], vocabulary) == [0.0, 0.0, 0.0]


def _unseen_share_one_text_at_a_time(text: str, vocabulary: np.ndarray) -> float:
    """The definition, one text and one trigram at a time (as drift.py computed it before)."""
    keys = []
    for word in clean_text(text).split(" "):
        if word:
            padded = f" {word} "
            keys += [zlib.crc32(padded[i : i + 3].encode()) for i in range(len(padded) - 2)]
    if not keys:
        return 0.0
    return float(1.0 - np.isin(np.asarray(keys, dtype=np.uint32), vocabulary).mean())


def test_unseen_shares_of_many_texts_at_once_are_each_texts_own_to_the_bit(
    english_titles, finnish_titles, japanese_titles
):
    vocabulary = trigram_vocabulary(english_titles[:300])
    texts = [*english_titles[300:400], *finnish_titles[:100], *japanese_titles, "", "1859", "a"]
    shares = unseen_shares(texts, vocabulary)
    assert shares == [_unseen_share_one_text_at_a_time(t, vocabulary) for t in texts]
    assert 0.0 in shares and 1.0 in shares and any(0.0 < s < 1.0 for s in shares)
    assert unseen_shares([], vocabulary) == []


def test_a_texts_script_counts_every_letter_not_each_distinct_one():
    assert dominant_script("aaaa ββ γ") == "Latin"
    assert dominant_script("ab ββ γ") == "Greek"
    # A tie goes to the script first in alphabetical order.
    assert dominant_script("ab βγ") == "Greek"


def test_counts_of_the_same_shape_add_up():
    total = merge_counts(
        [
            {"n": 1, "bins": [1, 2], "labels": {"a": 1}},
            {"n": 2, "bins": [0, 1, 4], "labels": {"b": 2}},
        ]
    )
    assert total == {"n": 3, "bins": [1, 3, 4], "labels": {"a": 1, "b": 2}}


def test_the_reference_compares_predictions_with_predictions_when_records_were_held_out():
    profile = reference_profile(
        train_texts=["A history of Dorset", "The old curiosity shop"],
        train_labels=["Non-fiction", "Fiction"],
        test_texts=["A tale of two cities"],
        test_predictions=[("Fiction", 0.93)],
        unseen=None,
    )
    assert profile["labels"] == {"Fiction": 1}
    assert profile["labels_from"] == "held-out predictions"
    assert sum(profile["confidence"]) == 1
    without = reference_profile(
        train_texts=["A history of Dorset"],
        train_labels=["Non-fiction"],
        test_texts=[],
        test_predictions=[],
        unseen=None,
    )
    assert without["labels"] == {"Non-fiction": 1}
    assert "confidence" not in without
