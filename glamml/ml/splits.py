"""How labelled records are divided: held-out splits and cross-fitting folds.

- :func:`frozen_split`: the held-out side of a field, decided by a stable hash of each key, so
  adding records never moves an old one (what the app and the experiments use).
- :func:`stratified_split`: a seeded random held-out part of one batch, at least one example of
  every label with two or more (for a batch with no frozen split).
- :func:`stratified_folds`: fold numbers for cross-fitting (scikit-learn's ``StratifiedKFold``).

The shipped data sets are split by source in :mod:`glamml.ml.corpora` with the same stable hash.
"""

from __future__ import annotations

import warnings
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from glamml.ml.hashing import stable_fraction

# scikit-learn is imported inside stratified_folds: importing it takes about a second, which
# every Django process would otherwise pay at start-up.

__all__ = ["frozen_split", "stratified_folds", "stratified_split"]


def _check_test_size(test_size: float) -> None:
    if not 0.0 < test_size < 1.0:
        raise ValueError("test_size must be between 0 and 1")


def frozen_split(
    keys: Sequence[str], labels: Sequence[str], *, test_size: float = 0.2, seed: int = 0
) -> set[str]:
    """The keys that go to the held-out side: stratified, and stable as examples are added.

    A key is held out when ``stable_fraction(f"{seed}:{key}")`` falls below ``test_size``: the
    decision depends on nothing else, so adding records never moves an old one, and each label
    is held out in proportion (in expectation; a label with few examples may have none held
    out). Two exceptions keep every label learnable: a label with a single example keeps it in
    train, and a label whose examples would all be held out keeps the one with the largest hash
    in train. Only those keys can change side later, when their label grows.
    """
    if len(keys) != len(labels):
        raise ValueError(f"got {len(keys)} keys but {len(labels)} labels")
    _check_test_size(test_size)
    if len(set(keys)) != len(keys):
        raise ValueError("keys must be unique")
    by_label: dict[str, list[tuple[float, str]]] = {}
    for key, label in zip(keys, labels, strict=True):
        by_label.setdefault(label, []).append((stable_fraction(f"{seed}:{key}"), key))
    held_out: set[str] = set()
    for members in by_label.values():
        if len(members) < 2:
            continue
        chosen = [key for fraction, key in members if fraction < test_size]
        if len(chosen) == len(members):
            chosen.remove(max(members)[1])
        held_out.update(chosen)
    return held_out


def stratified_split(
    labels: Sequence[str], *, test_size: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices of a stratified train/test split of one batch, deterministic for a seed.

    Each label with at least two examples puts ``round(n * test_size)`` of them, at least one
    and never all, in the test part; a label with a single example stays in train. Hand-written
    because scikit-learn's ``train_test_split`` guarantees neither: it refuses a test part
    smaller than the number of labels, which is the few-records case this split is for.
    """
    _check_test_size(test_size)
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        indices = by_label[label]
        if len(indices) < 2:
            train.extend(indices)
            continue
        shuffled = [indices[i] for i in rng.permutation(len(indices))]
        n_test = min(len(indices) - 1, max(1, round(len(indices) * test_size)))
        test.extend(shuffled[:n_test])
        train.extend(shuffled[n_test:])
    return sorted(train), sorted(test)


def stratified_folds(labels: Sequence[str], *, n_folds: int, seed: int) -> np.ndarray:
    """The fold (0 to k - 1) of each example for cross-fitting, each label spread over the folds.

    scikit-learn's shuffled ``StratifiedKFold``, with ``k = min(n_folds, len(labels))``. Labels
    with fewer examples than folds are expected (catalogues are imbalanced) and still spread
    out. When no label has ``k`` examples there is nothing to stratify, and the folds are
    plain shuffled ``KFold`` folds. Fewer than two examples make a single fold.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    k = min(n_folds, len(labels))
    fold = np.zeros(len(labels), dtype=int)
    if k < 2:
        return fold
    y = np.asarray(labels)
    stratify = max(Counter(labels).values()) >= k
    splitter = (
        StratifiedKFold(k, shuffle=True, random_state=seed)
        if stratify
        else KFold(k, shuffle=True, random_state=seed)
    )
    with warnings.catch_warnings():
        # "The least populated class in y has only 1 members": known, and handled by callers.
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for number, (_, inside) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
            fold[inside] = number
    return fold
