"""The learning loop for any field: a model and three baselines on the same held-out records.

The app passes the texts and labels it trusts (imported values and human decisions), already
divided by the field's frozen split (:func:`glamml.ml.splits.frozen_split`);
:func:`train_and_evaluate` trains on one side and measures the model and the baselines on the
other. A language model is the shipped base model plus the field's examples, calibrated by
cross-fitting; a label model is a :class:`~glamml.ml.textclf.TextClassifier`.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glamml.ml.baselines import (
    Baseline,
    MajorityBaseline,
    RulesBaseline,
    StratifiedBaseline,
    validate_rules,
)
from glamml.ml.benchmark import Predictor
from glamml.ml.evaluation import SMALL_TEST_SET, evaluate, evaluate_top_k
from glamml.ml.hashing import stable_fraction
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid.artefact import EVAL_SAMPLE_PATH
from glamml.ml.language_training import (
    language_examples,
    language_rules,
    train_language,
)
from glamml.ml.splits import stratified_split
from glamml.ml.textclf import TextClassifier, TrainingDataError

__all__ = [
    "BASELINE_NAMES",
    "KINDS",
    "METRICS",
    "TrainingDataError",
    "TrainingReport",
    "beats_rules",
    "evaluate_model",
    "is_better",
    "load_eval_sample",
    "train_and_evaluate",
    "training_fingerprint",
]

KINDS = ("language", "label")
METRICS = ("accuracy", "macro_f1")
BASELINE_NAMES = ("stratified", "majority", "rules")
TOP_K = 3
# A language field with no held-out records yet is measured on this share of its examples.
STAND_IN_TEST_SIZE = 0.2
# Share of the held-out records that threshold suggestions are chosen on (see threshold_parts).
VALIDATION_SHARE = 0.5

ON_HELD_OUT = "the held-out records given"
ON_PART_OF_TRAINING = "held-out split of the given examples"
ON_SHIPPED_SAMPLE = (
    "the held-out sample shipped with the base model (British Library, FinGreyLit, "
    "Tatoeba and UDHR records the base model was not trained on)"
)


@dataclass
class TrainingReport:
    """A trained model, its held-out metrics and the baselines' metrics on the same records."""

    model: LanguageIdentifier | TextClassifier
    metrics: dict[str, Any]
    # By baseline name (BASELINE_NAMES); empty when there were no held-out records to measure
    # them on (a language model is then measured on a stand-in: see train_and_evaluate).
    baselines: dict[str, dict[str, Any]]
    fingerprint: str  # training_fingerprint() of the usable training examples given


def training_fingerprint(texts: list[str], labels: list[str]) -> str:
    """sha256 over the sorted (text, label) pairs: equal when the training data is unchanged."""
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels, strict=True)):
        for part in (text, label):
            encoded = part.encode("utf-8")
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
    return digest.hexdigest()


def load_eval_sample(path: Path = EVAL_SAMPLE_PATH) -> tuple[list[str], list[str]]:
    """The small held-out sample shipped with the base model (texts, labels)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["label"] for row in rows]


def evaluate_model(model: Predictor[str], texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Any model with ``predict`` (top label and confidence per text), on labelled texts."""
    best = model.predict(texts)
    return evaluate(labels, [label for label, _ in best], [conf for _, conf in best])


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def is_better(candidate: dict[str, Any], active: dict[str, Any] | None, *, metric: str) -> bool:
    """True when there is no active version or the candidate is at least as good on ``metric``."""
    _check_metric(metric)
    if active is None:
        return True
    return float(candidate.get(metric) or 0.0) >= float(active.get(metric) or 0.0)


def beats_rules(metrics: dict[str, Any], baselines: dict[str, Any], *, metric: str) -> bool:
    """True when the model is strictly better than the rules baseline on ``metric``.

    Missing rules, or rules with no patterns, count as a score of 0.
    """
    _check_metric(metric)
    rules = (baselines or {}).get("rules") or {}
    reference = 0.0 if not rules or rules.get("n_rules") == 0 else float(rules.get(metric) or 0.0)
    return float(metrics.get(metric) or 0.0) > reference


def _data_warnings(train_labels: list[str], test_labels: list[str], known: list[str]) -> list[str]:
    warnings = []
    train_counts, test_counts = Counter(train_labels), Counter(test_labels)
    unseen = sorted(set(test_counts) - set(known))
    if unseen:
        warnings.append(
            "held-out label(s) the model cannot predict (no training examples): "
            + ", ".join(repr(label) for label in unseen)
        )
    unmeasured = sorted(set(train_counts) - set(test_counts))
    if test_labels and unmeasured:
        warnings.append(
            "label(s) with no held-out examples, so not measured: "
            + ", ".join(repr(label) for label in unmeasured)
        )
    if not test_labels:
        warnings.append("no held-out examples: the metrics say nothing yet")
    elif len(test_labels) < SMALL_TEST_SET:
        warnings.append(
            f"only {len(test_labels)} held-out examples: the metrics are rough estimates"
        )
    return warnings


