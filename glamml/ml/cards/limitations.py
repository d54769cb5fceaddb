"""Known limitations: what the card's numbers say about where the model is weak."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glamml.ml.cards.document import joined
from glamml.ml.evaluation import FEW_TRAINING_EXAMPLES, HIGH_ECE, LOW_RECALL, SMALL_TEST_SET


def label_counts(data: Mapping[str, Any], metrics: Mapping[str, Any]) -> dict[str, int]:
    """Training examples per label, from the card's training data or else its metrics."""
    counts = data.get("label_counts") or metrics.get("label_counts_train") or {}
    return {str(label): int(n) for label, n in counts.items()}


def known_limitations(card: Mapping[str, Any]) -> list[str]:
    """Limitations that follow from the card's numbers, one sentence each."""
    metrics = card.get("metrics") or {}
    data = card.get("training_data") or {}
    counts = label_counts(data, metrics)
    per_label = metrics.get("per_label") or {}
    vocabulary = [str(label) for label in (card.get("field") or {}).get("labels") or []]
    lines = _label_limitations(counts, per_label, vocabulary)
    ece = metrics.get("ece")
    if isinstance(ece, int | float) and ece > HIGH_ECE:
        lines.append(
            f"Confidences are poorly calibrated (expected calibration error {ece:.3f}, above "
            f"{HIGH_ECE}): a stated confidence can be far from how often the model is right."
        )
    n_test = data.get("n_test", metrics.get("n_test", metrics.get("n", 0))) or 0
    if n_test < SMALL_TEST_SET:
        lines.append(
            f"Small held-out set ({n_test} records): the metrics are rough estimates and can "
            "change a lot from one version to the next."
        )
    test_counts = metrics.get("label_counts_test")
    if isinstance(test_counts, Mapping) and n_test:
        unmeasured = sorted(set(counts) - set(test_counts))
        if unmeasured:
            lines.append(
                "Labels with no held-out records, so not measured at all: "
                + joined(unmeasured)
                + "."
            )
    calibration = metrics.get("calibration")
    if isinstance(calibration, Mapping) and calibration.get("method") == "none":
        lines.append(
            "Probabilities are not calibrated (too few examples to fit a calibration on): "
            "treat confidences as a ranking, not as a rate of being right."
        )
    lines.append(
        "Measured only on held-out records of the same collections and period as the training "
        "data; records from elsewhere (other languages, other cataloguing practice) may fare "
        "worse."
    )
    return lines


def _label_limitations(
    counts: Mapping[str, int], per_label: Mapping[str, Any], vocabulary: list[str]
) -> list[str]:
    lines = []
    few = sorted(label for label, n in counts.items() if n < FEW_TRAINING_EXAMPLES)
    if few:
        lines.append(
            f"Labels with fewer than {FEW_TRAINING_EXAMPLES} training examples: "
            + "; ".join(f"{label} ({counts[label]})" for label in few)
            + ". Predictions of these labels rest on very little evidence."
        )
    untrained = sorted(set(vocabulary) - set(counts))
    if untrained:
        lines.append(
            "Labels in the field's vocabulary with no training examples, which the model "
            "cannot predict: " + joined(untrained) + "."
        )
    never = sorted(
        label
        for label, row in per_label.items()
        if row.get("support", 0) > 0 and row.get("predicted", 0) == 0
    )
    if never:
        lines.append("Labels never predicted on the held-out records: " + joined(never) + ".")
    weak = sorted(
        label
        for label, row in per_label.items()
        if row.get("support", 0) > 0 and row.get("recall", 0.0) < LOW_RECALL
    )
    if weak:
        lines.append(
            f"Labels with recall below {LOW_RECALL:.1f} (the model misses most of them): "
            + ", ".join(f"{label} ({per_label[label]['recall']:.2f})" for label in weak)
            + "."
        )
    return lines
