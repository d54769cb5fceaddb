"""The counts a language model is made of, and how labelled texts are added to them.

For each language: the weighted count of each n-gram key in its training text (a sparse matrix,
languages by vocabulary), the weighted number of n-grams it saw (its total, for the smoothing)
and its prior pseudo-count. Adding examples and truncating profiles keep the floating-point
additions in a fixed order, so a build from the same data gives the same bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from glamml.ml.langid.features import ngram_keys
from glamml.ml.languages import SPECIAL_CODES, normalise_language
from glamml.ml.text import clean_text

__all__ = ["Profiles", "UsableExamples", "sum_by_class_and_key"]

# Texts hashed at once when counting: bounds the memory of the key arrays.
_COUNT_CHUNK = 4000

Triples = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Profiles:
    """Per-language weighted n-gram counts: everything a language model learnt."""

    classes: list[str]
    keys: np.ndarray  # sorted, distinct n-gram keys (40-bit, see features): the columns
    counts: sparse.csr_matrix  # (classes, vocabulary) weighted counts
    totals: np.ndarray  # per class: weighted number of n-grams in its training text
    docs: np.ndarray  # per class: prior pseudo-count

    @classmethod
    def empty(cls) -> Profiles:
        return cls(
            classes=[],
            keys=np.zeros(0, dtype=np.uint64),
            counts=sparse.csr_matrix((0, 0)),
            totals=np.zeros(0),
            docs=np.zeros(0),
        )

    def with_examples(
        self, examples: UsableExamples, *, ngram_min: int, ngram_max: int, words: bool
    ) -> Profiles:
        """These counts plus the examples' n-grams, each counted with its example's weight."""
        n_new = len(examples.classes) - len(self.classes)
        parts, totals = _count_ngrams(
            examples.texts,
            np.asarray(examples.class_of, dtype=np.int64),
            np.asarray(examples.weight_of, dtype=np.float64),
            np.concatenate([self.totals, np.zeros(n_new)]),
            ngram_min=ngram_min,
            ngram_max=ngram_max,
            words=words,
        )
        counts, vocab = _merged(self, parts, len(examples.classes))
        docs = np.concatenate([self.docs, np.zeros(n_new)])
        for c, amount in examples.docs_add.items():
            docs[c] += amount
        return Profiles(
            classes=list(examples.classes), keys=vocab, counts=counts, totals=totals, docs=docs
        )

    def truncated(self, top_n: int) -> Profiles:
        """Each profile cut to its ``top_n`` most frequent n-grams; totals and priors kept."""
        counts = self.counts.tocsr()
        rows, cols, vals = [], [], []
        for c in range(counts.shape[0]):
            start, end = counts.indptr[c], counts.indptr[c + 1]
            data, idx = counts.data[start:end], counts.indices[start:end]
            if len(data) > top_n:
                # Stable order: by count, ties by key, so the build is deterministic.
                order = np.lexsort((self.keys[idx], -data))[:top_n]
                data, idx = data[order], idx[order]
            rows.append(np.full(len(idx), c))
            cols.append(idx)
            vals.append(data)
        row = np.concatenate(rows) if rows else np.zeros(0, int)
        col = np.concatenate(cols) if cols else np.zeros(0, int)
        val = np.concatenate(vals) if vals else np.zeros(0)
        kept = np.unique(col)  # sorted columns of sorted keys: the kept keys stay sorted
        remap = np.full(len(self.keys), -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        shape = (len(self.classes), len(kept))
        matrix = sparse.csr_matrix((val, (row, remap[col])), shape=shape)
        matrix.sort_indices()
        return Profiles(
            classes=self.classes,
            keys=self.keys[kept],
            counts=matrix,
            totals=self.totals,
            docs=self.docs,
        )

    def pruned(self, min_count: float, *, unshared_only: bool = False) -> Profiles:
        """Without the counts below ``min_count`` (with ``unshared_only``, only those of
        n-grams no other profile has); n-grams left in no profile leave the vocabulary.

        Totals and priors are kept, as :meth:`truncated` keeps them.
        """
        counts = self.counts.tocsr()
        drop = counts.data < min_count
        if unshared_only:
            profiles_per_key = np.bincount(counts.indices, minlength=counts.shape[1])
            drop &= profiles_per_key[counts.indices] == 1
        kept = counts.copy()
        kept.data[drop] = 0
        kept.eliminate_zeros()
        used = np.flatnonzero(np.bincount(kept.indices, minlength=counts.shape[1]))
        matrix = kept[:, used].tocsr()
        matrix.sort_indices()
        return Profiles(
            classes=self.classes,
            keys=self.keys[used],
            counts=matrix,
            totals=self.totals,
            docs=self.docs,
        )


class UsableExamples:
    """The examples of a batch worth counting, new labels given the next class indices."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self._index = {label: i for i, label in enumerate(self.classes)}
        self.texts: list[str] = []  # cleaned
        self.class_of: list[int] = []
        self.weight_of: list[float] = []
        self.docs_add: defaultdict[int, float] = defaultdict(float)

    def add(
        self,
        text: str,
        raw_label: str,
        weight: float,
        prior_weight: float | None,
        *,
        profile: str | None = None,
    ) -> None:
        """Keep the example unless its label is no language, it has no letters or no weight.

        Labels are normalised to ISO 639-3 (``UnknownLanguageError`` for an unknown one). The
        example adds ``prior_weight`` (default: its weight) to its label's prior pseudo-count.
        ``profile`` names the profile it counts for when not its label's own (``rus-Latn``).
        """
        label = normalise_language(raw_label)
        if label in SPECIAL_CODES:
            return
        label = profile or label
        cleaned = clean_text(text)
        if not cleaned or weight <= 0:
            return
        c = self._index.get(label)
        if c is None:
            c = self._index[label] = len(self.classes)
            self.classes.append(label)
        self.texts.append(cleaned)
        self.class_of.append(c)
        self.weight_of.append(weight)
        self.docs_add[c] += weight if prior_weight is None else prior_weight


