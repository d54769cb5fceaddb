from __future__ import annotations

import json
import warnings

import pytest

from glamml.ml.evaluation import (
    confusion_matrix,
    coverage_at_precision,
    evaluate,
    evaluate_top_k,
    expected_calibration_error,
)


def test_ece_matches_a_hand_computed_example():
    # 15 bins. Three predictions at 0.9 (bin [0.867, 0.933)), two right: |2/3 - 0.9| = 0.2333,
    # weight 3/4. One at 0.3 (bin [0.267, 0.333)), right: |1 - 0.3| = 0.7, weight 1/4.
    ece = expected_calibration_error([True, True, False, True], [0.9, 0.9, 0.9, 0.3])
    assert ece == pytest.approx(0.75 * (0.9 - 2 / 3) + 0.25 * 0.7)
    assert ece == pytest.approx(0.35)


def test_ece_is_zero_when_confidence_equals_accuracy():
    assert expected_calibration_error([True, False], [0.5, 0.5]) == pytest.approx(0.0)
    assert expected_calibration_error([True, True, True], [1.0, 1.0, 1.0]) == pytest.approx(0.0)


def test_ece_puts_a_confidence_of_one_in_the_last_bin():
    # Wrong at confidence 1.0 is the worst possible calibration.
    assert expected_calibration_error([False], [1.0]) == pytest.approx(1.0)


def test_coverage_at_precision_takes_the_largest_confident_share():
    correct = [True, True, True, False, True, False]
    confidences = [0.99, 0.98, 0.97, 0.96, 0.5, 0.4]
    # Precision of the top 3, 4, 5, 6: 1.0, 0.75, 0.8, 0.667.
    assert coverage_at_precision(correct, confidences, 0.95) == (0.5, 0.97)
    assert coverage_at_precision(correct, confidences, 0.85) == (0.5, 0.97)
    assert coverage_at_precision(correct, confidences, 0.8) == (5 / 6, 0.5)
    assert coverage_at_precision([False], [0.9], 0.95) == (0.0, None)


def test_coverage_does_not_split_tied_confidences():
    # A threshold at 0.9 takes all three: precision 2/3 is below 0.95.
    assert coverage_at_precision([True, False, True], [0.9, 0.9, 0.9], 0.95) == (0.0, None)


def test_evaluate_reports_accuracy_macro_f1_and_per_label_figures():
    y_true = ["eng", "eng", "eng", "fin", "swe"]
    y_pred = ["eng", "eng", "fin", "fin", "dan"]
    metrics = evaluate(y_true, y_pred, [0.9, 0.8, 0.7, 0.95, 0.6])
    assert metrics["n"] == 5
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    assert metrics["per_label"]["eng"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3, "predicted": 2}
    )
    assert metrics["per_label"]["fin"]["precision"] == pytest.approx(0.5)
    assert metrics["per_label"]["dan"]["precision"] == 0.0  # predicted, never true
    assert metrics["per_label"]["dan"]["support"] == 0
    # Macro-F1 over the labels present in y_true only: eng 0.8, fin 2/3, swe 0.
    assert metrics["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0.0) / 3)
    assert metrics["confusion"]["eng"] == {"eng": 2, "fin": 1}
    assert set(metrics["coverage_at_precision"]) == {"0.95", "0.99"}
    json.dumps(metrics)  # stored as JSON by the app


def test_evaluate_refuses_lists_of_different_lengths():
    with pytest.raises(ValueError):
        evaluate(["eng"], ["eng", "fin"], [0.5])


def test_the_confusion_matrix_keeps_the_given_label_order_and_adds_the_rest():
    result = confusion_matrix(["fin", "eng", "eng"], ["fin", "swe", "eng"], ["fin", "eng"])
    assert result == {"labels": ["fin", "eng", "swe"], "matrix": [[1, 0, 0], [0, 1, 1], [0, 0, 0]]}


def test_when_nothing_is_answered_every_item_is_an_abstention():
    metrics = evaluate_top_k(["eng", "fin"], [[], []], labels=["eng", "fin"])
    assert metrics["accuracy"] == 0.0
    assert metrics["coverage"] == 0.0
    assert metrics["confusion"] == {
        "labels": ["eng", "fin"],
        "matrix": [[0, 0], [0, 0]],
        "abstained": [1, 1],
    }


def test_a_single_label_is_measured_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = evaluate(["eng", "eng"], ["eng", "eng"], [0.9, 0.8])
    assert metrics["per_label"]["eng"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 2,
        "predicted": 2,
    }
    assert metrics["confusion"] == {"eng": {"eng": 2}}
