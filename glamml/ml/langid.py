"""Language identification: a multinomial naive Bayes over character n-gram count profiles.

The model is nothing but counts: for each language, how often each character n-gram (1-4
letters, with word-boundary markers) occurred in its training text, weighted by source. That
makes it compact to ship (``data/langid_profiles.npz``, built by
``scripts/build_langid_profiles.py``), cheap to re-train (in-domain examples are added to the
counts, new labels become new rows) and easy to inspect. Naive Bayes scores are far too sure of
themselves because overlapping n-grams are not independent, so probabilities come from a
temperature fitted on held-out labelled text (``calibrate``): ``softmax(loglik / (T * n**g) +
b * log prior)``, where ``n`` is the number of known n-grams in the text.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from glamml.ml.artefacts import (
    ArtefactError,
    read_checksum_file,
    read_npz,
    write_npz_atomic,
)
from glamml.ml.calibration import Scores, fit_temperature, scaled_logits, softmax
from glamml.ml.languages import normalise_language
from glamml.ml.text import MAX_CHARS, clean_text

__all__ = [
    "BASE_MODEL_CHECKSUM_PATH",
    "BASE_MODEL_PATH",
    "FORMAT_VERSION",
    "NOT_A_LANGUAGE",
    "UNDETERMINED",
    "ArtefactError",
    "LanguageIdentifier",
]

UNDETERMINED = "und"
FORMAT_VERSION = 1

# ISO 639 special codes that are not a language a text can be recognised as.
NOT_A_LANGUAGE = frozenset({"und", "mul", "mis", "zxx"})

_DATA_DIR = Path(__file__).resolve().parent / "data"
BASE_MODEL_PATH = _DATA_DIR / "langid_profiles.npz"
BASE_MODEL_CHECKSUM_PATH = _DATA_DIR / "langid_profiles.npz.sha256"

_REQUIRED_ARRAYS = (
    "format_version",
    "params",
    "classes",
    "vocab",
    "counts_data",
    "counts_indices",
    "counts_indptr",
    "totals",
    "docs",
)


def char_ngrams(cleaned: str, ngram_min: int, ngram_max: int) -> list[str]:
    """Character n-grams of a cleaned text, words padded with a space on each side.

    Unigrams are the letters alone (a lone space says nothing about the language).
    """
    grams: list[str] = []
    for word in cleaned.split(" "):
        if not word:
            continue
        padded = f" {word} "
        size = len(padded)
        for n in range(max(ngram_min, 1), ngram_max + 1):
            if n == 1:
                grams.extend(word)
            else:
                grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return grams


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen on development data carved out of the training parts (see docs/langid.md)."""

    ngram_min: int = 1
    ngram_max: int = 4
    alpha: float = 0.1  # additive smoothing per n-gram, in (weighted) counts
    smoothing_vocab: int = 100_000  # vocabulary size assumed by the smoothing denominator
    prior_weight: float = 1.5  # b: how much the class prior counts after the temperature
    length_exponent: float = 0.5  # g: the temperature grows with text length as n**g
    temperature: float = 1.0  # T, fitted by calibrate()
    in_domain_weight: float = 3.0  # default n-gram weight of examples given to fit_incremental
    max_chars: int = MAX_CHARS