def sum_by_class_and_key(
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


def _merged(
    profiles: Profiles, parts: list[Triples], n_classes: int
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """The old counts plus the new triples, as counts over the merged, sorted vocabulary.

    The old counts are already summed and sorted, so only the (small) new triples are sorted and
    then slotted into them: a base model's millions of counts are not sorted again at each
    training. Each sum adds the old count first, then the new ones in part order, exactly as
    :func:`sum_by_class_and_key` over everything concatenated would.
    """
    old = profiles.counts.tocsr()
    if not (old.nnz and old.has_canonical_format and old.data.dtype == np.float64):
        return _merged_by_sorting(profiles, parts, n_classes)
    if not parts:
        counts = old.copy()
        counts.resize((n_classes, old.shape[1]))
        return counts, profiles.keys
    new_row, new_key, new_value = (np.concatenate([part[i] for part in parts]) for i in range(3))
    order = np.lexsort((new_key, new_row))  # stable: equal pairs stay in part order
    new_row, new_key, new_value = new_row[order], new_key[order], new_value[order]
    starts = np.flatnonzero(
        np.concatenate([[True], (new_row[1:] != new_row[:-1]) | (new_key[1:] != new_key[:-1])])
    )
    pair_row, pair_key = new_row[starts], new_key[starts]
    # Where each new pair falls among the old counts of its class (by key: old rows are sorted).
    indptr = np.concatenate([old.indptr, np.full(n_classes - old.shape[0], old.indptr[-1])])
    old_key = profiles.keys[old.indices]
    pos = np.empty(len(pair_row), dtype=np.int64)
    for c in np.unique(pair_row):
        these = pair_row == c
        lo, hi = indptr[c], indptr[c + 1]
        pos[these] = lo + np.searchsorted(old_key[lo:hi], pair_key[these])
    found = (pos < indptr[pair_row + 1]) & (old_key[np.minimum(pos, len(old_key) - 1)] == pair_key)
    # Sum each pair's segment with its old count in front, where there is one.
    lengths = np.diff(np.append(starts, len(new_key))) + found
    seg_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    values = np.empty(int(lengths.sum()))
    is_new = np.ones(len(values), dtype=bool)
    is_new[seg_starts[found]] = False
    values[~is_new] = old.data[pos[found]]
    values[is_new] = new_value
    sums = np.add.reduceat(values, seg_starts)
    data = old.data.copy()
    data[pos[found]] = sums[found]
    # The vocabulary gains the new keys no class had; old columns shift past the inserted ones.
    vocab, shift = _vocabulary_with(profiles.keys, pair_key)
    indices = old.indices.astype(np.int64) + shift[old.indices]
    added = ~found
    slots = pos[added]
    data = np.insert(data, slots, sums[added])
    indices = np.insert(indices, slots, np.searchsorted(vocab, pair_key[added]))
    rows = np.insert(np.repeat(np.arange(n_classes), np.diff(indptr)), slots, pair_row[added])
    counts_per_row = np.bincount(rows, minlength=n_classes)
    new_indptr = np.concatenate([[0], np.cumsum(counts_per_row)])
    counts = sparse.csr_matrix((data, indices, new_indptr), shape=(n_classes, len(vocab)))
    counts.has_sorted_indices = True
    return counts, vocab


def _vocabulary_with(keys: np.ndarray, more: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``keys`` with the ``more`` keys they lack, and how far each old key moved."""
    candidates = np.unique(more)
    at = np.searchsorted(keys, candidates)
    unseen = candidates[(at == len(keys)) | (keys[np.minimum(at, len(keys) - 1)] != candidates)]
    inserted_at = np.searchsorted(keys, unseen)
    shift = np.cumsum(np.bincount(inserted_at, minlength=len(keys) + 1))[: len(keys)]
    return np.insert(keys, inserted_at, unseen), shift


def _merged_by_sorting(
    profiles: Profiles, parts: list[Triples], n_classes: int
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """:func:`_merged` for any old counts: everything concatenated, sorted and summed."""
    # The old counts first, then the new ones: the sums are added up in that order.
    old = profiles.counts.tocoo()
    parts = [(old.row.astype(np.int64), profiles.keys[old.col], old.data), *parts]
    row, key, value = sum_by_class_and_key(
        np.concatenate([part[0] for part in parts]),
        np.concatenate([part[1] for part in parts]),
        np.concatenate([part[2] for part in parts]),
    )
    vocab, col = np.unique(key, return_inverse=True)
    counts = sparse.csr_matrix((value, (row, col.ravel())), shape=(n_classes, len(vocab)))
    counts.sort_indices()
    return counts, vocab


def _count_ngrams(
    cleaned: Sequence[str],
    class_of: np.ndarray,
    weight_of: np.ndarray,
    totals: np.ndarray,
    *,
    ngram_min: int,
    ngram_max: int,
    words: bool,
) -> tuple[list[Triples], np.ndarray]:
    """Weighted n-gram counts of labelled cleaned texts, reduced chunk by chunk to bound memory.

    Returns the ``(class, key, weighted count)`` triples of each chunk, and a copy of ``totals``
    with each text's weighted number of n-grams added in text order.
    """
    totals = totals.copy()
    parts: list[Triples] = []
    for chunk in range(0, len(cleaned), _COUNT_CHUNK):
        keys, owner = ngram_keys(
            cleaned[chunk : chunk + _COUNT_CHUNK], ngram_min, ngram_max, words=words
        )
        owner += chunk
        np.add.at(totals, class_of[owner], weight_of[owner])
        parts.append(sum_by_class_and_key(class_of[owner], keys, weight_of[owner]))
    return parts, totals
