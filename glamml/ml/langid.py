"""Language identification: a multinomial naive Bayes over character n-gram and word profiles.

The model is nothing but counts: for each language, how often each character n-gram (1-4
letters, with word-boundary markers) and each whole word occurred in its training text, weighted
by source. N-grams are kept as 64-bit hashes of their letters, extracted for a whole batch with
array arithmetic and looked up in an open-addressing table, which is what makes prediction fast.
That makes the model compact to ship (``data/langid_profiles.npz``, built by
``scripts/build_langid_profiles.py``), cheap to re-train (in-domain examples are added to the
counts, new labels become new rows) and easy to inspect. Naive Bayes scores are far too sure of
themselves because overlapping n-grams are not independent, so probabilities come from a
calibration fitted on held-out labelled text: ``softmax(loglik / (T * n**g) + b * log prior)``,
where ``n`` is the number of known n-grams in the text, mixed with a small share (the lapse) of
the uniform distribution, since a catalogue's language is now and then not the title's.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Sequence
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
from glamml.ml.calibration import Scores, fit_temperature, scaled_logits, softmax, with_lapse
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
FORMAT_VERSION = 2  # 2: n-grams stored as 64-bit keys (1: as strings)

# ISO 639 special codes that are not a language a text can be recognised as.
NOT_A_LANGUAGE = frozenset({"und", "mul", "mis", "zxx"})

_DATA_DIR = Path(__file__).resolve().parent / "data"
BASE_MODEL_PATH = _DATA_DIR / "langid_profiles.npz"
BASE_MODEL_CHECKSUM_PATH = _DATA_DIR / "langid_profiles.npz.sha256"

_REQUIRED_ARRAYS = (
    "format_version",
    "params",
    "classes",
    "vocab_keys",
    "counts_data",
    "counts_indices",
    "counts_indptr",
    "totals",
    "docs",
)


def char_ngrams(cleaned: str, ngram_min: int, ngram_max: int) -> list[str]:
    """Character n-grams of a cleaned text, words padded with a space on each side.

    Unigrams are the letters alone (a lone space says nothing about the language). The model
    works on their hashes (:func:`ngram_keys`); this spelled-out form is for inspection.
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


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_ONE = np.uint64(1)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every bit of the key depends on every code point of the n-gram."""
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX_1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX_2
    h = h ^ (h >> np.uint64(31))
    return h | _ONE  # 0 marks an empty slot in the lookup table


def ngram_keys(
    cleaned: Sequence[str], ngram_min: int, ngram_max: int, *, words: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """64-bit keys of the n-grams :func:`char_ngrams` spells out, for a batch of cleaned texts.

    Returns ``(keys, text_index)``, one entry per n-gram occurrence. Done with array arithmetic
    over the whole batch rather than a Python loop per n-gram: this is where prediction time
    goes. The texts are joined as `` text1 <NUL> text2 ...``; an n-gram is a window that crosses
    no text boundary and holds no space except at its ends (so it stays inside one padded word).
    """
    if not cleaned:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, np.zeros(0, dtype=np.int64)
    joined = "\0".join([f" {text} " for text in cleaned])
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(text) for text in cleaned], dtype=np.int64) + 3
    text_of = np.repeat(np.arange(len(cleaned), dtype=np.int64), lengths)[: len(points)]
    boundary = points == 0
    space = points == 32
    boundaries = np.concatenate([[0], np.cumsum(boundary)])
    spaces = np.concatenate([[0], np.cumsum(space)])
    size = len(points)
    keys: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    for n in range(max(ngram_min, 1), ngram_max + 1):
        windows = size - n + 1
        if windows <= 0:
            break
        if n == 1:
            inside = np.flatnonzero(~(boundary | space))
        else:
            # Window i spans points[i : i + n]; shifted slices compare all windows at once.
            inside = np.flatnonzero(
                (boundaries[n : n + windows] == boundaries[:windows])
                & (spaces[n - 1 : n - 1 + windows] == spaces[1 : 1 + windows])
            )
        h = np.full(len(inside), np.uint64(n))
        for k in range(n):
            h = h * _MULTIPLIER + points[inside + k]
        keys.append(_mix(h))
        owners.append(text_of[inside])
    if words:
        key, owner = _word_keys(points, boundary | space, text_of)
        keys.append(key)
        owners.append(owner)
    return np.concatenate(keys), np.concatenate(owners)


# Whole words are hashed on their first letters (and their full length); longer words are rare
# and their n-grams say enough.
_WORD_PREFIX = 24
_WORD_TAG = np.uint64(1 << 20)


def _word_keys(
    points: np.ndarray, gap: np.ndarray, text_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One key per word (a run between spaces), distinct from every n-gram key."""
    edges = np.diff(np.concatenate([[1], gap.view(np.int8), [1]]))
    starts = np.flatnonzero(edges == -1)
    lengths = np.flatnonzero(edges == 1) - starts
    # Longest words first: the words that still have a k-th letter are then a prefix, and each
    # round hashes only them.
    order = np.argsort(-lengths, kind="stable")
    starts_by_length, lengths_by_length = starts[order], lengths[order]
    longer_than = np.searchsorted(-lengths_by_length, -np.arange(_WORD_PREFIX), side="left")
    h = _WORD_TAG + lengths_by_length.astype(np.uint64)
    for k in range(min(_WORD_PREFIX, int(lengths.max(initial=0)))):
        m = longer_than[k]
        h[:m] = h[:m] * _MULTIPLIER + points[starts_by_length[:m] + k]
    keys = np.empty_like(h)
    keys[order] = h
    return _mix(keys), text_of[starts]


