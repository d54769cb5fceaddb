"""Build the base language model from the shared data: one path for the shipped profiles and
for every model of the leave-one-source-out benchmark.

``build_base_model(data, exclude_sources=...)`` counts the profiles from the training texts of
every source not excluded, and fits every setting it has (temperature, length exponent, prior
weight, lapse, the evidence scale of abstention, the weight of each record field) on
predictions for records of *other sources than the model that scored them was built from*:
catalogue records are dealt into folds by institution, so the calibration is that of a
catalogue the model has not seen, which is what a new institution gets. Nothing here looks
at an excluded source or a held-out part.

The texts (see ``docs/langid.md``):

- the training parts of British Library and FinGreyLit titles, Tatoeba sentences and UDHR
  paragraphs (``glamml.ml.corpora``), as before;
- Ancient Greek and Latin sentences, fragments and titles (``classics``, CC BY-SA 4.0);
- catalogue-marc titles of the sources not left out: a romanised title (Latin script for a
  language written in another) counts for the language's romanised profile (``rus-Latn``),
  an original-script title for its own;
- romanised copies of the native-script UDHR, Tatoeba and Greek texts
  (``glamml.ml.romanise``), for the romanised profiles.

The package, by job: :mod:`.data` (what a build reads, romanisation), :mod:`.texts` (training
texts and calibration items with their folds), :mod:`.counts` (the profiles and the prior),
:mod:`.fit` (the settings fitted on out-of-fold scores); this module runs them in order.

It needs the build dependencies (``pip install -e ".[build]"``) and ``../shared``.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from glamml.ml.langid import Hyperparameters
from glamml.ml.langid_build.counts import (
    build_profiles,
    fixed_counts,
    merge_profiles,
    with_prior,
)
from glamml.ml.langid_build.data import (
    BuildData,
    FixedCounts,
    is_romanisable,
    read_build_data,
    romanised_forms,
    romaniser_for,
    write_cache,
)
from glamml.ml.langid_build.fit import (
    CORPUS_WEIGHTS,
    DEFAULT_WEIGHTING,
    WEIGHTINGS,
    ScoredPart,
    fit_field_weights,
    fit_title_settings,
    part_nll,
    sample_items,
    score_items,
    weigh_parts,
    weighted_nll,
)
from glamml.ml.langid_build.texts import FOLDS, CalibrationItem, TrainingText, gather
from glamml.ml.records import RecordLanguageModel, RecordSettings

__all__ = [
    "BuildData",
    "CalibrationItem",
    "FixedCounts",
    "ScoredPart",
    "TrainingText",
    "DEFAULT_WEIGHTING",
    "WEIGHTINGS",
    "build_base_model",
    "build_base_models",
    "fit_field_weights",
    "fit_title_settings",
    "fixed_counts",
    "gather",
    "is_romanisable",
    "merge_profiles",
    "part_nll",
    "read_build_data",
    "romaniser_for",
    "romanised_forms",
    "score_items",
    "weigh_parts",
    "weighted_nll",
    "with_prior",
    "write_cache",
]


def build_base_model(
    data: BuildData,
    *,
    exclude_sources: set[str] | frozenset[str] = frozenset(),
    exclude_languages: set[str] | frozenset[str] = frozenset(),
    weighting: str = DEFAULT_WEIGHTING,
    verbose: bool = True,
    log: Callable[[str], None] | None = None,
) -> RecordLanguageModel:
    """The base model from every source but ``exclude_sources`` (catalogue-marc source names),
    its settings fitted with the calibration items weighed by ``weighting`` (``WEIGHTINGS``).

    ``exclude_languages`` (ISO 639-3) builds a model that lacks those languages: no text of
    theirs from any corpus, no calibration item, no prior (``bench/simulate_review.py``).
    """
    models = build_base_models(
        data,
        exclude_sources=exclude_sources,
        exclude_languages=exclude_languages,
        weightings=(weighting,),
        verbose=verbose,
        log=log,
    )
    return models[weighting]


def build_base_models(
    data: BuildData,
    *,
    exclude_sources: set[str] | frozenset[str] = frozenset(),
    exclude_languages: set[str] | frozenset[str] = frozenset(),
    weightings: tuple[str, ...] = (DEFAULT_WEIGHTING,),
    verbose: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, RecordLanguageModel]:
    """One model per weighting of the calibration items, from the same profiles and the same
    out-of-fold scores (which are most of a build's time): only the fitted settings differ."""

    def say(message: str) -> None:
        if log is not None:
            log(message)
        elif verbose:
            sys.stderr.write(message + "\n")

    hyper = Hyperparameters()
    texts, items, catalogue_labels = gather(data, set(exclude_sources), exclude_languages)
    say(f"  {len(texts)} training texts, {len(items)} calibration items")
    items = sample_items(items)
    if exclude_languages:
        # The shared fixed counts hold every language's UDHR: this model must not.
        fixed = fixed_counts(texts, hyper)
    else:
        if data.fixed is None:
            data.fixed = fixed_counts(texts, hyper)
        fixed = data.fixed
    parts = _out_of_fold_parts(texts, items, catalogue_labels, fixed, say)
    counted = build_profiles(texts, fixed, Counter(label for label, _ in catalogue_labels))
    models = {}
    for weighting in weightings:
        weighed = weigh_parts(parts, weighting)
        settings = fit_title_settings(weighed)
        settings = fit_field_weights(weighed, settings)
        say(f"  fitted ({weighting}): {settings}")
        profiles = counted.with_hyperparameters(
            temperature=settings.temperature,
            length_exponent=settings.length_exponent,
            prior_weight=settings.prior_weight,
            lapse=settings.lapse,
        )
        profiles.info = {
            "records": settings.as_info(),
            "build": {
                "script": "scripts/build_langid_profiles.py",
                "sources": _source_summary(texts, data, exclude_sources),
                "excluded_sources": sorted(exclude_sources),
                "excluded_languages": sorted(exclude_languages),
                "calibration": _calibration_info(items, weighting),
            },
        }
        models[weighting] = RecordLanguageModel(profiles, settings)
    return models


def _out_of_fold_parts(
    texts: list[TrainingText],
    items: list[CalibrationItem],
    catalogue_labels: list[tuple[str, int]],
    fixed: FixedCounts,
    say: Callable[[str], None],
) -> list[ScoredPart]:
    """Each calibration item scored by profiles built without its fold."""
    parts: list[ScoredPart] = []
    for fold in range(FOLDS):
        inside = [t for t in texts if t.fold != fold]
        fold_counts = Counter(label for label, f in catalogue_labels if f != fold)
        profiles = build_profiles(inside, fixed, fold_counts)
        model = RecordLanguageModel(profiles, RecordSettings())
        parts += score_items(model, [item for item in items if item.fold == fold])
        say(f"  fold {fold + 1}/{FOLDS} scored")
    return parts


def _calibration_info(items: list[CalibrationItem], weighting: str) -> dict[str, Any]:
    return {
        "method": (
            "temperature, length exponent, prior weight, lapse and evidence scale, "
            "then field weights, fitted on out-of-fold scores; catalogue records "
            "dealt into folds by institution"
        ),
        "folds": FOLDS,
        "n": dict(Counter(item.corpus for item in items)),
        "corpus_weights": CORPUS_WEIGHTS,
        "weighting": weighting,
    }


def _source_summary(
    texts: list[TrainingText], data: BuildData, exclude: set[str] | frozenset[str]
) -> dict[str, Any]:
    counted = {r.source for r in data.catalogue if r.shippable and r.source not in exclude}
    return {
        "catalogue-marc": sorted(counted),
        "n_texts": len(texts),
        "n_romanised_texts": sum(t.romanised for t in texts),
    }
