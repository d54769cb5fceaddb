"""A calibrated text classifier for any single-label catalogue field (genre, object type, ...).

Features are TF-IDF weighted word n-grams and character n-grams (within word boundaries, so
spelling variants and other languages still share evidence); the model is a multinomial
logistic regression. Its probabilities are calibrated by *bias-corrected temperature scaling*:
``softmax(z / T + b)`` over the model's logits ``z``, with one temperature ``T`` and one bias per
label fitted on out-of-fold logits (each training example scored by a model that did not see
it). The biases take back the shift that ``class_weight="balanced"`` puts into the logits (it
helps rare labels get predicted, but inflates their probabilities); the temperature corrects
over- or under-confidence. To make the out-of-fold logits look like the final model's, each fold
model's ``C`` is scaled up by the share of data it did not see. With too few examples to
cross-fit, the raw probabilities are kept and the model says so in
:meth:`TextClassifier.params`.

Models are written with skops (no pickle), atomically, with a format version inside: plain
arrays (each vectoriser's vocabulary and IDF weights, the coefficients) and JSON-like values,
no scikit-learn object, so the file stays small and its layout is ours, not scikit-learn's.
Loading checks the sha256 and raises :class:`~glamml.ml.langid.ArtefactError` with the reason.
"""

from __future__ import annotations

import copy
import math
import os
import zipfile
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import sklearn
import skops.io as sio
from scipy import optimize, sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from glamml.ml.artefacts import ArtefactError, check_artefact, write_atomic
from glamml.ml.evaluation import FEW_TRAINING_EXAMPLES

__all__ = [
    "DEFAULT_PARAMS",
    "FORMAT_VERSION",
    "ArtefactError",
    "TextClassifier",
    "TrainingDataError",
]

FORMAT_VERSION = 1

DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngrams": [1, 2],  # word n-gram range; None leaves words out
    "char_ngrams": [2, 5],  # character n-gram range within words; None leaves them out
    "max_features": 50_000,  # per kind of feature, most frequent first
    "min_df": 1,
    "C": 10.0,  # inverse regularisation strength of the logistic regression
    "class_weight": "balanced",  # or None
    "calibration": "temperature+bias",  # or "temperature" or "none"
    "folds": 5,  # cross-fitting folds for the calibration
    "max_chars": 5_000,  # longer texts are cut (a record's text, not a book)
    "seed": 0,
}
CALIBRATION_METHODS = ("temperature+bias", "temperature", "none")
# Below this many out-of-fold scores the calibration is not fitted (raw probabilities are kept).
MIN_CALIBRATION_EXAMPLES = 20
# Pull of the per-label biases towards 0 (a Gaussian prior), so a rare label's bias stays sane.
BIAS_PENALTY = 0.01
# Labels with fewer training examples than this are reported as a warning.
FEW_EXAMPLES = FEW_TRAINING_EXAMPLES


# What reading a damaged skops file raises (a skops type error is handled before these).
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile)


class TrainingDataError(ValueError):
    """The labelled examples cannot train a model (no examples, one label, no usable text)."""


