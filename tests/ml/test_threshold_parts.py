"""Threshold suggestions are chosen on records other than those their precision is shown on."""

from __future__ import annotations

import random

from glamml.ml.evaluation import evaluate_top_k
from glamml.ml.training import threshold_metrics, threshold_parts


def _held_out(n: int = 400) -> tuple[list[str], list[str], list[list[tuple[str, float]]]]:
    rng = random.Random(7)
    texts = [f"title {i}" for i in range(n)]
    labels = [rng.choice(["a", "b"]) for _ in texts]
    predictions = []
    for label in labels:
        confidence = rng.uniform(0.5, 1.0)
        right = rng.random() < confidence
        predictions.append([(label if right else ("b" if label == "a" else "a"), confidence)])
    return texts, labels, predictions


def test_the_parts_divide_the_records_by_a_hash_of_each():
    texts, labels, _ = _held_out()
    validation, report = threshold_parts(texts, labels)
    assert sorted(validation + report) == list(range(len(texts)))
    assert 150 < len(validation) < 250
    # A record's part depends on the record alone, not on what else is held out.
    again, _ = threshold_parts(texts[:200], labels[:200])
    assert again == [i for i in validation if i < 200]


def test_suggestions_come_from_validation_and_the_curve_from_the_report_part():
    texts, labels, predictions = _held_out()
    validation, report = threshold_parts(texts, labels)
    result = threshold_metrics(labels, predictions, texts, ["a", "b"])

    def on(indices):
        return evaluate_top_k(
            [labels[i] for i in indices], [predictions[i] for i in indices], labels=["a", "b"]
        )

    assert result["threshold_at_precision"] == on(validation)["threshold_at_precision"]
    assert result["precision_coverage"] == on(report)["precision_coverage"]
    assert result["threshold_parts"] == {"validation": len(validation), "report": len(report)}
    assert result["precision_coverage"] != on(validation)["precision_coverage"]


def test_too_few_records_for_two_parts_make_no_suggestion():
    result = threshold_metrics(["a"], [[("a", 0.99)]], ["one title"], ["a"])
    assert result["threshold_at_precision"] == {}
