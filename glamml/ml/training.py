"""Re-train the language identifier from a catalogue's labelled records.

The app passes the texts and labels it trusts (imported values and human decisions); the result
is the shipped base model plus those in-domain examples, calibrated by cross-fitting on the
training part and measured on a frozen, stratified held-out part.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glamml.ml.baselines import (
    Baseline,
    MajorityBaseline,
    RulesBaseline,
    StratifiedBaseline,
    validate_rules,
)
from glamml.ml.calibration import fit_temperature
from glamml.ml.evaluation import SMALL_TEST_SET, evaluate, evaluate_top_k, stratified_split
from glamml.ml.langid import NOT_A_LANGUAGE, LanguageIdentifier
from glamml.ml.languages import UnknownLanguageError, normalise_language
from glamml.ml.text import clean_text
from glamml.ml.textclf import TextClassifier, TrainingDataError

EVAL_SAMPLE_PATH = Path(__file__).resolve().parent / "data" / "langid_eval_sample.csv"
CALIBRATION_FOLDS = 5
# Below this many out-of-fold predictions the base model's temperature is kept.
MIN_CALIBRATION_EXAMPLES = 30


@dataclass
class TrainingResult:
    model: LanguageIdentifier
    metrics: dict[str, Any]
    fingerprint: str
    split: dict[str, list[int]] = field(default_factory=dict)  # indices into the given examples


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


def evaluate_model(model: Any, texts: list[str], labels: list[str]) -> dict:
    """Any model with ``predict`` (top label and confidence per text), on labelled texts."""
    best = model.predict(texts)
    return evaluate(labels, [label for label, _ in best], [conf for _, conf in best])


def _usable(
    texts: list[str], labels: list[str]
) -> tuple[list[int], list[str], list[str], dict[str, int]]:
    kept, kept_texts, kept_labels = [], [], []
    skipped = {"unknown_label": 0, "not_a_language": 0, "no_text": 0}
    for position, (text, raw) in enumerate(zip(texts, labels, strict=True)):
        try:
            label = normalise_language(raw)
        except UnknownLanguageError:
            skipped["unknown_label"] += 1
            continue
        if label in NOT_A_LANGUAGE:
            skipped["not_a_language"] += 1
        elif not clean_text(text):
            skipped["no_text"] += 1
        else:
            kept.append(position)
            kept_texts.append(text)
            kept_labels.append(label)
    return kept, kept_texts, kept_labels, skipped


def _fold_of(labels: list[str], folds: int, seed: int) -> np.ndarray:
    """Stratified fold numbers: each label's examples are dealt round the folds in random order."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=int)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    for label in sorted(by_label):
        indices = by_label[label]
        for position, i in enumerate(rng.permutation(len(indices))):
            fold[indices[i]] = position % folds
    return fold


def cross_fitted_calibration(
    base: LanguageIdentifier, texts: list[str], labels: list[str], *, seed: int
) -> tuple[float | None, int]:
    """Temperature fitted on out-of-fold predictions of the in-domain training examples.

    Returns ``(None, n)`` when fewer than :data:`MIN_CALIBRATION_EXAMPLES` could be scored.
    """
    if len(texts) < MIN_CALIBRATION_EXAMPLES:
        return None, 0
    fold = _fold_of(labels, CALIBRATION_FOLDS, seed)
    parts = []
    for k in range(CALIBRATION_FOLDS):
        inside = np.flatnonzero(fold == k)
        outside = np.flatnonzero(fold != k)
        if not len(inside):
            continue
        model = base.fit_incremental([texts[i] for i in outside], [labels[i] for i in outside])
        held_labels = [labels[i] for i in inside]
        known = [i for i, label in zip(inside, held_labels, strict=True) if label in model.classes_]
        if not known:
            continue
        parts.append(
            model.calibration_scores([texts[i] for i in known], [labels[i] for i in known])
        )
    n_scored = sum(len(targets) for _, targets in parts)
    if n_scored < MIN_CALIBRATION_EXAMPLES:
        return None, n_scored
    temperature = fit_temperature(
        parts,
        prior_weight=base.hyper.prior_weight,
        length_exponent=base.hyper.length_exponent,
        lapse=base.hyper.lapse,
    )
    return temperature, n_scored


