"""Metrics for a classifier with confidences: accuracy, macro-F1, calibration, coverage.

Accuracy, per-label precision, recall and F1 and the confusion matrix come from
``sklearn.metrics``; what it lacks for a catalogue's thresholds is here: expected calibration
error and the reliability curve over fixed bins, the precision/coverage curve and the coverage
at a target precision, and abstentions (a rules baseline that does not answer).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

# sklearn.metrics is imported inside the functions that compute: importing scikit-learn takes
# about a second, which every Django process would otherwise pay at start-up.

PRECISION_TARGETS = (0.95, 0.99)
ECE_BINS = 15


def _bin_index(confidences: np.ndarray, n_bins: int) -> np.ndarray:
    # Bins [k/n, (k+1)/n); a confidence of exactly 1.0 belongs to the last bin.
    bins: np.ndarray = np.minimum((confidences * n_bins).astype(int), n_bins - 1)
    return bins


def expected_calibration_error(
    correct: Sequence[bool], confidences: Sequence[float], n_bins: int = ECE_BINS
) -> float:
    """Expected calibration error: sum over equal-width bins of share * |accuracy - confidence|."""
    hits = np.asarray(correct, dtype=float)
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    if hits.shape != conf.shape:
        raise ValueError("correct and confidences need the same length")
    if hits.size == 0:
        return 0.0
    bins = _bin_index(conf, n_bins)
    error = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        error += in_bin.mean() * abs(hits[in_bin].mean() - conf[in_bin].mean())
    return float(error)


def reliability_curve(
    correct: Sequence[bool], confidences: Sequence[float], n_bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """Per non-empty bin: its bounds, size, mean confidence and accuracy."""
    hits = np.asarray(correct, dtype=float)
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    bins = _bin_index(conf, n_bins) if conf.size else np.zeros(0, int)
    curve = []
    for b in np.unique(bins):
        in_bin = bins == b
        curve.append(
            {
                "lower": b / n_bins,
                "upper": (b + 1) / n_bins,
                "n": int(in_bin.sum()),
                "confidence": float(conf[in_bin].mean()),
                "accuracy": float(hits[in_bin].mean()),
            }
        )
    return curve


def precision_coverage_curve(
    correct: Sequence[bool], confidences: Sequence[float]
) -> list[dict[str, float]]:
    """For each distinct confidence threshold t: precision and share of items with conf >= t.

    Ties are kept together, as a threshold cannot split them. Highest threshold first.
    """
    hits = np.asarray(correct, dtype=float)
    conf = np.asarray(confidences, dtype=float)
    if hits.size == 0:
        return []
    order = np.argsort(-conf, kind="stable")
    conf_sorted, hits_sorted = conf[order], hits[order]
    cumulative = np.cumsum(hits_sorted)
    # Last position of each run of equal confidences.
    ends = np.flatnonzero(np.append(conf_sorted[1:] != conf_sorted[:-1], True))
    return [
        {
            "threshold": float(conf_sorted[end]),
            "precision": float(cumulative[end] / (end + 1)),
            "coverage": float((end + 1) / hits.size),
        }
        for end in ends
    ]


def coverage_at_precision(
    correct: Sequence[bool], confidences: Sequence[float], target: float
) -> tuple[float, float | None]:
    """Largest share of items, most confident first, whose precision reaches ``target``.

    Returns ``(coverage, threshold)``; ``(0.0, None)`` when no threshold reaches it.
    """
    best: tuple[float, float | None] = (0.0, None)
    for point in precision_coverage_curve(correct, confidences):
        if point["precision"] >= target and point["coverage"] > best[0]:
            best = (point["coverage"], point["threshold"])
    return best


def _thin(curve: list[dict[str, float]], max_points: int = 101) -> list[dict[str, float]]:
    if len(curve) <= max_points:
        return curve
    keep = np.unique(np.linspace(0, len(curve) - 1, max_points).round().astype(int))
    return [curve[i] for i in keep]


def _confusion_counts(y_true: list[str], y_pred: list[str], labels: list[str]) -> np.ndarray:
    """scikit-learn's confusion matrix (rows true, columns predicted) over ``labels``."""
    from sklearn import metrics as sk

    with warnings.catch_warnings():
        # "A single label was found": the labels are given, so the shape is right.
        warnings.filterwarnings("ignore", message="A single label", category=UserWarning)
        matrix: np.ndarray = sk.confusion_matrix(y_true, y_pred, labels=labels)
    return matrix