def _delta_encode(indices: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Column indices as gaps within each (sorted) row: they compress to half the size."""
    deltas = indices.astype(np.int64)
    deltas[1:] -= indices[:-1]
    starts = indptr[:-1][np.diff(indptr) > 0]
    deltas[starts] = indices[starts]
    return deltas.astype(np.uint32)


def _delta_decode(deltas: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    if len(deltas) != indptr[-1]:
        raise ValueError("counts_indices and counts_indptr disagree")
    running = np.cumsum(deltas, dtype=np.int64)
    lengths = np.diff(indptr)
    starts = indptr[:-1][lengths > 0]
    offsets = np.repeat(running[starts] - deltas[starts], lengths[lengths > 0])
    return running - offsets


class LanguageIdentifier:
    """Per-language character n-gram counts scored as multinomial naive Bayes, calibrated."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        vocab: Sequence[str],
        counts: sparse.csr_matrix,
        totals: np.ndarray,
        docs: np.ndarray,
        hyper: Hyperparameters | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.classes_: list[str] = list(classes)
        self._vocab: list[str] = list(vocab)
        self._index: dict[str, int] = {gram: i for i, gram in enumerate(self._vocab)}
        if len(self._index) != len(self._vocab):
            raise ValueError("vocabulary holds duplicate n-grams")
        counts = sparse.csr_matrix(counts, dtype=np.float64)
        n_classes, n_vocab = len(self.classes_), len(self._vocab)
        if counts.shape != (n_classes, n_vocab):
            raise ValueError(f"counts have shape {counts.shape}, expected {(n_classes, n_vocab)}")
        if len(totals) != n_classes or len(docs) != n_classes:
            raise ValueError("totals and docs need one value per class")
        self._counts = counts
        self._totals = np.asarray(totals, dtype=np.float64)
        self._docs = np.asarray(docs, dtype=np.float64)
        self.hyper = hyper or Hyperparameters()
        self.info: dict[str, Any] = dict(info or {})
        self._prepare()

    def _prepare(self) -> None:
        hyper = self.hyper
        log_counts = self._counts.copy()
        log_counts.data = np.log1p(log_counts.data / hyper.alpha)
        # loglik(x, c) = sum_j x_j log((count_cj + a) / (total_c + a V))
        #             = x . log1p(count_c / a) + n(x) * (log a - log(total_c + a V)),
        # which keeps the big matrix sparse.
        self._weights = log_counts.T.tocsr()
        self._class_offset = math.log(hyper.alpha) - np.log(
            self._totals + hyper.alpha * hyper.smoothing_vocab
        )
        self._log_prior = np.log((self._docs + 1.0) / (self._docs + 1.0).sum())

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def base(cls) -> LanguageIdentifier:
        """The default model built from the shipped profiles, after verifying their checksum."""
        checksum = read_checksum_file(BASE_MODEL_CHECKSUM_PATH)
        return cls.load(BASE_MODEL_PATH, checksum=checksum)

    @classmethod
    def from_examples(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        hyper: Hyperparameters | None = None,
        top_n: int | None = None,
        prior_total: float | None = None,
        info: dict[str, Any] | None = None,
    ) -> LanguageIdentifier:
        """Build a model from scratch; with ``top_n`` each profile keeps its most frequent n-grams.

        Truncated profiles keep their full totals, so the smoothing still knows how much text
        each language was built from. The class prior comes from the weighted number of
        examples per language; ``prior_total`` rescales those pseudo-counts to that sum, which
        sets how many in-domain examples (one pseudo-count each) it takes to move the prior.
        """
        empty = cls(
            classes=[],
            vocab=[],
            counts=sparse.csr_matrix((0, 0)),
            totals=np.zeros(0),
            docs=np.zeros(0),
            hyper=hyper,
            info=info,
        )
        model = empty._add_examples(texts, labels, weights=weights)
        if top_n is not None:
            model = model._truncated(top_n)
        if prior_total is not None and model._docs.sum() > 0:
            model._docs = model._docs * (prior_total / model._docs.sum())
            model._prepare()
        model.info = dict(info or {})
        return model

    def _truncated(self, top_n: int) -> LanguageIdentifier:
        counts = self._counts.tocsr()
        rows, cols, vals = [], [], []
        for c in range(counts.shape[0]):
            start, end = counts.indptr[c], counts.indptr[c + 1]
            data, idx = counts.data[start:end], counts.indices[start:end]
            if len(data) > top_n:
                # Stable order: by count, ties by n-gram, so the build is deterministic.
                grams = np.array([self._vocab[i] for i in idx])
                order = np.lexsort((grams, -data))[:top_n]
                data, idx = data[order], idx[order]
            rows.append(np.full(len(idx), c))
            cols.append(idx)
            vals.append(data)
        row = np.concatenate(rows) if rows else np.zeros(0, int)
        col = np.concatenate(cols) if cols else np.zeros(0, int)
        val = np.concatenate(vals) if vals else np.zeros(0)
        kept = np.unique(col)
        # Re-index the vocabulary in sorted n-gram order so the file does not depend on the
        # order examples came in.
        kept_grams = sorted(self._vocab[i] for i in kept)
        new_index = {gram: i for i, gram in enumerate(kept_grams)}
        remap = np.array([new_index.get(gram, -1) for gram in self._vocab])
        matrix = sparse.csr_matrix(
            (val, (row, remap[col])), shape=(len(self.classes_), len(kept_grams))
        )
        matrix.sort_indices()
        return LanguageIdentifier(
            classes=self.classes_,
            vocab=kept_grams,
            counts=matrix,
            totals=self._totals,
            docs=self._docs,
            hyper=self.hyper,
            info=self.info,
        )

    def _add_examples(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        default_weight: float = 1.0,
        prior_weight: float | None = None,
    ) -> LanguageIdentifier:
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        if weights is not None and len(weights) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(weights)} weights")
        hyper = self.hyper
        vocab = list(self._vocab)
        index = dict(self._index)
        classes = list(self.classes_)
        class_index = {label: i for i, label in enumerate(classes)}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        totals_add: Counter[int] = Counter()
        docs_add: Counter[int] = Counter()
        added = 0
        for position, (text, raw_label) in enumerate(zip(texts, labels, strict=True)):
            label = normalise_language(raw_label)
            if label in NOT_A_LANGUAGE:
                continue
            cleaned = clean_text(text)
            if not cleaned:
                continue
            weight = default_weight if weights is None else float(weights[position])
            if weight <= 0:
                continue
            c = class_index.get(label)
            if c is None:
                c = class_index[label] = len(classes)
                classes.append(label)
            grams = Counter(char_ngrams(cleaned, hyper.ngram_min, hyper.ngram_max))
            for gram, count in grams.items():
                j = index.get(gram)
                if j is None:
                    j = index[gram] = len(vocab)
                    vocab.append(gram)
                rows.append(c)
                cols.append(j)
                vals.append(count * weight)
            totals_add[c] += grams.total() * weight
            docs_add[c] += weight if prior_weight is None else prior_weight
            added += 1
        shape = (len(classes), len(vocab))
        old = self._counts.tocoo()
        counts = sparse.csr_matrix(
            (
                np.concatenate([old.data, np.asarray(vals, dtype=np.float64)]),
                (
                    np.concatenate([old.row, np.asarray(rows, dtype=np.int64)]),
                    np.concatenate([old.col, np.asarray(cols, dtype=np.int64)]),
                ),
            ),
            shape=shape,
        )
        counts.sum_duplicates()
        totals = np.concatenate([self._totals, np.zeros(len(classes) - len(self.classes_))])
        docs = np.concatenate([self._docs, np.zeros(len(classes) - len(self.classes_))])
        for c, value in totals_add.items():
            totals[c] += value
        for c, value in docs_add.items():
            docs[c] += value
        info = dict(self.info)
        info["n_in_domain_examples"] = int(info.get("n_in_domain_examples", 0)) + added
        return LanguageIdentifier(
            classes=classes,
            vocab=vocab,
            counts=counts,
            totals=totals,
            docs=docs,
            hyper=hyper,
            info=info,
        )

    def fit_incremental(
        self, texts: list[str], labels: list[str], *, weight: float | None = None
    ) -> LanguageIdentifier:
        """A new model: this model's counts plus the given labelled in-domain examples.

        Each example's n-grams count ``weight`` times (default ``hyper.in_domain_weight``:
        catalogue records are worth more than general text), and each example adds one to its
        label's prior pseudo-count, so the prior moves towards the catalogue's own language
        mix as examples accumulate. Labels are normalised to ISO 639-3
        (``UnknownLanguageError`` for unknown ones); labels the model does not know become new
        classes; ``und``/``mul``/``zxx`` labels and texts without letters are skipped. The
        calibration temperature is kept; call :meth:`calibrate` on held-out examples after.
        Does not change ``self``; call it on :meth:`base` to avoid counting examples twice.
        """
        chosen = self.hyper.in_domain_weight if weight is None else float(weight)
        if not chosen > 0:
            raise ValueError(f"weight must be positive, got {weight!r}")
        return self._add_examples(texts, labels, default_weight=chosen, prior_weight=1.0)

    # -- scoring ----------------------------------------------------------------------------------

    def _featurise(self, cleaned: Iterable[str]) -> sparse.csr_matrix:
        hyper = self.hyper
        get = self._index.get
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        for text in cleaned:
            for gram, count in Counter(char_ngrams(text, hyper.ngram_min, hyper.ngram_max)).items():
                j = get(gram)
                if j is not None:
                    indices.append(j)
                    data.append(count)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(indptr) - 1, len(self._vocab)),
        )

    def _scores(self, cleaned: Sequence[str]) -> Scores:
        features = self._featurise(cleaned)
        lengths = np.asarray(features.sum(axis=1)).ravel()
        loglik = (features @ self._weights).toarray()
        loglik += lengths[:, None] * self._class_offset[None, :]
        return Scores(loglik=loglik, lengths=lengths, log_prior=self._log_prior)

    def _logits(self, scores: Scores, temperature: float | None = None) -> np.ndarray:
        return scaled_logits(
            scores,
            temperature=self.hyper.temperature if temperature is None else temperature,
            prior_weight=self.hyper.prior_weight,
            length_exponent=self.hyper.length_exponent,
        )

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities over ``classes_``, one row per text; rows sum to 1.

        Rows for undetermined text (no letters) are uniform: the model has nothing to go on,
        and :meth:`predict_top_k` answers ``und`` for them.
        """
        return self._proba_cleaned([clean_text(text) for text in texts])

    def _proba_cleaned(self, cleaned: Sequence[str]) -> np.ndarray:
        n_classes = len(self.classes_)
        proba = np.full((len(cleaned), n_classes), 1.0 / max(n_classes, 1))
        determined = [i for i, text in enumerate(cleaned) if text]
        if determined and n_classes:
            scores = self._scores([cleaned[i] for i in determined])
            proba[determined] = softmax(self._logits(scores))
        return proba

    def predict_top_k(self, texts: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels per text, best first.

        Text without letters gets ``[("und", 1.0)]``: undetermined, not a model guess.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        cleaned = [clean_text(text) for text in texts]
        proba = self._proba_cleaned(cleaned)
        k = min(k, len(self.classes_))
        results: list[list[tuple[str, float]]] = []
        if k == 0:
            return [[(UNDETERMINED, 1.0)] for _ in cleaned]
        top = np.argpartition(-proba, k - 1, axis=1)[:, :k] if k < proba.shape[1] else None
        for row, text in enumerate(cleaned):
            if not text:
                results.append([(UNDETERMINED, 1.0)])
                continue
            candidates = top[row] if top is not None else np.arange(proba.shape[1])
            ordered = sorted(candidates, key=lambda c: (-proba[row, c], self.classes_[c]))
            results.append([(self.classes_[c], float(proba[row, c])) for c in ordered[:k]])
        return results

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """Best label and its probability per text (``("und", 1.0)`` when no letters)."""
        return [top[0] for top in self.predict_top_k(texts, k=1)]

    # -- calibration ------------------------------------------------------------------------------

    def calibration_scores(
        self, texts: Sequence[str], labels: Sequence[str]
    ) -> tuple[Scores, np.ndarray]:
        """Raw scores and target class indices of labelled texts the model can be scored on."""
        class_index = {label: i for i, label in enumerate(self.classes_)}
        kept_texts: list[str] = []
        targets: list[int] = []
        for text, raw_label in zip(texts, labels, strict=True):
            label = normalise_language(raw_label)
            cleaned = clean_text(text)
            if cleaned and label in class_index:
                kept_texts.append(cleaned)
                targets.append(class_index[label])
        if not kept_texts:
            raise ValueError("no labelled text with letters and a known label to calibrate on")
        return self._scores(kept_texts), np.asarray(targets)

    def calibrate(self, texts: list[str], labels: list[str]) -> LanguageIdentifier:
        """A copy with its temperature fitted on held-out labelled texts (never training text).

        Examples whose label is not one of ``classes_`` or whose text has no letters are left
        out. Raises ``ValueError`` when nothing is left.
        """
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        scores, targets = self.calibration_scores(texts, labels)
        temperature = fit_temperature(
            [(scores, targets)],
            prior_weight=self.hyper.prior_weight,
            length_exponent=self.hyper.length_exponent,
        )
        return self.with_temperature(temperature)

    # Hyperparameters that change how counts are scored, not the counts themselves.
    _SCORING = frozenset(
        {
            "alpha",
            "smoothing_vocab",
            "prior_weight",
            "length_exponent",
            "temperature",
            "in_domain_weight",
        }
    )

    def with_hyperparameters(self, **changes: float) -> LanguageIdentifier:
        """A copy that scores the same counts differently (for experiments and baselines)."""
        unknown = set(changes) - self._SCORING
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} without retraining")
        copy = self._copy()
        copy.hyper = replace(self.hyper, **changes)
        copy._prepare()
        return copy

    def with_temperature(self, temperature: float) -> LanguageIdentifier:
        if not temperature > 0:
            raise ValueError("temperature must be positive")
        copy = self._copy()
        copy.hyper = replace(self.hyper, temperature=float(temperature))
        return copy

    def _copy(self) -> LanguageIdentifier:
        copy = object.__new__(LanguageIdentifier)
        copy.__dict__.update(self.__dict__)
        copy.info = dict(self.info)
        return copy

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the model atomically as an npz (no pickles); returns the file's sha256 hex."""
        counts = self._counts.tocsr()
        counts.sort_indices()
        header = {"hyper": self.hyper.__dict__, "info": self.info}
        arrays = {
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "params": np.array(json.dumps(header, sort_keys=True)),
            "classes": np.array(self.classes_, dtype=str),
            "vocab": np.array(self._vocab, dtype=str),
            "counts_data": counts.data.astype(np.float32),
            "counts_indices": _delta_encode(counts.indices, counts.indptr),
            "counts_indptr": counts.indptr.astype(np.int64),
            "totals": self._totals,
            "docs": self._docs,
        }
        return write_npz_atomic(path, arrays)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, checksum: str | None = None
    ) -> LanguageIdentifier:
        """Read a model written by :meth:`save`; raises :class:`ArtefactError` with the reason."""
        arrays = read_npz(path, checksum=checksum)
        missing = [name for name in _REQUIRED_ARRAYS if name not in arrays]
        if missing:
            raise ArtefactError(f"Model file {path} lacks {', '.join(missing)}")
        try:
            version = int(arrays["format_version"])
        except (TypeError, ValueError) as exc:
            raise ArtefactError(f"Model file {path} has an unreadable format version") from exc
        if version != FORMAT_VERSION:
            raise ArtefactError(
                f"Model file {path} has format version {version}; this code reads version "
                f"{FORMAT_VERSION}: retrain the model"
            )
        try:
            header = json.loads(str(arrays["params"]))
            hyper = Hyperparameters(**header["hyper"])
            classes = [str(label) for label in arrays["classes"]]
            vocab = [str(gram) for gram in arrays["vocab"]]
            counts = sparse.csr_matrix(
                (
                    arrays["counts_data"].astype(np.float64),
                    _delta_decode(arrays["counts_indices"], arrays["counts_indptr"]),
                    arrays["counts_indptr"],
                ),
                shape=(len(classes), len(vocab)),
            )
            return cls(
                classes=classes,
                vocab=vocab,
                counts=counts,
                totals=arrays["totals"],
                docs=arrays["docs"],
                hyper=hyper,
                info=header.get("info", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(f"Model file {path} is inconsistent: {exc}") from exc

    def params(self) -> dict[str, Any]:
        """JSON-serialisable description of the model (for the model card and the database)."""
        return {
            "model": "multinomial naive Bayes over character n-gram count profiles",
            "format_version": FORMAT_VERSION,
            "ngram_range": [self.hyper.ngram_min, self.hyper.ngram_max],
            "word_boundaries": True,
            "max_chars": self.hyper.max_chars,
            "alpha": self.hyper.alpha,
            "smoothing_vocab": self.hyper.smoothing_vocab,
            "prior_weight": self.hyper.prior_weight,
            "length_exponent": self.hyper.length_exponent,
            "temperature": self.hyper.temperature,
            "in_domain_weight": self.hyper.in_domain_weight,
            "n_classes": len(self.classes_),
            "classes": list(self.classes_),
            "vocab_size": len(self._vocab),
            "n_profile_entries": int(self._counts.nnz),
            "n_in_domain_examples": int(self.info.get("n_in_domain_examples", 0)),
            "build": self.info.get("build", {}),
        }

    def known_ngram_share(self, texts: list[str]) -> list[float]:
        """Share of each text's n-grams that the model has seen (for input drift); 0 when none."""
        shares = []
        for text in texts:
            cleaned = clean_text(text)
            grams = char_ngrams(cleaned, self.hyper.ngram_min, self.hyper.ngram_max)
            known = sum(1 for gram in grams if gram in self._index)
            shares.append(known / len(grams) if grams else 0.0)
        return shares

    def __repr__(self) -> str:
        return (
            f"<LanguageIdentifier {len(self.classes_)} classes, {len(self._vocab)} n-grams, "
            f"T={self.hyper.temperature:.3g}>"
        )
