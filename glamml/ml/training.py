"""Re-train the language identifier from a catalogue's labelled records.

The app passes the texts and labels it trusts (imported values and human decisions); the result
is the shipped base model plus those in-domain examples, calibrated by cross-fitting on the
training part and measured on a frozen, stratified held-out part.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glamml.ml.calibration import fit_temperature
from glamml.ml.evaluation import evaluate, stratified_split
from glamml.ml.langid import NOT_A_LANGUAGE, LanguageIdentifier
from glamml.ml.languages import UnknownLanguageError, normalise_language
from glamml.ml.text import clean_text

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


def evaluate_model(model: LanguageIdentifier, texts: list[str], labels: list[str]) -> dict:
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
        parts, prior_weight=base.hyper.prior_weight, length_exponent=base.hyper.length_exponent
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
