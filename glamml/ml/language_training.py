"""Re-training the language identifier on a catalogue's own labelled records.

The model is the shipped base model plus the in-domain examples (:meth:`fit_incremental`), with
its own whole-record temperature fitted on out-of-fold scores of those examples: each fold is a
validation part, scored by the base model plus the other folds as the app reads a record.
:func:`glamml.ml.training.train_and_evaluate` calls this for language fields.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid_build.fit import ScoredPart, fit_record_temperature, score_items
from glamml.ml.langid_build.texts import CalibrationItem
from glamml.ml.languages import SPECIAL_CODES, UnknownLanguageError, normalise_language
from glamml.ml.records import RecordLanguageModel, RecordSettings
from glamml.ml.splits import stratified_folds
from glamml.ml.text import clean_text

__all__ = [
    "CALIBRATION_FOLDS",
    "MIN_CALIBRATION_EXAMPLES",
    "cross_fitted_temperature",
    "language_examples",
    "language_rules",
    "prior_weight_for",
    "train_language",
]

CALIBRATION_FOLDS = 5
# Below this many out-of-fold predictions the base model's temperature is kept.
MIN_CALIBRATION_EXAMPLES = 30


def _usable(texts: list[str], labels: list[str]) -> tuple[list[str], list[str], dict[str, int]]:
    kept_texts, kept_labels = [], []
    skipped = {"unknown_label": 0, "not_a_language": 0, "no_text": 0}
    for text, raw in zip(texts, labels, strict=True):
        try:
            label = normalise_language(raw)
        except UnknownLanguageError:
            skipped["unknown_label"] += 1
            continue
        if label in SPECIAL_CODES:
            skipped["not_a_language"] += 1
        elif not clean_text(text):
            skipped["no_text"] += 1
        else:
            kept_texts.append(text)
            kept_labels.append(label)
    return kept_texts, kept_labels, skipped


def language_examples(
    texts: list[str], labels: list[str], side: str, warnings: list[str]
) -> tuple[list[str], list[str]]:
    """The examples a language model can use, labels normalised to ISO 639-3.

    Unknown labels, ``und``/``mul``/``mis``/``zxx`` and texts without letters are left out,
    with a warning (naming ``side``) that counts them by reason.
    """
    kept_texts, kept_labels, skipped = _usable(list(texts), list(labels))
    dropped = {reason: n for reason, n in skipped.items() if n}
    if dropped:
        detail = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in dropped.items())
        warnings.append(f"skipped {sum(dropped.values())} {side} example(s): {detail}")
    return kept_texts, kept_labels


def language_rules(rules: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rules keyed by language codes or names, re-keyed by ISO 639-3 where that is known."""
    normalised: dict[str, list[str]] = {}
    for label, patterns in rules.items():
        try:
            code = normalise_language(label)
        except UnknownLanguageError:
            code = label
        normalised.setdefault(code, []).extend(patterns)
    return normalised


def cross_fitted_temperature(
    base: LanguageIdentifier,
    texts: list[str],
    labels: list[str],
    *,
    seed: int,
) -> tuple[float | None, int]:
    """The whole-record temperature fitted on the validation folds of the training examples.

    The examples are dealt into :data:`CALIBRATION_FOLDS` stratified folds
    (:func:`~glamml.ml.splits.stratified_folds`); each fold is a validation part, scored by
    ``base`` plus the other folds as the app reads a record (the whole-record reader with the
    base model's settings, the example's text as its title), so every example is scored once
    by a model that did not count it. Only the temperature is refitted; the length exponent,
    prior weight, lapse, evidence scale and field weights stay the base model's. Returns
    ``(None, n)`` when fewer than :data:`MIN_CALIBRATION_EXAMPLES` could be scored.
    """
    if len(texts) < MIN_CALIBRATION_EXAMPLES:
        return None, 0
    settings = RecordSettings.from_identifier(base)
    fold = stratified_folds(labels, n_folds=CALIBRATION_FOLDS, seed=seed)
    parts: list[ScoredPart] = []
    for k in range(int(fold.max()) + 1):
        parts += _scored_fold(base, settings, texts, labels, fold, k)
    n_scored = sum(len(part.targets) for part in parts)
    if n_scored < MIN_CALIBRATION_EXAMPLES:
        return None, n_scored
    return fit_record_temperature(parts, settings).temperature, n_scored


def _scored_fold(
    base: LanguageIdentifier,
    settings: RecordSettings,
    texts: list[str],
    labels: list[str],
    fold: np.ndarray,
    k: int,
) -> list[ScoredPart]:
    """Fold ``k`` scored by ``base`` plus the other folds. The fold's model (the size of the
    base model again) is dropped on return, before the next fold's is built."""
    inside = np.flatnonzero(fold == k)
    outside = np.flatnonzero(fold != k)
    model = base.fit_incremental([texts[i] for i in outside], [labels[i] for i in outside])
    items = [
        CalibrationItem(fields={"title": texts[i]}, label=labels[i], corpus="catalogue", fold=k)
        for i in inside
    ]
    return score_items(RecordLanguageModel(model, settings), items)


def prior_weight_for(base: LanguageIdentifier, temperature: float) -> float:
    """The prior weight that goes with a refitted ``temperature``: the base model's, divided
    by as much as the temperature grew, so the balance of prior and evidence stays the one the
    base model was built with (see :func:`~glamml.ml.langid_build.fit.fit_record_temperature`)."""
    settings = RecordSettings.from_identifier(base)
    return settings.prior_weight * settings.temperature / temperature


def train_language(
    texts: list[str],
    labels: list[str],
    params: dict[str, Any],
    seed: int,
    warnings: list[str],
    base: LanguageIdentifier | None,
) -> tuple[LanguageIdentifier, dict[str, Any]]:
    """``base`` (default: the shipped model) plus usable examples, and how it was calibrated.

    ``params`` may set ``in_domain_weight`` (how many times an example's n-grams count). What
    the caller should know (no examples, calibration kept) is added to ``warnings``.
    """
    unknown = sorted(set(params) - {"in_domain_weight"})
    if unknown:
        raise ValueError(f"unknown parameter(s) for a language model: {', '.join(unknown)}")
    base = base if base is not None else LanguageIdentifier.base()
    if not texts:
        warnings.append("no in-domain training examples: this is the shipped base model")
        return base, _kept_temperature(base, 0)
    # The calibration first: its scores (the largest thing a run holds) are gone before the
    # model itself is built, so the two never take memory at the same time.
    temperature, n_scored = cross_fitted_temperature(base, texts, labels, seed=seed)
    model = base.fit_incremental(texts, labels, weight=params.get("in_domain_weight"))
    if temperature is None:
        warnings.append(
            f"calibration kept the base model's temperature: only {n_scored} training examples "
            f"could be scored out of fold (at least {MIN_CALIBRATION_EXAMPLES} needed)"
        )
        return model, _kept_temperature(model, n_scored)
    prior_weight = prior_weight_for(base, temperature)
    return model.with_temperature(temperature, prior_weight=prior_weight), {
        "method": f"whole-record temperature scaling, {CALIBRATION_FOLDS}-fold cross-fitted",
        "n": n_scored,
        "temperature": temperature,
        "prior_weight": prior_weight,
    }


def _kept_temperature(model: LanguageIdentifier, n_scored: int) -> dict[str, Any]:
    return {
        "method": "base model temperature",
        "n": n_scored,
        "temperature": RecordSettings.from_identifier(model).temperature,
    }
