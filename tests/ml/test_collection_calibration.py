from __future__ import annotations

import pytest

from glamml.ml.collection_calibration import (
    PRIOR_RATIO,
    CollectionCalibrator,
    add_bands,
    band_of,
    count_evidence,
)


def test_a_new_collection_reads_every_confidence_conservatively():
    calibrator = CollectionCalibrator.conservative()
    assert calibrator.n == 0
    assert calibrator.calibrate(0.999) == pytest.approx(0.999 * PRIOR_RATIO)
    assert calibrator.calibrate(0.999) < 0.9
    assert calibrator.calibrate(0.0) == 0.0


def test_right_answers_raise_their_band_and_corrections_lower_it():
    right = CollectionCalibrator(count_evidence([(0.99, True)] * 40))
    wrong = CollectionCalibrator(count_evidence([(0.99, True)] * 20 + [(0.99, False)] * 20))
    start = CollectionCalibrator.conservative().calibrate(0.99)
    assert right.calibrate(0.99) > 0.95 > start > wrong.calibrate(0.99)
    # Evidence in one band says nothing about another.
    assert right.calibrate(0.75) == pytest.approx(start / 0.99 * 0.75)


def test_the_order_of_answers_within_a_band_is_kept():
    calibrator = CollectionCalibrator(count_evidence([(0.96, True), (0.97, False)] * 10))
    assert calibrator.calibrate(0.951) < calibrator.calibrate(0.96) < calibrator.calibrate(0.979)


def test_bands_add_up_and_a_confidence_of_one_has_a_band():
    assert band_of(1.0) == band_of(0.995) == 7
    assert band_of(0.0) == 0
    both = add_bands(count_evidence([(0.9, True)]), count_evidence([(0.91, False)]))
    assert both[band_of(0.9)] == [2, 1, pytest.approx(1.81)]


def test_stored_alternatives_are_read_again_with_new_evidence_keeping_their_order():
    before = CollectionCalibrator.conservative()
    stored = [("fra", before.calibrate(0.99)), ("ita", before.calibrate(0.2) * 0.5)]
    after = CollectionCalibrator(count_evidence([(0.99, True)] * 40))
    again = after.recalibrate(0.99, stored)
    assert again[0] == ("fra", pytest.approx(after.calibrate(0.99)))
    assert again[1][0] == "ita" and again[1][1] / again[0][1] == pytest.approx(
        stored[1][1] / stored[0][1]
    )
    assert after.recalibrate(0.99, []) == []
