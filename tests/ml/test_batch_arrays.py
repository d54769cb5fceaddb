"""A prediction batch's array operations give what the one-answer-at-a-time rules give, bit for
bit: calibration, the k likeliest answers, audit ranks."""

from __future__ import annotations

import numpy as np
import pytest

from glamml.ml.collection_calibration import (
    BAND_EDGES,
    CollectionCalibrator,
    count_evidence,
)
from glamml.ml.hashing import stable_fraction, stable_fractions
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.records import ABSTAIN, RecordLanguageModel
from glamml.ml.topk import TopK, top_k_columns

CALIBRATORS = {
    "no evidence": CollectionCalibrator.conservative(),
    "no evidence, another prior": CollectionCalibrator.conservative(0.73),
    # Under-confident in its top bands: the ratio is over 1, so the minimum with 1.0 bites.
    "right more than promised": CollectionCalibrator(
        count_evidence([(0.91, True)] * 200 + [(0.99, True)] * 300 + [(0.55, False)] * 40)
    ),
    "often wrong": CollectionCalibrator(
        count_evidence([(0.96, True), (0.97, False), (0.72, False), (0.3, True)] * 25)
    ),
}


def confidences() -> np.ndarray:
    """Every band's edge and its neighbours, the ends, and many values between."""
    edges = np.array(BAND_EDGES + (1.0,))
    around = np.concatenate(
        [edges, np.nextafter(edges, -1.0), np.nextafter(edges, 2.0), [0.0, -0.0, -0.5, 1e-300]]
    )
    rng = np.random.default_rng(0)
    return np.concatenate([around, rng.random(5000), 1 - rng.random(2000) ** 4 / 100])


@pytest.mark.parametrize("name", CALIBRATORS)
def test_calibrating_an_array_gives_each_confidence_calibrated_alone(name):
    calibrator = CALIBRATORS[name]
    raw = confidences()
    many = calibrator.calibrate_many(raw).tolist()
    one = [calibrator.calibrate(c) for c in raw.tolist()]
    assert many == one  # exact: == on floats, not approx
    # And an array of rows (a batch's k answers), any shape.
    grid = raw[: (len(raw) // 3) * 3].reshape(-1, 3)
    assert calibrator.calibrate_many(grid).ravel().tolist() == one[: grid.size]


def test_calibrating_a_missing_confidence_reads_it_as_the_single_answer_does():
    calibrator = CALIBRATORS["right more than promised"]
    alone = calibrator.calibrate(float("nan"))
    assert calibrator.calibrate_many(np.array([np.nan])).tolist() == [alone] == [1.0]


def reference_top_k(proba: np.ndarray, k: int) -> np.ndarray:
    """What the batch used before: a stable sort of every column of every row."""
    return np.argsort(-proba, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_the_k_largest_are_those_a_stable_sort_gives_ties_included(k):
    rng = np.random.default_rng(1)
    proba = rng.random((400, 12))
    # Ties: coarse values tie often, also across the k-th place; one row all equal.
    coarse = np.round(rng.random((400, 12)) * 4) / 4
    proba[::2] = coarse[::2]
    proba[7] = 0.5
    proba[9, [0, 3, 5, 8, 11]] = 0.9  # five tied for first
    expected = reference_top_k(proba, k)
    if k == 1:
        expected = proba.argmax(axis=1)[:, None]
    assert top_k_columns(proba, k).tolist() == expected.tolist()
    # Every column wanted, or more than there are.
    assert top_k_columns(proba[:, :3], 3).tolist() == reference_top_k(proba[:, :3], 3).tolist()


def test_audit_ranks_of_many_keys_are_each_keys_rank():
    keys = [f"audit:{version}:{record}" for version in (1, 7, 12) for record in range(3000)]
    assert stable_fractions(keys).tolist() == [stable_fraction(key) for key in keys]
    assert stable_fractions([]).tolist() == []


def test_answers_as_arrays_read_back_as_the_lists_they_came_from():
    rows = [[("deu", 0.7), ("eng", 0.2), ("fra", 0.1)], [ABSTAIN], [("eng", 0.99), ("deu", 0.01)]]
    top = TopK.from_lists(rows)
    assert top.as_lists() == rows
    assert top.width.tolist() == [3, 1, 2]


@pytest.fixture(scope="module")
def reader(base_model: LanguageIdentifier) -> RecordLanguageModel:
    return RecordLanguageModel.from_identifier(base_model)


def test_the_records_answers_are_those_of_a_full_sort_with_abstentions(reader, catalogue_titles):
    titles, _ = catalogue_titles
    records: list[dict[str, str | None]] = [{"title": t} for t in titles[:300]]
    records += [{"title": "1848"}, {"title": ""}, {"title": "Ja"}, {"title": None}]
    records += [{"title": "Poems", "place": "Leipzig", "publisher": "Verlag von Brockhaus"}]
    proba, present = reader.predict_record_proba(records)
    order = reference_top_k(proba, 3)
    expected = [
        [(reader.labels_[c], float(proba[row, c])) for c in order[row].tolist()]
        if present[row]
        else [ABSTAIN]
        for row in range(len(records))
    ]
    assert reader.predict_records_top_k(records, k=3) == expected
    assert [ABSTAIN] in expected  # the abstentions were exercised
    best = [[answers[0]] for answers in expected]
    assert reader.predict_records_top_k(records, k=1) == best