def word_key(word: str) -> int:
    """The key :func:`ngram_keys` gives a whole word."""
    h = np.full(1, _WORD_TAG + np.uint64(len(word)))
    for char in word[:_WORD_PREFIX]:
        h = h * _MULTIPLIER + np.uint64(ord(char))
    return int(_mix(h)[0])


def ngram_key(gram: str) -> int:
    """The key :func:`ngram_keys` gives one n-gram (a space marks a word boundary)."""
    h = np.full(1, np.uint64(len(gram)))
    for char in gram:
        h = h * _MULTIPLIER + np.uint64(ord(char))
    return int(_mix(h)[0])


class _KeyTable:
    """Open-addressing hash table from n-gram key to vocabulary column, looked up in batches.

    A sorted-array search over half a million keys costs more than the rest of prediction
    together; one or two vectorised probes into a table four times the vocabulary do not.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray | None = None) -> None:
        """``values[i]`` is what ``keys[i]`` looks up (default: ``i``, its vocabulary column)."""
        values = np.arange(len(keys)) if values is None else np.asarray(values)
        bits = max(8, int(math.ceil(math.log2(max(len(keys), 1) * 4))))
        self._mask = np.uint64((1 << bits) - 1)
        self._shift = np.uint64(64 - bits)
        self._keys = np.zeros(1 << bits, dtype=np.uint64)
        self._values = np.full(1 << bits, -1, dtype=np.int32)
        pending = np.arange(len(keys))
        home = keys >> self._shift
        step = 0
        while len(pending):
            slots = (home[pending] + np.uint64(step)) & self._mask
            free = self._keys[slots] == 0
            candidates, slots = pending[free], slots[free]
            # One key per free slot this round; the rest probe on.
            _, first = np.unique(slots, return_index=True)
            self._keys[slots[first]] = keys[candidates[first]]
            self._values[slots[first]] = values[candidates[first]]
            placed = np.zeros(len(keys), dtype=bool)
            placed[candidates[first]] = True
            pending = pending[~placed[pending]]
            step += 1
        self.max_probe = step

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Value (column) of each key as int32, -1 for keys not in the table."""
        if not self.max_probe:
            return np.full(len(keys), -1, dtype=np.int32)
        # The first probe, over every key, settles nearly all of them: it is written without
        # the index bookkeeping of the later rounds, which only follow the few keys left.
        slots = keys >> self._shift
        found = self._keys[slots]
        miss = found != keys
        result = self._values[slots]
        result[miss] = -1
        # Stop at a hit or an empty slot; probe on past other keys.
        pending = np.flatnonzero(miss & (found != 0))
        slots = (slots[pending] + _ONE) & self._mask
        for _ in range(self.max_probe - 1):
            if not len(pending):
                break
            found = self._keys[slots]
            hit = found == keys[pending]
            result[pending[hit]] = self._values[slots[hit]]
            again = ~hit & (found != 0)
            pending = pending[again]
            slots = (slots[again] + _ONE) & self._mask
        return result


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen on development data carved out of the training parts (see docs/langid.md)."""

    ngram_min: int = 1
    ngram_max: int = 4
    word_features: bool = True  # whole words count as features beside their n-grams
    alpha: float = 0.1  # additive smoothing per n-gram, in (weighted) counts
    smoothing_vocab: int = 100_000  # vocabulary size assumed by the smoothing denominator
    prior_weight: float = 1.5  # b: how much the class prior counts after the temperature
    length_exponent: float = 0.5  # g: the temperature grows with text length as n**g
    temperature: float = 1.0  # T, fitted by calibrate()
    lapse: float = 0.0  # share of the uniform distribution mixed in (see calibration.with_lapse)
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


_TRAIN_CHUNK = 4000
# An n-gram found in at least this many languages' profiles is scored from a dense block.
_DENSE_MIN_CLASSES = 20
# Texts scored at once by predict_top_k: bounds the memory of the score matrix.
_PREDICT_CHUNK = 4000


def _sum_by_class_and_key(
    classes: np.ndarray, keys: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``values`` over equal ``(class, key)`` pairs; pairs come back sorted."""
    if not len(keys):
        return classes, keys, values
    order = np.lexsort((keys, classes))
    classes, keys, values = classes[order], keys[order], values[order]
    starts = np.flatnonzero(
        np.concatenate([[True], (classes[1:] != classes[:-1]) | (keys[1:] != keys[:-1])])
    )
    return classes[starts], keys[starts], np.add.reduceat(values, starts)