def train_language_model(
    texts: list[str],
    labels: list[str],
    *,
    test_size: float = 0.2,
    seed: int = 0,
    base: LanguageIdentifier | None = None,
) -> TrainingResult:
    """Base model + the given labelled examples, calibrated and evaluated on a held-out split.

    Labels are normalised to ISO 639-3; examples with unknown labels, ``und``/``mul``/``zxx``
    labels or no letters are skipped (counted in ``metrics["skipped"]``). Labels with fewer than
    two examples go to the training part only. With no usable examples, or none held out, the
    model is evaluated on the small held-out sample shipped with the base model, and
    ``metrics["evaluated_on"]`` says so.
    """
    if len(texts) != len(labels):
        raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
    base = base if base is not None else LanguageIdentifier.base()
    kept, kept_texts, kept_labels, skipped = _usable(list(texts), list(labels))
    fingerprint = training_fingerprint(kept_texts, kept_labels)

    if kept_texts:
        train_idx, test_idx = stratified_split(kept_labels, test_size=test_size, seed=seed)
    else:
        train_idx, test_idx = [], []
    train_texts = [kept_texts[i] for i in train_idx]
    train_labels = [kept_labels[i] for i in train_idx]

    model = base
    calibration: dict[str, Any] = {"method": "base model temperature", "n": 0}
    if train_texts:
        model = base.fit_incremental(train_texts, train_labels)
        temperature, n_scored = cross_fitted_calibration(base, train_texts, train_labels, seed=seed)
        if temperature is not None:
            model = model.with_temperature(temperature)
            calibration = {
                "method": f"temperature scaling, {CALIBRATION_FOLDS}-fold cross-fitted",
                "n": n_scored,
            }
        else:
            calibration["note"] = (
                f"fewer than {MIN_CALIBRATION_EXAMPLES} training examples could be scored "
                "out of fold; kept the base model's temperature"
            )
    calibration["temperature"] = model.hyper.temperature

    if test_idx:
        eval_texts = [kept_texts[i] for i in test_idx]
        eval_labels = [kept_labels[i] for i in test_idx]
        evaluated_on = "held-out split of the given examples"
    else:
        eval_texts, eval_labels = load_eval_sample()
        evaluated_on = (
            "the held-out sample shipped with the base model (British Library, FinGreyLit, "
            "Tatoeba and UDHR records the base model was not trained on)"
        )
    metrics = evaluate_model(model, eval_texts, eval_labels)
    metrics.update(
        {
            "n_train": len(train_texts),
            "n_test": len(eval_texts),
            "evaluated_on": evaluated_on,
            "skipped": skipped,
            "calibration": calibration,
            "test_size": test_size,
            "seed": seed,
        }
    )
    # Indices refer to the examples as given, so the caller can freeze the split.
    split = {"train": [kept[i] for i in train_idx], "test": [kept[i] for i in test_idx]}
    return TrainingResult(model=model, metrics=metrics, fingerprint=fingerprint, split=split)


# -- the learning loop for any field: a model and three baselines on a frozen held-out split ------

KINDS = ("language", "label")
METRICS = ("accuracy", "macro_f1")
BASELINE_NAMES = ("stratified", "majority", "rules")
TOP_K = 3


@dataclass
class TrainingReport:
    """A trained model, its held-out metrics and the baselines' metrics on the same records."""

    model: LanguageIdentifier | TextClassifier
    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    fingerprint: str  # training_fingerprint() of the training examples used


def hash_fraction(seed: int, key: str) -> float:
    """A number in [0, 1) that depends only on the seed and the key."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def frozen_split(
    keys: list[str], labels: list[str], *, test_size: float = 0.2, seed: int = 0
) -> set[str]:
    """The keys that go to the held-out side: stratified, and stable as examples are added.

    A key is held out when a hash of ``(seed, key)`` falls below ``test_size``: the decision
    depends on nothing else, so adding records never moves an old one, and each label is held
    out in proportion (in expectation; a label with few examples may have none held out).
    Two exceptions keep every label learnable: a label with a single example keeps it in train,
    and a label whose examples would all be held out keeps the one with the largest hash in
    train. Only those keys can change side later, when their label grows.
    """
    if len(keys) != len(labels):
        raise ValueError(f"got {len(keys)} keys but {len(labels)} labels")
    if not 0.0 < test_size < 1.0:
        raise ValueError("test_size must be between 0 and 1")
    if len(set(keys)) != len(keys):
        raise ValueError("keys must be unique")
    by_label: dict[str, list[tuple[float, str]]] = {}
    for key, label in zip(keys, labels, strict=True):
        by_label.setdefault(label, []).append((hash_fraction(seed, str(key)), key))
    held_out: set[str] = set()
    for members in by_label.values():
        if len(members) < 2:
            continue
        chosen = [key for fraction, key in members if fraction < test_size]
        if len(chosen) == len(members):
            chosen.remove(max(members)[1])
        held_out.update(chosen)
    return held_out


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


def _language_examples(
    texts: list[str], labels: list[str], side: str, warnings: list[str]
) -> tuple[list[str], list[str]]:
    _, kept_texts, kept_labels, skipped = _usable(list(texts), list(labels))
    dropped = {reason: n for reason, n in skipped.items() if n}
    if dropped:
        detail = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in dropped.items())
        warnings.append(f"skipped {sum(dropped.values())} {side} example(s): {detail}")
    return kept_texts, kept_labels


def _language_rules(rules: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rules keyed by language codes or names, re-keyed by ISO 639-3 where that is known."""
    normalised: dict[str, list[str]] = {}
    for label, patterns in rules.items():
        try:
            code = normalise_language(label)
        except UnknownLanguageError:
            code = label
        normalised.setdefault(code, []).extend(patterns)
    return normalised


