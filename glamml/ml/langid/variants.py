"""Script variants: a language may have several profiles, its own script and its romanisation.

``rus-Latn`` beside ``rus``: the part before the separator is the language a profile answers.
A language's profiles are one answer: each profile's likelihood counts by its share of the
language's prior, so probabilities are over languages (``labels``), not profiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["ROMANISED", "VARIANT_SEPARATOR", "VariantLayout", "variant_label"]

VARIANT_SEPARATOR = "-"
ROMANISED = "Latn"


def variant_label(profile: str) -> str:
    """The language a profile answers: ``rus-Latn`` → ``rus``, ``rus`` → ``rus``."""
    return profile.split(VARIANT_SEPARATOR, 1)[0]


class VariantLayout:
    """Which language each profile answers, and each profile's share of its language's prior."""

    def __init__(self, classes: Sequence[str], docs: np.ndarray) -> None:
        labels = list(dict.fromkeys(variant_label(name) for name in classes))
        self.labels: list[str] = labels
        self.has_variants = len(labels) < len(classes)
        index = {label: i for i, label in enumerate(labels)}
        self.label_of_class = np.array(
            [index[variant_label(name)] for name in classes], dtype=np.int64
        )
        docs = docs + 1.0
        label_docs = np.bincount(self.label_of_class, weights=docs, minlength=len(labels))
        self.log_variant_share = np.log(docs / label_docs[self.label_of_class])
        self.log_label_prior: np.ndarray = np.log(label_docs / max(label_docs.sum(), 1e-300))
        # Round r holds each language's r-th profile, so no language repeats within a round.
        rank = np.zeros(len(classes), dtype=np.int64)
        seen: dict[int, int] = {}
        for position, label in enumerate(self.label_of_class.tolist()):
            rank[position] = seen.get(label, 0)
            seen[label] = int(rank[position]) + 1
        self._rounds = [np.flatnonzero(rank == r) for r in range(int(rank.max(initial=-1)) + 1)]

    def fold(self, scaled: np.ndarray) -> np.ndarray:
        """Per-profile scaled log-likelihoods → per-language, profiles mixed by their share of
        their language's prior."""
        if not self.has_variants:
            return scaled
        weighted = scaled + self.log_variant_share[None, :]
        first, *later = self._rounds
        out = np.empty((scaled.shape[0], len(self.labels)))
        out[:, self.label_of_class[first]] = weighted[:, first]  # every language has one
        for members in later:
            targets = self.label_of_class[members]
            out[:, targets] = np.logaddexp(out[:, targets], weighted[:, members])
        return out