class LanguageIdentifier:
    """Per-language character n-gram counts scored as multinomial naive Bayes, calibrated."""

    def __init__(
        self,
        *,
        classes: Sequence[str],
        keys: np.ndarray,
        counts: sparse.csr_matrix,
        totals: np.ndarray,
        docs: np.ndarray,
        hyper: Hyperparameters | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.classes_: list[str] = list(classes)
        self._keys = np.asarray(keys, dtype=np.uint64)
        if len(self._keys) > 1 and not np.all(self._keys[1:] > self._keys[:-1]):
            raise ValueError("n-gram keys must be sorted and distinct")
        self._table = _KeyTable(self._keys)
        counts = sparse.csr_matrix(counts, dtype=np.float64)
        n_classes, n_vocab = len(self.classes_), len(self._keys)
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
        weights = log_counts.T.tocsr()
        # N-grams most languages share ("e", "en") make most of the work of scoring: they are
        # scored as a small dense float32 block, the long tail sparsely (see _loglik).
        shared = np.diff(weights.indptr) >= _DENSE_MIN_CLASSES
        # They are also most of a text's n-grams (four in five on catalogue titles): a small
        # table of their keys alone, which stays in the CPU cache, answers those, and only the
        # rest goes on to the big table of the whole vocabulary.
        self._dense_table = _KeyTable(self._keys[shared])
        self._dense_weights = weights[np.flatnonzero(shared)].toarray().astype(np.float32)
        sparse_rows = weights.copy()
        sparse_rows.data[np.repeat(shared, np.diff(weights.indptr))] = 0.0
        sparse_rows.eliminate_zeros()
        self._sparse_weights = sparse_rows
        self._sparse_sizes = np.diff(sparse_rows.indptr)
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
            keys=np.zeros(0, dtype=np.uint64),
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
                # Stable order: by count, ties by key, so the build is deterministic.
                order = np.lexsort((self._keys[idx], -data))[:top_n]
                data, idx = data[order], idx[order]
            rows.append(np.full(len(idx), c))
            cols.append(idx)
            vals.append(data)
        row = np.concatenate(rows) if rows else np.zeros(0, int)
        col = np.concatenate(cols) if cols else np.zeros(0, int)
        val = np.concatenate(vals) if vals else np.zeros(0)
        kept = np.unique(col)  # sorted columns of sorted keys: the kept keys stay sorted
        remap = np.full(len(self._keys), -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        matrix = sparse.csr_matrix((val, (row, remap[col])), shape=(len(self.classes_), len(kept)))
        matrix.sort_indices()
        return LanguageIdentifier(
            classes=self.classes_,
            keys=self._keys[kept],
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
        classes = list(self.classes_)
        class_index = {label: i for i, label in enumerate(classes)}
        kept_texts: list[str] = []
        kept_classes: list[int] = []
        kept_weights: list[float] = []
        docs_add: Counter[int] = Counter()
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
            kept_texts.append(cleaned)
            kept_classes.append(c)
            kept_weights.append(weight)
            docs_add[c] += weight if prior_weight is None else prior_weight
        # (class, key, weighted count) triples, reduced chunk by chunk to bound memory.
        old = self._counts.tocoo()
        part_classes = [old.row.astype(np.int64)]
        part_keys = [self._keys[old.col]]
        part_values = [old.data]
        totals = np.concatenate([self._totals, np.zeros(len(classes) - len(self.classes_))])
        class_of = np.asarray(kept_classes, dtype=np.int64)
        weight_of = np.asarray(kept_weights, dtype=np.float64)
        for chunk in range(0, len(kept_texts), _TRAIN_CHUNK):
            keys, owner = ngram_keys(
                kept_texts[chunk : chunk + _TRAIN_CHUNK],
                hyper.ngram_min,
                hyper.ngram_max,
                words=hyper.word_features,
            )
            owner += chunk
            np.add.at(totals, class_of[owner], weight_of[owner])
            reduced = _sum_by_class_and_key(class_of[owner], keys, weight_of[owner])
            part_classes.append(reduced[0])
            part_keys.append(reduced[1])
            part_values.append(reduced[2])
        row, key, value = _sum_by_class_and_key(
            np.concatenate(part_classes), np.concatenate(part_keys), np.concatenate(part_values)
        )
        vocab, col = np.unique(key, return_inverse=True)
        counts = sparse.csr_matrix((value, (row, col.ravel())), shape=(len(classes), len(vocab)))
        counts.sort_indices()
        docs = np.concatenate([self._docs, np.zeros(len(classes) - len(self.classes_))])
        for c, amount in docs_add.items():
            docs[c] += amount
        info = dict(self.info)
        info["n_in_domain_examples"] = int(info.get("n_in_domain_examples", 0)) + len(kept_texts)
        return LanguageIdentifier(
            classes=classes,
            keys=vocab,
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

    def _scores(self, cleaned: Sequence[str]) -> Scores:
        keys, owner = ngram_keys(
            cleaned, self.hyper.ngram_min, self.hyper.ngram_max, words=self.hyper.word_features
        )
        n_texts, n_classes = len(cleaned), len(self.classes_)
        n_dense = len(self._dense_weights)
        # Shared n-grams (row of the dense block), then the rest (column of the vocabulary).
        slot = self._dense_table.lookup(keys)
        dense = slot >= 0
        rest = np.flatnonzero(~dense)
        column = self._table.lookup(keys[rest])
        known = column >= 0
        tail_owner, column = owner[rest[known]], column[known]
        dense_owner, slot = owner[dense], slot[dense]
        lengths = (
            np.bincount(dense_owner, minlength=n_texts) + np.bincount(tail_owner, minlength=n_texts)
        ).astype(np.float64)
        loglik = np.zeros((n_texts, n_classes))
        if len(slot):
            # One entry per text and n-gram with its count: a title repeats its common letters,
            # and every entry costs a row of the block. Entries come sorted by text, then
            # n-gram: the float32 sums below are then added up in the same order every time.
            codes = dense_owner * n_dense + slot
            if n_texts * n_dense < 2**31:
                codes = codes.astype(np.int32)  # sorts in half the time
            codes.sort()
            first = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
            repeats = np.diff(np.append(first, len(codes)))
            rows, cols = np.divmod(codes[first], n_dense)
            indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_texts))])
            counts = sparse.csr_matrix(
                (repeats.astype(np.float32), cols, indptr), shape=(n_texts, n_dense)
            )
            loglik += counts @ self._dense_weights
        # The long tail: each occurrence adds its n-gram's few non-zero weights.
        weights = self._sparse_weights
        starts = weights.indptr[column]
        sizes = self._sparse_sizes[column]
        if sizes.sum():
            offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            # Row offsets are multiplied out before they are repeated, on the shorter array.
            cells = np.repeat(tail_owner * n_classes, sizes) + weights.indices[offsets]
            loglik += np.bincount(
                cells, weights=weights.data[offsets], minlength=n_texts * n_classes
            ).reshape(n_texts, n_classes)
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
        determined = [i for i, text in enumerate(cleaned) if text]
        if n_classes and determined and len(determined) == len(cleaned):
            # The usual batch, every text with letters: no uniform rows to fill in around it.
            return with_lapse(softmax(self._logits(self._scores(cleaned))), self.hyper.lapse)
        proba = np.full((len(cleaned), n_classes), 1.0 / max(n_classes, 1))
        if determined and n_classes:
            scores = self._scores([cleaned[i] for i in determined])
            proba[determined] = with_lapse(softmax(self._logits(scores)), self.hyper.lapse)
        return proba

    def predict_top_k(self, texts: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels per text, best first.

        Text without letters gets ``[("und", 1.0)]``: undetermined, not a model guess.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        results: list[list[tuple[str, float]]] = []
        for start in range(0, len(texts), _PREDICT_CHUNK):
            results += self._top_k(texts[start : start + _PREDICT_CHUNK], k)
        return results

    def _top_k(self, texts: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        cleaned = [clean_text(text) for text in texts]
        proba = self._proba_cleaned(cleaned)
        k = min(k, len(self.classes_))
        results: list[list[tuple[str, float]]] = []
        if k == 0:
            return [[(UNDETERMINED, 1.0)] for _ in cleaned]
        if k == 1:  # predict(): the best label alone, no partition or sort
            best = proba.argmax(axis=1)
            confidence = proba[np.arange(len(cleaned)), best].tolist()
            classes = self.classes_
            return [
                [(classes[b], c)] if text else [(UNDETERMINED, 1.0)]
                for b, c, text in zip(best.tolist(), confidence, cleaned, strict=True)
            ]
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
            lapse=self.hyper.lapse,
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
            "lapse",
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
            "vocab_keys": self._keys,
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
            keys = np.asarray(arrays["vocab_keys"], dtype=np.uint64)
            counts = sparse.csr_matrix(
                (
                    arrays["counts_data"].astype(np.float64),
                    _delta_decode(arrays["counts_indices"], arrays["counts_indptr"]),
                    arrays["counts_indptr"],
                ),
                shape=(len(classes), len(keys)),
            )
            return cls(
                classes=classes,
                keys=keys,
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
            "word_features": self.hyper.word_features,
            "word_boundaries": True,
            "max_chars": self.hyper.max_chars,
            "alpha": self.hyper.alpha,
            "smoothing_vocab": self.hyper.smoothing_vocab,
            "prior_weight": self.hyper.prior_weight,
            "length_exponent": self.hyper.length_exponent,
            "temperature": self.hyper.temperature,
            "lapse": self.hyper.lapse,
            "in_domain_weight": self.hyper.in_domain_weight,
            "n_classes": len(self.classes_),
            "classes": list(self.classes_),
            "vocab_size": len(self._keys),
            "n_profile_entries": int(self._counts.nnz),
            "n_in_domain_examples": int(self.info.get("n_in_domain_examples", 0)),
            "build": self.info.get("build", {}),
        }

    def known_ngram_share(self, texts: list[str]) -> list[float]:
        """Share of each text's n-grams that the model has seen (for input drift); 0 when none."""
        cleaned = [clean_text(text) for text in texts]
        keys, owner = ngram_keys(
            cleaned, self.hyper.ngram_min, self.hyper.ngram_max, words=self.hyper.word_features
        )
        known = self._table.lookup(keys) >= 0
        total = np.bincount(owner, minlength=len(cleaned))
        hits = np.bincount(owner, weights=known, minlength=len(cleaned))
        return [float(h / t) if t else 0.0 for h, t in zip(hits, total, strict=True)]

    def __repr__(self) -> str:
        return (
            f"<LanguageIdentifier {len(self.classes_)} classes, {len(self._keys)} n-grams, "
            f"T={self.hyper.temperature:.3g}>"
        )
