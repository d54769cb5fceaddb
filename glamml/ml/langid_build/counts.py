"""Counting the profiles of a build: each language's own, its romanised one, and the prior."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
from scipy import sparse

from glamml.ml.langid import Hyperparameters, LanguageIdentifier
from glamml.ml.langid.profiles import Profiles
from glamml.ml.langid.variants import ROMANISED, VARIANT_SEPARATOR, variant_label
from glamml.ml.langid_build.data import FixedCounts
from glamml.ml.langid_build.texts import TrainingText

MIN_TRAIN_CHARS = 2000
TOP_N = 6000
TOP_N_ROMANISED = 3000
# Counts below this (an n-gram seen once, in text of weight 1) are dropped from every profile:
# on validation data (bench/langid_compact.py) the profiles without them score as well or
# better and the file is a third of the size (docs/langid.md, "File").
MIN_COUNT = 2.0
# Prior pseudo-counts: each language's catalogue titles, plus this many for every language, so
# that a language no catalogue here holds is not ruled out; rescaled to PRIOR_TOTAL.
PRIOR_FLOOR = 5.0
PRIOR_TOTAL = 1000.0
# Share of a romanised language's prior given to its romanised profile. Scripts do not compete
# (a Cyrillic title matches no Latin profile), so this only weighs "rus-Latn" against Latin-script
# languages; catalogues romanise nearly every such title, but imports may hold either.
ROMANISED_SHARE = 0.5


def class_name(label: str, romanised: bool) -> str:
    return f"{label}{VARIANT_SEPARATOR}{ROMANISED}" if romanised else label


def fixed_counts(texts: list[TrainingText], hyper: Hyperparameters) -> FixedCounts:
    fixed = [t for t in texts if t.fold < 0]
    chars: Counter[tuple[str, bool]] = Counter()
    for text in fixed:
        chars[(text.label, text.romanised)] += len(text.text)
    models = {}
    for romanised in (False, True):
        mine = [t for t in fixed if t.romanised == romanised]
        models[romanised] = LanguageIdentifier.from_examples(
            [t.text for t in mine],
            [t.label for t in mine],
            weights=[t.weight for t in mine],
            hyper=hyper,
        )
    return FixedCounts(models, chars)


def build_profiles(
    texts: list[TrainingText],
    fixed: FixedCounts,
    catalogue_counts: Counter[str],
    *,
    min_count: float = MIN_COUNT,
) -> LanguageIdentifier:
    """Count the profiles: each language's own, and its romanised one where it has one.

    ``texts`` are those beside the fixed ones (whose ``fold`` is not negative). Counts below
    ``min_count`` are dropped after each profile is cut to its most frequent n-grams.
    """
    chars = Counter(fixed.chars)
    variable = [t for t in texts if t.fold >= 0]
    for text in variable:
        chars[(text.label, text.romanised)] += len(text.text)
    parts = []
    for romanised, top_n in ((False, TOP_N), (True, TOP_N_ROMANISED)):
        mine = [t for t in variable if t.romanised == romanised]
        model = fixed.models[romanised]._add_examples(
            [t.text for t in mine], [t.label for t in mine], weights=[t.weight for t in mine]
        )
        keep = [i for i, c in enumerate(model.classes_) if chars[(c, romanised)] >= MIN_TRAIN_CHARS]
        kept = Profiles(
            classes=[model.classes_[i] for i in keep],
            keys=model._keys,
            counts=model._counts[keep],
            totals=model._totals[keep],
            docs=model._docs[keep],
        )
        model = LanguageIdentifier(kept.truncated(top_n), hyper=model.hyper)
        parts.append((model, romanised))
    merged = merge_profiles(parts)
    pruned = LanguageIdentifier(merged._profiles().pruned(min_count), hyper=merged.hyper)
    return with_prior(pruned, catalogue_counts)


def merge_profiles(parts: list[tuple[LanguageIdentifier, bool]]) -> LanguageIdentifier:
    """One model holding the classes of several, romanised ones renamed ``<label>-Latn``."""
    keys = np.unique(np.concatenate([model._keys for model, _ in parts]))
    blocks, classes, totals, docs = [], [], [], []
    for model, romanised in parts:
        columns = np.searchsorted(keys, model._keys)
        counts = model._counts.tocoo()
        blocks.append(
            sparse.csr_matrix(
                (counts.data, (counts.row, columns[counts.col])),
                shape=(len(model.classes_), len(keys)),
            )
        )
        classes += [class_name(label, romanised) for label in model.classes_]
        totals.append(model._totals)
        docs.append(model._docs)
    counts = sparse.vstack(blocks).tocsr()
    counts.sort_indices()
    merged = Profiles(
        classes=classes,
        keys=keys,
        counts=counts,
        totals=np.concatenate(totals),
        docs=np.concatenate(docs),
    )
    return LanguageIdentifier(merged, hyper=parts[0][0].hyper)


def with_prior(model: LanguageIdentifier, catalogue_counts: Counter[str]) -> LanguageIdentifier:
    """The class prior: catalogue titles per language plus a floor, split between variants."""
    labels = [variant_label(name) for name in model.classes_]
    variants = Counter(labels)
    docs = np.zeros(len(labels))
    for i, (name, label) in enumerate(zip(model.classes_, labels, strict=True)):
        share = 1.0
        if variants[label] > 1:
            share = ROMANISED_SHARE if name != label else 1.0 - ROMANISED_SHARE
        docs[i] = (catalogue_counts.get(label, 0) + PRIOR_FLOOR) * share
    docs *= PRIOR_TOTAL / docs.sum()
    profiles = replace(model._profiles(), docs=docs)
    return LanguageIdentifier(profiles, hyper=model.hyper, info=model.info)
