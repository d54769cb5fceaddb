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

Models are written with skops (see :mod:`glamml.ml.textclf.artefact`).
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy import sparse

import glamml.ml.textclf.artefact as artefact
from glamml.ml.artefacts import ArtefactError
from glamml.ml.calibration import LogitPart, fit_temperature_and_bias, softmax
from glamml.ml.evaluation import FEW_TRAINING_EXAMPLES
from glamml.ml.splits import stratified_folds
from glamml.ml.textclf.params import (
    CALIBRATED_BY,
    CALIBRATION_METHODS,
    DEFAULT_PARAMS,
    ParamError,
    check_params,
)

# scikit-learn is imported inside the functions that train: importing it takes about a second,
# which every Django process (web, worker, manage.py) would otherwise pay at start-up.
if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

__all__ = [
    "CALIBRATED_BY",
    "CALIBRATION_METHODS",
    "DEFAULT_PARAMS",
    "ParamError",
    "TextClassifier",
    "TrainingDataError",
    "check_params",
]

# Below this many out-of-fold scores the calibration is not fitted (raw probabilities are kept).
MIN_CALIBRATION_EXAMPLES = 20
# Labels with fewer training examples than this are reported as a warning.
FEW_EXAMPLES = FEW_TRAINING_EXAMPLES


class TrainingDataError(ValueError):
    """The labelled examples cannot train a model (no examples, one label, no usable text)."""


def _usable_examples(
    prepared: list[str], labels: list[str]
) -> tuple[list[str], list[str], dict[str, int]]:
    """Examples with both a text and a label, and how many lacked either."""
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
    return kept_texts, kept_labels, skipped


def _label_warnings(counts: Counter[str], n_examples: int) -> list[str]:
    """Warnings about labels with few examples; at least two labels are needed at all."""
    if len(counts) < 2:
        (only,) = counts
        raise TrainingDataError(
            f"all {n_examples} training examples have the label {only!r}: "
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
    return warnings


class TextClassifier:
    """Word and character TF-IDF features, logistic regression, calibrated probabilities."""

    FORMAT_VERSION: ClassVar[int] = artefact.FORMAT_VERSION
    FILE_SUFFIX: ClassVar[str] = artefact.FILE_SUFFIX  # skops: plain arrays and values

    def __init__(self, *, params: dict[str, Any] | None = None) -> None:
        self._params = check_params(params)
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
        from sklearn.feature_extraction.text import TfidfVectorizer

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
        from sklearn.linear_model import LogisticRegression

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
        import sklearn

        if len(texts) != len(labels):
            raise TrainingDataError(f"got {len(texts)} texts but {len(labels)} labels")
        if not texts:
            raise TrainingDataError("no training examples: label some records first")
        kept_texts, kept_labels, skipped = _usable_examples(self._prepare(texts), labels)
        counts = Counter(kept_labels)
        warnings = _label_warnings(counts, len(kept_texts))
        vectorizers, matrix = self._fit_features(kept_texts)
        classes = sorted(counts)
        linear = self._new_linear().fit(matrix, np.asarray(kept_labels))
        temperature, bias, calibration = self._calibrate(matrix, kept_labels, classes, warnings)

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

    def _fit_features(
        self, texts: list[str]
    ) -> tuple[list[tuple[str, TfidfVectorizer]], sparse.csr_matrix]:
        vectorizers, blocks = [], []
        for name, vectorizer in self._new_vectorizers():
            try:
                blocks.append(vectorizer.fit_transform(texts))
            except ValueError:  # "empty vocabulary": no words (only punctuation, say)
                continue
            vectorizers.append((name, vectorizer))
        if not blocks:
            raise TrainingDataError(
                "the texts have nothing to learn from: no words or characters in any of them"
            )
        return vectorizers, sparse.hstack(blocks, format="csr")

    def _calibrate(
        self,
        matrix: sparse.csr_matrix,
        labels: list[str],
        classes: list[str],
        warnings: list[str],
    ) -> tuple[float, np.ndarray, dict[str, Any]]:
        """Temperature, per-label biases and a description, from out-of-fold logits."""
        temperature, bias = 1.0, np.zeros(len(classes))
        calibration: dict[str, Any] = {"method": "none"}
        if self._params["calibration"] != "none":
            targets = np.asarray([classes.index(label) for label in labels])
            parts = self._out_of_fold_logits(matrix, labels, classes, targets)
            n_scored = sum(len(t) for _, _, t in parts)
            if n_scored >= MIN_CALIBRATION_EXAMPLES:
                fit_bias = self._params["calibration"] == "temperature+bias"
                temperature, bias = fit_temperature_and_bias(parts, len(classes), fit_bias=fit_bias)
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
        return temperature, bias, calibration

    def _out_of_fold_logits(
        self,
        matrix: sparse.csr_matrix,
        labels: list[str],
        classes: list[str],
        targets: np.ndarray,
    ) -> list[LogitPart]:
        fold = stratified_folds(labels, n_folds=self._params["folds"], seed=self._params["seed"])
        y = np.asarray(labels)
        parts: list[LogitPart] = []
        for k in range(int(fold.max()) + 1):
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
        return softmax(logits / self._temperature + self._bias[None, :])

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
                    f"calibrated by {CALIBRATED_BY[self._params['calibration']]}"
                ),
                "format_version": self.FORMAT_VERSION,
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
        state = {
            "params": self._params,
            "classes": list(self.classes_),
            "warnings": list(self.warnings_),
            "temperature": float(self._temperature),
            "bias": [float(b) for b in self._bias],
            "info": self._info,
            "vectorizers": vectorizers,
            "coef": coef,
            "intercept": self._intercept,
        }
        return artefact.write_state(path, state)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, checksum: str | None = None) -> TextClassifier:
        """Read a model written by :meth:`save`; raises :class:`ArtefactError` with the reason.

        Only types that skops trusts are loaded: a file holding anything else is refused.
        """
        state = artefact.read_state(path, checksum=checksum)
        try:
            model = cls(params=state["params"])
            model._restore(state)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ArtefactError(f"Model file {path} is inconsistent: {exc}") from exc
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