def _per_label(
    y_true: list[str], y_pred: list[str]
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]], float]:
    """Per-label figures, the confusion as ``{true: {predicted: count}}`` and the macro-F1."""
    from sklearn import metrics as sk

    if not y_true:
        return {}, {}, 0.0
    labels = sorted(set(y_true) | set(y_pred))
    matrix = _confusion_counts(y_true, y_pred, labels)
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    predicted = matrix.sum(axis=0)
    per_label = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
            "predicted": int(predicted[i]),
        }
        for i, label in enumerate(labels)
    }
    confusion = {
        true: {pred: int(matrix[i, j]) for j, pred in enumerate(labels) if matrix[i, j]}
        for i, true in enumerate(labels)
        if support[i]
    }
    # Averaged over the labels present in y_true, in the order they first occur there.
    macro_f1 = float(np.mean([per_label[label]["f1"] for label in dict.fromkeys(y_true)]))
    return per_label, confusion, macro_f1


def _accuracy(y_true: list[str], y_pred: list[str]) -> float:
    from sklearn import metrics as sk

    return float(sk.accuracy_score(y_true, y_pred))


def evaluate(y_true: list[str], y_pred: list[str], confidences: list[float]) -> dict[str, Any]:
    """Held-out metrics, JSON-serialisable.

    ``macro_f1`` averages over the labels present in ``y_true``; ``per_label`` covers every label
    that is true or predicted (precision of a label never predicted is 0).
    """
    if not len(y_true) == len(y_pred) == len(confidences):
        raise ValueError("y_true, y_pred and confidences need the same length")
    n = len(y_true)
    correct = [t == p for t, p in zip(y_true, y_pred, strict=True)]
    per_label, confusion, macro_f1 = _per_label(list(y_true), list(y_pred))
    coverage, thresholds = {}, {}
    for target in PRECISION_TARGETS:
        share, threshold = coverage_at_precision(correct, confidences, target)
        coverage[f"{target:.2f}"] = share
        thresholds[f"{target:.2f}"] = threshold
    return {
        "n": n,
        "accuracy": _accuracy(y_true, y_pred) if n else 0.0,
        "macro_f1": macro_f1,
        "per_label": per_label,
        "ece": expected_calibration_error(correct, confidences),
        "mean_confidence": float(np.mean(confidences)) if n else 0.0,
        "coverage_at_precision": coverage,
        "threshold_at_precision": thresholds,
        "reliability": reliability_curve(correct, confidences),
        "precision_coverage": _thin(precision_coverage_curve(correct, confidences)),
        "confusion": confusion,
    }


# -- predictions that may abstain (baselines), confusion as a matrix ---------------------------

# Thresholds shared by training warnings and model cards.
FEW_TRAINING_EXAMPLES = 10
SMALL_TEST_SET = 50
HIGH_ECE = 0.1
LOW_RECALL = 0.5

# Stands for "no prediction" inside evaluate(); never a real label (it is not printable text).
_ABSTAINED = "\x00abstained"