def _ngram_range(value: Any, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        low, high = (int(part) for part in value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be [min, max] or None, got {value!r}") from exc
    if not 1 <= low <= high:
        raise ValueError(f"{name} must satisfy 1 <= min <= max, got {value!r}")
    return low, high


def _check_params(params: dict[str, Any] | None) -> dict[str, Any]:
    given = dict(params or {})
    unknown = sorted(set(given) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULT_PARAMS))}"
        )
    merged = {**DEFAULT_PARAMS, **given}
    word = _ngram_range(merged["word_ngrams"], "word_ngrams")
    char = _ngram_range(merged["char_ngrams"], "char_ngrams")
    if word is None and char is None:
        raise ValueError("word_ngrams and char_ngrams cannot both be None")
    merged["word_ngrams"] = list(word) if word else None
    merged["char_ngrams"] = list(char) if char else None
    if not float(merged["C"]) > 0:
        raise ValueError(f"C must be positive, got {merged['C']!r}")
    merged["C"] = float(merged["C"])
    if merged["class_weight"] not in ("balanced", None):
        raise ValueError(f"class_weight must be 'balanced' or None, got {merged['class_weight']!r}")
    if merged["calibration"] not in CALIBRATION_METHODS:
        raise ValueError(
            f"calibration must be one of {', '.join(CALIBRATION_METHODS)}, "
            f"got {merged['calibration']!r}"
        )
    for name, minimum in (("max_features", 1), ("min_df", 1), ("folds", 2), ("max_chars", 1)):
        if merged[name] is None and name == "max_features":
            continue
        if int(merged[name]) < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {merged[name]!r}")
        merged[name] = int(merged[name])
    merged["seed"] = int(merged["seed"])
    return merged


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def _fold_of(labels: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Stratified fold numbers: each label's examples are dealt round the folds in random order."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labels), dtype=int)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    offset = 0
    for label in sorted(by_label):
        indices = by_label[label]
        for position, i in enumerate(rng.permutation(len(indices))):
            fold[indices[i]] = (position + offset) % folds
        # Start the next label where this one stopped, so single examples spread over folds.
        offset += len(indices)
    return fold


# One part of the out-of-fold scores: logits over a fold model's classes, the global index of
# each of those classes, and the global index of each example's true label.
_Part = tuple[np.ndarray, np.ndarray, np.ndarray]


def _calibration_loss(
    theta: np.ndarray, parts: Sequence[_Part], n_classes: int, fit_bias: bool
) -> tuple[float, np.ndarray]:
    """Mean NLL of ``softmax(z / T + b)`` plus the bias penalty, and its gradient."""
    log_t = theta[0]
    bias = theta[1:] if fit_bias else np.zeros(n_classes)
    temperature = math.exp(log_t)
    total = 0.0
    grad_log_t = 0.0
    grad_bias = np.zeros(n_classes)
    count = sum(len(targets) for _, _, targets in parts)
    for logits, class_index, targets in parts:
        scaled = logits / temperature + bias[class_index][None, :]
        proba = _softmax(scaled.copy())
        rows = np.arange(len(targets))
        local = np.searchsorted(class_index, targets)
        shifted = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        total += float(np.sum(log_norm - shifted[rows, local]))
        residual = proba
        residual[rows, local] -= 1.0
        grad_log_t += float(np.sum(residual * (-logits / temperature)))
        np.add.at(grad_bias, class_index, residual.sum(axis=0))
    loss = total / count
    grad = [grad_log_t / count]
    if fit_bias:
        loss += 0.5 * BIAS_PENALTY * float(bias @ bias)
        grad.extend(grad_bias / count + BIAS_PENALTY * bias)
    return loss, np.asarray(grad)


def fit_calibration(
    parts: Sequence[_Part], n_classes: int, *, fit_bias: bool
) -> tuple[float, np.ndarray]:
    """Temperature and per-class biases that minimise the NLL of out-of-fold logits."""
    theta0 = np.zeros(1 + (n_classes if fit_bias else 0))
    bounds = [(-4.0, 5.0)] + [(-10.0, 10.0)] * (n_classes if fit_bias else 0)
    result = optimize.minimize(
        _calibration_loss,
        theta0,
        args=(list(parts), n_classes, fit_bias),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
    )
    temperature = float(math.exp(result.x[0]))
    bias = np.asarray(result.x[1:]) if fit_bias else np.zeros(n_classes)
    return temperature, bias


class TextClassifier:
    """Word and character TF-IDF features, logistic regression, calibrated probabilities."""

    def __init__(self, *, params: dict[str, Any] | None = None) -> None:
        self._params = _check_params(params)
        self.classes_: list[str] = []
        self.warnings_: list[str] = []
        # (name, fitted vectoriser) per kind of feature, in column order.
        self._vectorizers: list[tuple[str, TfidfVectorizer]] = []
        self._coef: np.ndarray | None = None  # (classes or 1, features)
        self._intercept = np.zeros(0)
        self._temperature = 1.0
        self._bias = np.zeros(0)
        self._info: dict[str, Any] = {}

    # -- training ---------------------------------------------------------------------------------

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        limit = self._params["max_chars"]
        return [" ".join(str(text).split())[:limit] for text in texts]

    def _new_vectorizers(self) -> list[tuple[str, TfidfVectorizer]]:
        p = self._params
        shared = {
            "sublinear_tf": True,
            "min_df": p["min_df"],
            "max_features": p["max_features"],
            "dtype": np.float32,
        }
        parts = []
        if p["word_ngrams"]:
            # The token pattern keeps one-letter words ("A", "I").
            word = TfidfVectorizer(
                analyzer="word",
                ngram_range=tuple(p["word_ngrams"]),
                token_pattern=r"(?u)\b\w+\b",
                **shared,
            )
            parts.append(("word", word))
        if p["char_ngrams"]:
            char = TfidfVectorizer(
                analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), **shared
            )
            parts.append(("char", char))
        return parts

    def _new_linear(self, *, scale: float = 1.0) -> LogisticRegression:
        return LogisticRegression(
            C=self._params["C"] * scale,
            class_weight=self._params["class_weight"],
            solver="newton-cg",
            max_iter=500,
        )

    @staticmethod
    def _two_columns(scores: np.ndarray) -> np.ndarray:
        if scores.ndim == 2 and scores.shape[1] == 1:
            scores = scores[:, 0]
        if scores.ndim == 1:
            # Binary: the logit of classes_[1]; as two columns, softmax gives the same probability.
            return np.column_stack([-scores / 2.0, scores / 2.0])
        return scores

    def _transform(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack(
            [vectorizer.transform(texts) for _, vectorizer in self._vectorizers], format="csr"
        )

    def fit(self, texts: list[str], labels: list[str]) -> TextClassifier:
        """Learn from labelled texts; raises :class:`TrainingDataError` when that is impossible.

        Examples with blank text or a blank label are skipped (counted in ``params()``). A label
        with a single example is learnt, with a warning in ``warnings_``: it cannot be checked
        and the model will rarely predict it.
        """
        if len(texts) != len(labels):
            raise TrainingDataError(f"got {len(texts)} texts but {len(labels)} labels")
        if not texts:
            raise TrainingDataError("no training examples: label some records first")
        prepared = self._prepare(texts)
        kept_texts, kept_labels = [], []
        skipped = {"no_text": 0, "no_label": 0}
        for text, raw in zip(prepared, labels, strict=True):
            label = "" if raw is None else str(raw).strip()
            if not label:
                skipped["no_label"] += 1
            elif not text:
                skipped["no_text"] += 1
            else:
                kept_texts.append(text)
                kept_labels.append(label)
        if not kept_texts:
            raise TrainingDataError(
                f"no usable training examples: {skipped['no_text']} without text and "
                f"{skipped['no_label']} without a label"
            )
        counts = Counter(kept_labels)
        if len(counts) < 2:
            (only,) = counts
            raise TrainingDataError(
                f"all {len(kept_texts)} training examples have the label {only!r}: "
                "a classifier needs examples of at least two labels"
            )
        warnings = []
        singles = sorted(label for label, n in counts.items() if n == 1)
        if singles:
            warnings.append(
                f"{len(singles)} label(s) with a single training example: "
                f"{', '.join(repr(label) for label in singles)}"
            )
        few = sorted(label for label, n in counts.items() if 1 < n < FEW_EXAMPLES)
        if few:
            warnings.append(
                f"{len(few)} label(s) with fewer than {FEW_EXAMPLES} training examples: "
                f"{', '.join(repr(label) for label in few)}"
            )

        vectorizers, blocks = [], []
        for name, vectorizer in self._new_vectorizers():
            try:
                blocks.append(vectorizer.fit_transform(kept_texts))
            except ValueError:  # "empty vocabulary": no words (only punctuation, say)
                continue
            vectorizers.append((name, vectorizer))
        if not blocks:
            raise TrainingDataError(
                "the texts have nothing to learn from: no words or characters in any of them"
            )
        matrix = sparse.hstack(blocks, format="csr")
        classes = sorted(counts)
        targets = np.asarray([classes.index(label) for label in kept_labels])
        linear = self._new_linear().fit(matrix, np.asarray(kept_labels))

        temperature, bias, calibration = 1.0, np.zeros(len(classes)), {"method": "none"}
        if self._params["calibration"] != "none":
            parts = self._out_of_fold_logits(matrix, kept_labels, classes, targets)
            n_scored = sum(len(t) for _, _, t in parts)
            if n_scored >= MIN_CALIBRATION_EXAMPLES:
                fit_bias = self._params["calibration"] == "temperature+bias"
                temperature, bias = fit_calibration(parts, len(classes), fit_bias=fit_bias)
                calibration = {
                    "method": self._params["calibration"],
                    "folds": self._params["folds"],
                    "n": n_scored,
                }
            else:
                message = (
                    f"calibration skipped: only {n_scored} examples could be scored out of fold "
                    f"(at least {MIN_CALIBRATION_EXAMPLES} needed); probabilities are uncalibrated"
                )
                warnings.append(message)
                calibration = {"method": "none", "note": message, "n": n_scored}
        calibration["temperature"] = temperature
        calibration["bias"] = {label: float(b) for label, b in zip(classes, bias, strict=True)}

        self.classes_ = classes
        self.warnings_ = warnings
        self._vectorizers = vectorizers
        self._coef = np.asarray(linear.coef_, dtype=np.float64)
        self._intercept = np.asarray(linear.intercept_, dtype=np.float64)
        self._temperature = temperature
        self._bias = bias
        self._info = {
            "n_examples": len(kept_texts),
            "label_counts": dict(sorted(counts.items())),
            "skipped": skipped,
            "calibration": calibration,
            "warnings": warnings,
            "n_features": int(matrix.shape[1]),
            "sklearn_version": sklearn.__version__,
        }
        return self

    def _out_of_fold_logits(
        self,
        matrix: sparse.csr_matrix,
        labels: list[str],
        classes: list[str],
        targets: np.ndarray,
    ) -> list[_Part]:
        folds = min(self._params["folds"], len(labels))
        fold = _fold_of(labels, folds, self._params["seed"])
        y = np.asarray(labels)
        parts: list[_Part] = []
        for k in range(folds):
            inside = np.flatnonzero(fold == k)
            outside = np.flatnonzero(fold != k)
            if not len(inside) or len(set(y[outside])) < 2:
                continue
            # sklearn's C weighs the summed loss against the penalty: scaling it by n / n_fold
            # keeps a fold model about as sure of itself as the final model, whose logits the
            # calibration is for.
            scale = len(labels) / len(outside)
            model = self._new_linear(scale=scale).fit(matrix[outside], y[outside])
            class_index = np.asarray([classes.index(label) for label in model.classes_])
            known = inside[np.isin(targets[inside], class_index)]
            if not len(known):
                continue
            logits = self._two_columns(model.decision_function(matrix[known]))
            parts.append((logits, class_index, targets[known]))
        return parts

    # -- prediction -------------------------------------------------------------------------------

    def _require_fitted(self) -> np.ndarray:
        if self._coef is None or not self._vectorizers:
            raise RuntimeError("this TextClassifier is not trained yet: call fit() or load()")
        return self._coef

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities over ``classes_``, one row per text; rows sum to 1."""
        coef = self._require_fitted()
        if not len(texts):
            return np.zeros((0, len(self.classes_)))
        scores = np.asarray(self._transform(self._prepare(texts)) @ coef.T) + self._intercept
        logits = self._two_columns(scores)
        return _softmax(logits / self._temperature + self._bias[None, :])

    def predict_top_k(self, texts: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels per text, best first (ties by label)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        proba = self.predict_proba(texts)
        k = min(k, len(self.classes_))
        results = []
        for row in proba:
            order = sorted(range(len(self.classes_)), key=lambda c: (-row[c], self.classes_[c]))
            results.append([(self.classes_[c], float(row[c])) for c in order[:k]])
        return results

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """Best label and its probability per text."""
        return [top[0] for top in self.predict_top_k(texts, k=1)]

    # -- description and persistence --------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """JSON-serialisable description: settings, classes, calibration, training counts."""
        return copy.deepcopy(
            {
                "model": (
                    "logistic regression over word and character TF-IDF n-grams, "
                    "calibrated by bias-corrected temperature scaling"
                ),
                "format_version": FORMAT_VERSION,
                **self._params,
                "classes": list(self.classes_),
                **self._info,
            }
        )

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the model atomically in skops format (no pickle); returns the file's sha256."""
        coef = self._require_fitted()
        vectorizers = {}
        for name, vectorizer in self._vectorizers:
            vocabulary = vectorizer.vocabulary_
            vectorizers[name] = {
                "vocabulary": np.asarray(sorted(vocabulary, key=vocabulary.__getitem__), dtype=str),
                "idf": np.asarray(vectorizer.idf_, dtype=np.float64),
            }
        payload = sio.dumps(
            {
                "format_version": FORMAT_VERSION,
                "params": self._params,
                "classes": list(self.classes_),
                "warnings": list(self.warnings_),
                "temperature": float(self._temperature),
                "bias": [float(b) for b in self._bias],
                "info": self._info,
                "vectorizers": vectorizers,
                "coef": coef,
                "intercept": self._intercept,
            },
            compression=zipfile.ZIP_DEFLATED,
        )
        return write_atomic(path, lambda handle: handle.write(payload))

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, checksum: str | None = None) -> TextClassifier:
        """Read a model written by :meth:`save`; raises :class:`ArtefactError` with the reason.

        Only types that skops trusts are loaded: a file holding anything else is refused.
        """
        source = check_artefact(path, checksum=checksum)
        try:
            state = sio.load(source)
        except sio.exceptions.UntrustedTypesFoundException as exc:
            raise ArtefactError(
                f"Model file {source} holds types this code does not load: {exc}"
            ) from exc
        except _READ_ERRORS as exc:
            raise ArtefactError(
                f"Model file {source} is corrupt or not a skops file: {exc}"
            ) from exc
        if not isinstance(state, dict) or "format_version" not in state:
            raise ArtefactError(f"Model file {source} is not a glamml text classifier")
        version = state["format_version"]
        if version != FORMAT_VERSION:
            raise ArtefactError(
                f"Model file {source} has format version {version}; this code reads version "
                f"{FORMAT_VERSION}: retrain the model"
            )
        try:
            model = cls(params=state["params"])
            model._restore(state)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ArtefactError(f"Model file {source} is inconsistent: {exc}") from exc
        return model

    def _restore(self, state: dict[str, Any]) -> None:
        classes = [str(label) for label in state["classes"]]
        coef = np.asarray(state["coef"], dtype=np.float64)
        intercept = np.asarray(state["intercept"], dtype=np.float64)
        bias = np.asarray(state["bias"], dtype=np.float64)
        # The kinds of feature that had a vocabulary when the model was trained, in column order.
        vectorizers = [
            (name, vectorizer)
            for name, vectorizer in self._new_vectorizers()
            if name in state["vectorizers"]
        ]
        if not vectorizers:
            raise ValueError("no vectoriser")
        n_features = 0
        for name, vectorizer in vectorizers:
            stored = state["vectorizers"][name]
            terms = [str(term) for term in stored["vocabulary"]]
            idf = np.asarray(stored["idf"], dtype=np.float64)
            if len(terms) != len(idf):
                raise ValueError(f"the {name} vocabulary and its IDF weights disagree")
            vectorizer.vocabulary_ = {term: i for i, term in enumerate(terms)}
            vectorizer.fixed_vocabulary_ = True
            vectorizer.idf_ = idf
            n_features += len(terms)
        rows = 1 if len(classes) == 2 else len(classes)
        if coef.shape != (rows, n_features) or intercept.shape != (rows,):
            raise ValueError(f"coefficients of shape {coef.shape} do not fit {n_features} features")
        if len(bias) != len(classes) or len(classes) < 2:
            raise ValueError("classes and calibration biases disagree")
        self.classes_ = classes
        self.warnings_ = [str(w) for w in state["warnings"]]
        self._vectorizers = vectorizers
        self._coef = coef
        self._intercept = intercept
        self._temperature = float(state["temperature"])
        self._bias = bias
        self._info = dict(state["info"])

    def __repr__(self) -> str:
        state = f"{len(self.classes_)} classes" if self.classes_ else "untrained"
        return f"<TextClassifier {state}, T={self._temperature:.3g}>"
