"""The naive Bayes log-likelihoods of a batch of texts, laid out for speed.

loglik(x, c) = sum_j x_j log((count_cj + a) / (total_c + a V))
             = x . log1p(count_c / a) + n(x) * (log a - log(total_c + a V)),
which keeps the big matrix sparse. N-grams most languages share ("e", "en") make most of the
work of scoring: they are scored as a small dense float32 block, the long tail sparsely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from glamml.ml.calibration import Scores
from glamml.ml.langid.features import KeyTable, ngram_keys

__all__ = ["ScoringTables"]

# An n-gram found in at least this many languages' profiles is scored from a dense block.
_DENSE_MIN_CLASSES = 20


class ScoringTables:
    """Weights of every known n-gram for every profile, split into a dense and a sparse part."""

    def __init__(
        self,
        keys: np.ndarray,
        counts: sparse.csr_matrix,
        totals: np.ndarray,
        docs: np.ndarray,
        *,
        alpha: float,
        smoothing_vocab: int,
        ngrams: tuple[int, int, bool],
    ) -> None:
        """``ngrams``: smallest and largest n-gram, and whether whole words count."""
        self._ngrams = ngrams
        self.n_classes = counts.shape[0]
        self.table = KeyTable(keys)
        log_counts = counts.copy()
        log_counts.data = np.log1p(log_counts.data / alpha)
        weights = log_counts.T.tocsr()
        shared = np.diff(weights.indptr) >= _DENSE_MIN_CLASSES
        # Shared n-grams are also most of a text's n-grams (four in five on catalogue titles): a
        # small table of their keys alone, which stays in the CPU cache, answers those, and
        # only the rest goes on to the big table of the whole vocabulary.
        self.dense_table = KeyTable(keys[shared])
        self.dense_weights = weights[np.flatnonzero(shared)].toarray().astype(np.float32)
        sparse_rows = weights.copy()
        sparse_rows.data[np.repeat(shared, np.diff(weights.indptr))] = 0.0
        sparse_rows.eliminate_zeros()
        self.sparse_weights = sparse_rows
        self.sparse_sizes = np.diff(sparse_rows.indptr)
        self.class_offset = math.log(alpha) - np.log(totals + alpha * smoothing_vocab)
        self.log_prior = np.log((docs + 1.0) / (docs + 1.0).sum())

    def keys_of(self, cleaned: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Every n-gram key of the cleaned texts, and the text each belongs to."""
        ngram_min, ngram_max, words = self._ngrams
        return ngram_keys(cleaned, ngram_min, ngram_max, words=words)

    def scores(self, cleaned: Sequence[str]) -> Scores:
        """Log-likelihood of each cleaned text (every one with letters) under each profile."""
        keys, owner = self.keys_of(cleaned)
        n_texts = len(cleaned)
        # Shared n-grams (row of the dense block), then the rest (column of the vocabulary).
        slot = self.dense_table.lookup(keys)
        dense = slot >= 0
        rest = np.flatnonzero(~dense)
        column = self.table.lookup(keys[rest])
        known = column >= 0
        tail_owner, column = owner[rest[known]], column[known]
        dense_owner, slot = owner[dense], slot[dense]
        lengths = (
            np.bincount(dense_owner, minlength=n_texts) + np.bincount(tail_owner, minlength=n_texts)
        ).astype(np.float64)
        loglik = np.zeros((n_texts, self.n_classes))
        if len(slot):
            loglik += self._dense_counts(dense_owner, slot, n_texts) @ self.dense_weights
        self._add_tail(loglik, tail_owner, column)
        loglik += lengths[:, None] * self.class_offset[None, :]
        return Scores(loglik=loglik, lengths=lengths, log_prior=self.log_prior)

    def _dense_counts(
        self, dense_owner: np.ndarray, slot: np.ndarray, n_texts: int
    ) -> sparse.csr_matrix:
        """One entry per text and shared n-gram with its count.

        A title repeats its common letters, and every entry costs a row of the block. Entries
        come sorted by text, then n-gram: the float32 sums of the product are then added up
        in the same order every time.
        """
        n_dense = len(self.dense_weights)
        codes = dense_owner * n_dense + slot
        if n_texts * n_dense < 2**31:
            codes = codes.astype(np.int32)  # sorts in half the time
        codes.sort()
        first = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
        repeats = np.diff(np.append(first, len(codes)))
        rows, cols = np.divmod(codes[first], n_dense)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_texts))])
        return sparse.csr_matrix(
            (repeats.astype(np.float32), cols, indptr), shape=(n_texts, n_dense)
        )

    def _add_tail(self, loglik: np.ndarray, tail_owner: np.ndarray, column: np.ndarray) -> None:
        """The long tail: each occurrence adds its n-gram's few non-zero weights."""
        n_texts, n_classes = loglik.shape
        weights = self.sparse_weights
        starts = weights.indptr[column]
        sizes = self.sparse_sizes[column]
        if sizes.sum():
            offsets = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
            # Row offsets are multiplied out before they are repeated, on the shorter array.
            cells = np.repeat(tail_owner * n_classes, sizes) + weights.indices[offsets]
            loglik += np.bincount(
                cells, weights=weights.data[offsets], minlength=n_texts * n_classes
            ).reshape(n_texts, n_classes)

    def known_share(self, cleaned: Sequence[str]) -> list[float]:
        """Share of each text's n-grams found in the vocabulary; 0 when it has none."""
        keys, owner = self.keys_of(cleaned)
        known = self.table.lookup(keys) >= 0
        total = np.bincount(owner, minlength=len(cleaned))
        hits = np.bincount(owner, weights=known, minlength=len(cleaned))
        return [float(h / t) if t else 0.0 for h, t in zip(hits, total, strict=True)]
