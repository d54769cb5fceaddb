"""A batch's k likeliest answers as arrays, for code that works on the whole batch at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TopK:
    """The ``k`` likeliest labels of each of ``n`` records, best first.

    Row ``i`` has ``width[i]`` answers (an abstention has one): ``labels[index[i, j]]`` with
    probability ``proba[i, j]`` for ``j < width[i]``; the cells after them are 0 and mean nothing.
    """

    labels: list[str]
    index: np.ndarray  # (n, k) int64
    proba: np.ndarray  # (n, k) float64
    width: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return len(self.width)

    def as_lists(self) -> list[list[tuple[str, float]]]:
        """Each record's answers as (label, probability) pairs, best first."""
        labels = self.labels
        return [
            [(labels[c], p) for c, p in zip(codes[:w], probs[:w], strict=True)]
            for codes, probs, w in zip(
                self.index.tolist(), self.proba.tolist(), self.width.tolist(), strict=True
            )
        ]

    @classmethod
    def from_lists(cls, rows: Sequence[Sequence[tuple[str, float]]]) -> TopK:
        """The arrays of answers given as lists (a model that answers in lists)."""
        labels: list[str] = []
        position: dict[str, int] = {}
        k = max((len(row) for row in rows), default=1)
        index = np.zeros((len(rows), k), dtype=np.int64)
        proba = np.zeros((len(rows), k), dtype=np.float64)
        for i, row in enumerate(rows):
            for j, (label, p) in enumerate(row):
                if label not in position:
                    position[label] = len(labels)
                    labels.append(label)
                index[i, j], proba[i, j] = position[label], p
        width = np.array([len(row) for row in rows], dtype=np.int64)
        return cls(labels=labels, index=index, proba=proba, width=width)


def top_k_columns(proba: np.ndarray, k: int) -> np.ndarray:
    """The columns of the ``k`` largest values of each row, largest first, ties by column.

    What ``np.argsort(-proba, axis=1, kind="stable")[:, :k]`` gives, without sorting every
    column of every row: the rows' ``k`` largest are found by a partition, and only rows where
    a tie reaches past the ``k``-th place are sorted whole (a partition does not order ties).
    """
    if k == 1:  # the best alone (predict()), no sort: argmax takes the first of ties too
        top: np.ndarray = proba.argmax(axis=1)[:, None]
        return top
    m = proba.shape[1]
    if k >= m or np.isnan(proba).any():
        return np.argsort(-proba, axis=1, kind="stable")[:, :k]
    negated = -proba
    part = np.argpartition(negated, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(negated, part, axis=1).max(axis=1)
    # A row whose k-th value is shared by more than k cells could keep the wrong tied ones.
    crowded = (negated <= kth[:, None]).sum(axis=1) > k
    values = np.take_along_axis(negated, part, axis=1)
    # Sort each row's k by value, then column: the stable argsort's order.
    order = np.lexsort((part, values), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    if crowded.any():
        top[crowded] = np.argsort(negated[crowded], axis=1, kind="stable")[:, :k]
    return top