def _baselines(
    train_labels: list[str],
    test_texts: list[str],
    test_labels: list[str],
    rules: dict[str, list[str]],
    order: list[str],
    seed: int,
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    learnt: list[Baseline] = [StratifiedBaseline(seed=seed), MajorityBaseline()]
    for baseline in learnt:
        if train_labels:
            baseline.fit([], train_labels)
            predictions = baseline.predict_top_k(test_texts, k=TOP_K)
        else:  # nothing to learn proportions from: the baseline abstains
            predictions = [[] for _ in test_texts]
        results[baseline.name] = evaluate_top_k(test_labels, predictions, labels=order)
    errors = validate_rules(rules)
    usable = {
        label: [p for p in patterns if not validate_rules({label: [p]})]
        for label, patterns in rules.items()
        if isinstance(patterns, list | tuple) and not validate_rules({label: []})
    }
    rules_baseline = RulesBaseline(usable)
    results["rules"] = evaluate_top_k(
        test_labels, rules_baseline.predict_top_k(test_texts), labels=order
    )
    results["rules"]["n_rules"] = rules_baseline.n_rules
    results["rules"]["errors"] = errors
    return results


@dataclass
class _Sides:
    """The examples a run trains on and those it is measured on, and what the latter are."""

    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    evaluated_on: str = ON_HELD_OUT

    def check_lengths(self) -> None:
        for side, texts, labels in (
            ("training", self.train_texts, self.train_labels),
            ("held-out", self.test_texts, self.test_labels),
        ):
            if len(texts) != len(labels):
                raise TrainingDataError(f"got {len(texts)} {side} texts but {len(labels)} labels")


def _stand_in_sides(sides: _Sides, seed: int) -> _Sides:
    """For a language field with no held-out records: a part of its examples, else the sample.

    A stratified fifth of the training examples (every label with two or more examples keeps
    one back) is held out; with nothing to hold out, the base model's shipped sample is used.
    """
    train, test = (
        stratified_split(sides.train_labels, test_size=STAND_IN_TEST_SIZE, seed=seed)
        if sides.train_labels
        else ([], [])
    )
    if test:
        texts, labels = sides.train_texts, sides.train_labels
        return _Sides(
            train_texts=[texts[i] for i in train],
            train_labels=[labels[i] for i in train],
            test_texts=[texts[i] for i in test],
            test_labels=[labels[i] for i in test],
            evaluated_on=ON_PART_OF_TRAINING,
        )
    sample_texts, sample_labels = load_eval_sample()
    return _Sides(
        sides.train_texts, sides.train_labels, sample_texts, sample_labels, ON_SHIPPED_SAMPLE
    )


def _fit(
    kind: str,
    sides: _Sides,
    params: dict[str, Any],
    seed: int,
    warnings: list[str],
    base: LanguageIdentifier | None,
) -> tuple[LanguageIdentifier | TextClassifier, dict[str, Any], list[str]]:
    """The trained model, its calibration and the labels worth naming in the metrics."""
    if kind == "language":
        model, calibration = train_language(
            sides.train_texts, sides.train_labels, params, seed, warnings, base
        )
        # The base model knows hundreds of languages: name only those in this data.
        known = set(sides.train_labels) | (set(sides.test_labels) & set(model.labels_))
        return model, calibration, sorted(known)
    classifier = TextClassifier(params=params).fit(sides.train_texts, sides.train_labels)
    warnings.extend(classifier.warnings_)
    return classifier, classifier.params()["calibration"], list(classifier.classes_)


def train_and_evaluate(
    *,
    kind: str,
    train_texts: list[str],
    train_labels: list[str],
    test_texts: list[str],
    test_labels: list[str],
    rules: dict[str, list[str]] | None = None,
    params: dict[str, Any] | None = None,
    seed: int = 0,
    base: LanguageIdentifier | None = None,
) -> TrainingReport:
    """Train a model on the training side and measure it and three baselines on the test side.

    ``kind="language"``: the shipped language identifier plus the training examples, calibrated
    by cross-fitting; labels are normalised to ISO 639-3 and unusable examples skipped with a
    warning. With no usable held-out example, the model is measured on a stand-in instead
    (``metrics["evaluated_on"]`` says which): a stratified part of the training examples held
    back from training, or, when none can be held back, the sample shipped with the base model;
    the baselines are then not measured (``baselines`` is empty). ``kind="label"``: a
    :class:`~glamml.ml.textclf.TextClassifier` (``params`` are its parameters); raises
    :class:`TrainingDataError` when the examples cannot train one. ``rules`` are the field's
    rules baseline: a pattern that is not a valid regular expression is left out of it, and
    named in ``baselines["rules"]["errors"]`` and the warnings (check rules with
    :func:`~glamml.ml.baselines.validate_rules` when they are saved). ``base`` is the language
    model to start from (default: the shipped one, loaded and checked each call).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    sides = _Sides(list(train_texts), list(train_labels), list(test_texts), list(test_labels))
    sides.check_lengths()
    rules, params = dict(rules or {}), dict(params or {})
    warnings: list[str] = []
    if kind == "language":
        sides.train_texts, sides.train_labels = language_examples(
            sides.train_texts, sides.train_labels, "training", warnings
        )
        sides.test_texts, sides.test_labels = language_examples(
            sides.test_texts, sides.test_labels, "held-out", warnings
        )
        rules = language_rules(rules)
    fingerprint = training_fingerprint(sides.train_texts, sides.train_labels)
    if kind == "language" and not sides.test_texts:
        sides = _stand_in_sides(sides, seed)
    model, calibration, known = _fit(kind, sides, params, seed, warnings, base)
    answers = model.labels_ if isinstance(model, LanguageIdentifier) else model.classes_
    warnings.extend(_data_warnings(sides.train_labels, sides.test_labels, list(answers)))
    order = sorted(set(known) | set(sides.test_labels))
    metrics = _metrics(model, sides, order)
    metrics.update({"kind": kind, "calibration": calibration, "warnings": warnings, "seed": seed})
    baselines: dict[str, dict[str, Any]] = {}
    if sides.evaluated_on == ON_HELD_OUT:
        baselines = _baselines(
            sides.train_labels, sides.test_texts, sides.test_labels, rules, order, seed
        )
        errors = baselines["rules"]["errors"]
        warnings.extend(f"rules baseline: {error} (left out)" for error in errors)
    return TrainingReport(
        model=model, metrics=metrics, baselines=baselines, fingerprint=fingerprint
    )


def threshold_parts(texts: list[str], labels: list[str]) -> tuple[list[int], list[int]]:
    """The held-out records divided, by a hash of each, into a validation part that threshold
    suggestions are read off and a report part whose precision the dashboard shows."""
    validation: list[int] = []
    report: list[int] = []
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        part = stable_fraction(f"threshold-part:{text}\x1f{label}") < VALIDATION_SHARE
        (validation if part else report).append(i)
    return validation, report


def threshold_metrics(
    labels: list[str],
    predictions: list[list[tuple[str, float]]],
    texts: list[str],
    order: list[str],
) -> dict[str, Any]:
    """Threshold suggestions from the validation part, the precision curve from the report part.

    A threshold chosen on the records its precision is then reported on would look better than
    it is; here the two never share a record. With too few records for two parts there are no
    suggestions, and the curve is of all of them.
    """
    validation, report = threshold_parts(texts, labels)
    parts = {"validation": len(validation), "report": len(report)}
    if not validation or not report:
        return {"threshold_at_precision": {}, "threshold_parts": parts}

    def part(indices: list[int]) -> dict[str, Any]:
        return evaluate_top_k(
            [labels[i] for i in indices], [predictions[i] for i in indices], labels=order
        )

    on_report = part(report)
    return {
        "threshold_at_precision": part(validation)["threshold_at_precision"],
        "precision_coverage": on_report["precision_coverage"],
        "threshold_parts": parts,
    }


def _metrics(
    model: LanguageIdentifier | TextClassifier, sides: _Sides, order: list[str]
) -> dict[str, Any]:
    """The model's held-out metrics and what they were measured on."""
    predictions = model.predict_top_k(sides.test_texts, k=TOP_K)
    metrics = evaluate_top_k(sides.test_labels, predictions, labels=order)
    metrics.update(threshold_metrics(sides.test_labels, predictions, sides.test_texts, order))
    metrics.update(
        {
            "n_train": len(sides.train_texts),
            "n_test": len(sides.test_texts),
            "evaluated_on": sides.evaluated_on,
            "label_counts_train": dict(sorted(Counter(sides.train_labels).items())),
            "label_counts_test": dict(sorted(Counter(sides.test_labels).items())),
            "test_fingerprint": training_fingerprint(sides.test_texts, sides.test_labels),
        }
    )
    return metrics