def _train_language(
    texts: list[str],
    labels: list[str],
    params: dict[str, Any],
    seed: int,
    warnings: list[str],
    base: LanguageIdentifier | None,
) -> tuple[LanguageIdentifier, dict[str, Any]]:
    unknown = sorted(set(params) - {"in_domain_weight"})
    if unknown:
        raise ValueError(f"unknown parameter(s) for a language model: {', '.join(unknown)}")
    base = base if base is not None else LanguageIdentifier.base()
    if not texts:
        warnings.append("no in-domain training examples: this is the shipped base model")
        return base, {"method": "base model temperature", "n": 0}
    model = base.fit_incremental(texts, labels, weight=params.get("in_domain_weight"))
    temperature, n_scored = cross_fitted_calibration(base, texts, labels, seed=seed)
    if temperature is None:
        warnings.append(
            f"calibration kept the base model's temperature: only {n_scored} training examples "
            f"could be scored out of fold (at least {MIN_CALIBRATION_EXAMPLES} needed)"
        )
        return model, {"method": "base model temperature", "n": n_scored}
    return model.with_temperature(temperature), {
        "method": f"temperature scaling, {CALIBRATION_FOLDS}-fold cross-fitted",
        "n": n_scored,
        "temperature": temperature,
    }


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
    by cross-fitting (as :func:`train_language_model`, without its own split); labels are
    normalised to ISO 639-3 and unusable examples skipped with a warning. ``kind="label"``: a
    :class:`~glamml.ml.textclf.TextClassifier` (``params`` are its parameters); raises
    :class:`TrainingDataError` when the examples cannot train one. ``rules`` are the field's
    rules baseline: a pattern that is not a valid regular expression is left out of it, and
    named in ``baselines["rules"]["errors"]`` and the warnings (check rules with
    :func:`~glamml.ml.baselines.validate_rules` when they are saved). ``base`` is
    the language model to start from (default: the shipped one, loaded and checked each call).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    for side, texts, labels in (
        ("training", train_texts, train_labels),
        ("held-out", test_texts, test_labels),
    ):
        if len(texts) != len(labels):
            raise TrainingDataError(f"got {len(texts)} {side} texts but {len(labels)} labels")
    rules = dict(rules or {})
    params = dict(params or {})
    warnings: list[str] = []
    model: LanguageIdentifier | TextClassifier
    if kind == "language":
        train_texts, train_labels = _language_examples(
            train_texts, train_labels, "training", warnings
        )
        test_texts, test_labels = _language_examples(test_texts, test_labels, "held-out", warnings)
        rules = _language_rules(rules)
        model, calibration = _train_language(
            train_texts, train_labels, params, seed, warnings, base
        )
        # The base model knows hundreds of languages: name only those in this data.
        known = sorted(set(train_labels) | (set(test_labels) & set(model.classes_)))
    else:
        train_texts, train_labels = list(train_texts), list(train_labels)
        test_texts, test_labels = list(test_texts), list(test_labels)
        model = TextClassifier(params=params).fit(train_texts, train_labels)
        calibration = model.params()["calibration"]
        warnings.extend(model.warnings_)
        known = list(model.classes_)
    warnings.extend(_data_warnings(train_labels, test_labels, list(model.classes_)))

    order = sorted(set(known) | set(test_labels))
    metrics = evaluate_top_k(test_labels, model.predict_top_k(test_texts, k=TOP_K), labels=order)
    metrics.update(
        {
            "kind": kind,
            "n_train": len(train_texts),
            "n_test": len(test_texts),
            "label_counts_train": dict(sorted(Counter(train_labels).items())),
            "label_counts_test": dict(sorted(Counter(test_labels).items())),
            "calibration": calibration,
            "warnings": warnings,
            "seed": seed,
            "test_fingerprint": training_fingerprint(test_texts, test_labels),
        }
    )
    baselines = _baselines(train_labels, test_texts, test_labels, rules, order, seed)
    warnings.extend(f"rules baseline: {error} (left out)" for error in baselines["rules"]["errors"])
    return TrainingReport(
        model=model,
        metrics=metrics,
        baselines=baselines,
        fingerprint=training_fingerprint(train_texts, train_labels),
    )