def confusion_matrix(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """``{"labels": [...], "matrix": [[...]]}``: rows are true labels, columns predicted ones.

    ``labels`` fixes the order; any other label that occurs is added after them, sorted.
    """
    seen = sorted(set(y_true) | set(y_pred))
    order = list(labels or []) + [label for label in seen if label not in set(labels or [])]
    if not y_true:  # scikit-learn refuses empty input
        return {"labels": order, "matrix": [[0] * len(order) for _ in order]}
    matrix = _confusion_counts(list(y_true), list(y_pred), order)
    return {"labels": order, "matrix": matrix.tolist()}


def _answered_curves(
    hits: np.ndarray, confidences: np.ndarray, n_total: int
) -> tuple[list[dict[str, float]], dict[str, float], dict[str, float | None]]:
    """Precision/coverage over the answered items, with coverage relative to all ``n_total``."""
    share = len(hits) / n_total if n_total else 0.0
    curve = [
        {**point, "coverage": point["coverage"] * share}
        for point in precision_coverage_curve(hits.tolist(), confidences.tolist())
    ]
    coverage: dict[str, float] = {}
    thresholds: dict[str, float | None] = {}
    for target in PRECISION_TARGETS:
        best: tuple[float, float | None] = (0.0, None)
        for point in curve:
            if point["precision"] >= target and point["coverage"] > best[0]:
                best = (point["coverage"], point["threshold"])
        coverage[f"{target:.2f}"], thresholds[f"{target:.2f}"] = best
    return curve, coverage, thresholds


def evaluate_top_k(
    y_true: Sequence[str],
    predictions: Sequence[Sequence[tuple[str, float]]],
    *,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """:func:`evaluate` for ranked predictions, where an empty list is an abstention.

    An abstention counts as wrong (accuracy, recall) and as not covered; calibration (ECE,
    reliability) is measured on the answered items, and the precision/coverage curve counts
    coverage over all items. Adds ``coverage`` (share answered), ``abstentions``,
    ``top_k_accuracy`` (true label anywhere in the list), ``confusion`` as
    ``{"labels", "matrix"}`` (plus ``abstained`` per true label when any) and ``count`` on each
    reliability bin. ``labels`` fixes the order of the confusion matrix.
    """
    if len(y_true) != len(predictions):
        raise ValueError("y_true and predictions need the same length")
    y_true = list(y_true)
    answered = [bool(p) for p in predictions]
    y_pred = [p[0][0] if p else _ABSTAINED for p in predictions]
    confidences = [float(p[0][1]) if p else 0.0 for p in predictions]
    metrics = evaluate(y_true, y_pred, confidences)
    metrics["per_label"].pop(_ABSTAINED, None)
    n = len(y_true)
    n_answered = sum(answered)
    if n_answered < n:
        mask = np.asarray(answered, dtype=bool)
        hits = np.asarray([t == p for t, p in zip(y_true, y_pred, strict=True)])[mask]
        conf = np.asarray(confidences)[mask]
        curve, coverage, thresholds = _answered_curves(hits, conf, n)
        metrics.update(
            {
                "ece": expected_calibration_error(hits.tolist(), conf.tolist()),
                "mean_confidence": float(conf.mean()) if n_answered else 0.0,
                "reliability": reliability_curve(hits.tolist(), conf.tolist()),
                "precision_coverage": _thin(curve),
                "coverage_at_precision": coverage,
                "threshold_at_precision": thresholds,
            }
        )
    for point in metrics["reliability"]:
        point["count"] = point["n"]
    kept_true = [t for t, ok in zip(y_true, answered, strict=True) if ok]
    kept_pred = [p for p, ok in zip(y_pred, answered, strict=True) if ok]
    order = list(labels) if labels is not None else sorted(set(y_true) | set(kept_pred))
    confusion = confusion_matrix(kept_true, kept_pred, order)
    if n_answered < n:
        missed = Counter(t for t, ok in zip(y_true, answered, strict=True) if not ok)
        confusion["abstained"] = [missed[label] for label in confusion["labels"]]
    metrics["confusion"] = confusion
    metrics["coverage"] = n_answered / n if n else 0.0
    metrics["abstentions"] = n - n_answered
    in_list = [any(label == t for label, _ in p) for t, p in zip(y_true, predictions, strict=True)]
    metrics["top_k_accuracy"] = float(np.mean(in_list)) if n else 0.0
    return metrics
