"""Fitting a build's settings on out-of-fold scores: temperature, length exponent, prior
weight, lapse, evidence scale, then the weight of each record field."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from glamml.ml.calibration import LOG_T_BOUNDS
from glamml.ml.hashing import stable_fraction
from glamml.ml.langid.variants import VARIANT_SEPARATOR
from glamml.ml.langid_build.texts import CalibrationItem
from glamml.ml.records import RECORD_FIELDS, RecordLanguageModel, RecordSettings

# scipy.optimize is imported inside the fitting functions: importing it takes about 0.4 s, which
# every Django process (the app imports this module for retraining) would otherwise pay.

# Out-of-fold texts scored per calibration corpus at most, drawn by hash (this bounds the time
# the fit takes: every trial scores every item against every language).
CALIBRATION_SAMPLE = {"catalogue": 3000, "tatoeba": 1000, "classics": 1000, "fragments": 1000}
# How much each corpus counts in the fitted log loss: catalogue titles first.
CORPUS_WEIGHTS = {"catalogue": 2.0, "tatoeba": 1.0, "classics": 1.0, "fragments": 1.0}
# Within a corpus, what counts the same in the fitted log loss: each item ("records"), or each
# institution, its items sharing its weight ("institutions"), so that one large catalogue does
# not decide how far a title from any other can be trusted. See weigh_parts.
WEIGHTINGS = ("records", "institutions")
DEFAULT_WEIGHTING = "records"
# Texts scored at once by score_items, and items whose logits part_nll holds at once: bounds
# the memory of a retraining's calibration (100,000 examples would otherwise make arrays of
# 100,000 by every language, several at a time).
SCORE_CHUNK = 4000


@dataclass
class ScoredPart:
    """Out-of-fold scores of one corpus under one fold's model, laid out for fast fitting.

    Every language is kept (calibrated distributions are flat enough that the hundreds of
    unlikely languages hold a share of the probability that matters to the fit: the 40 or 120
    likeliest alone gave a log loss 10% or 5% off). Each field's log-likelihoods are split into
    the languages' own-script profiles and the romanised ones, which the fit mixes as
    :meth:`RecordLanguageModel.fold_variants` does.
    """

    corpus: str
    targets: np.ndarray  # (n,) label index
    log_prior: np.ndarray  # (L,)
    native_share: np.ndarray  # (L,) log share of the own-script profile; -inf where none
    roman_labels: np.ndarray  # (V,) languages with a romanised profile
    roman_share: np.ndarray  # (V,)
    fields: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # native, romanised, lengths
    units: np.ndarray | None = None  # (n,) each item's institution ("" for none)
    weights: np.ndarray | None = None  # (n,) each item's weight in the loss; None: 1 each


def score_items(model: RecordLanguageModel, items: list[CalibrationItem]) -> list[ScoredPart]:
    parts = []
    index = {label: i for i, label in enumerate(model.labels_)}
    by_corpus: dict[str, list[CalibrationItem]] = defaultdict(list)
    for item in items:
        if item.label in index:
            by_corpus[item.corpus].append(item)
    n_labels = len(model.labels_)
    classes = model.identifier.classes_
    roman = np.array([i for i, name in enumerate(classes) if VARIANT_SEPARATOR in name], int)
    native = np.array([i for i, name in enumerate(classes) if VARIANT_SEPARATOR not in name], int)
    # The identifier's own layout of profiles and languages (what fold_variants uses).
    label_of_class = model.identifier.variants.label_of_class
    variant_share = model.identifier.variants.log_variant_share
    native_labels = label_of_class[native]
    native_share = np.full(n_labels, -np.inf)
    native_share[native_labels] = variant_share[native]
    for corpus, mine in sorted(by_corpus.items()):
        fields = {}
        for name in RECORD_FIELDS:
            texts = [item.fields.get(name, "") for item in mine]
            if name != "title" and not any(texts):
                continue
            # float64: the optimiser's finite differences vanish in float32 rounding.
            own = np.zeros((len(mine), n_labels))
            romanised = np.zeros((len(mine), len(roman)))
            lengths = np.zeros(len(mine))
            # A chunk of texts at a time: each text's n-gram keys and its scores over every
            # profile are many times its row here. A row's scores do not depend on the chunk.
            for start in range(0, len(texts), SCORE_CHUNK):
                rows = slice(start, start + SCORE_CHUNK)
                scores = model.raw_scores(texts[rows])
                own[rows, native_labels] = scores.loglik[:, native]
                romanised[rows] = scores.loglik[:, roman]
                lengths[rows] = scores.lengths
            fields[name] = (own, romanised, lengths)
        parts.append(
            ScoredPart(
                corpus=corpus,
                targets=np.array([index[item.label] for item in mine]),
                log_prior=model._log_prior,
                native_share=native_share,
                roman_labels=label_of_class[roman],
                roman_share=variant_share[roman],
                fields=fields,
                units=np.array([item.unit for item in mine], dtype=object),
            )
        )
    return parts


def weigh_parts(parts: list[ScoredPart], weighting: str) -> list[ScoredPart]:
    """``parts`` with each item's weight in the loss for ``weighting`` (see ``WEIGHTINGS``).

    "institutions": within each corpus, every institution's items add up to the same weight
    (the corpus's total weight, its number of items, is kept). Items of no institution form
    one unit of their own, so a corpus without institutions keeps a weight of 1 per item.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; expected one of {WEIGHTINGS}")
    if weighting == "records":
        return [replace(part, weights=None) for part in parts]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for part in parts:
        counts[part.corpus].update(_units(part))
    weighted = []
    for part in parts:
        mine = counts[part.corpus]
        total, n_units = sum(mine.values()), len(mine)
        weights = np.array([total / (n_units * mine[unit]) for unit in _units(part)])
        weighted.append(replace(part, weights=weights))
    return weighted


def _units(part: ScoredPart) -> list[str]:
    return [""] * len(part.targets) if part.units is None else list(part.units)


def _weights(part: ScoredPart) -> np.ndarray:
    return np.ones(len(part.targets)) if part.weights is None else part.weights


def part_nll(part: ScoredPart, settings: RecordSettings, field_names: tuple[str, ...]) -> float:
    """Summed negative log-likelihood of the targets, as RecordLanguageModel.combine scores,
    each item counting by its weight (see ``weigh_parts``).

    Each item's probability is worked out :data:`SCORE_CHUNK` items at a time (a row's
    arithmetic does not depend on the others), then summed at once as a whole part.
    """
    n = len(part.targets)
    p = np.empty(n)
    for start in range(0, n, SCORE_CHUNK):
        rows = slice(start, start + SCORE_CHUNK)
        logits, evidence = _part_logits(part, settings, field_names, rows)
        targets = part.targets[rows]
        log_p = logits[np.arange(len(targets)), targets] - np.log(np.exp(logits).sum(axis=1))
        lapse = RecordLanguageModel._lapse(evidence, settings)
        p[rows] = np.exp(log_p) * (1.0 - lapse) + lapse / len(part.log_prior)
    return float(-(_weights(part) * np.log(np.maximum(p, 1e-12))).sum())


def part_probabilities(
    part: ScoredPart, settings: RecordSettings, field_names: tuple[str, ...]
) -> np.ndarray:
    """Each item's probability for every language (``part_nll``'s, for all labels)."""
    logits, evidence = _part_logits(part, settings, field_names)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    lapse = RecordLanguageModel._lapse(evidence, settings)[:, None]
    result: np.ndarray = p * (1.0 - lapse) + lapse / len(part.log_prior)
    return result


def _part_logits(
    part: ScoredPart,
    settings: RecordSettings,
    field_names: tuple[str, ...],
    rows: slice = slice(None),
) -> tuple[np.ndarray, np.ndarray]:
    """Logits shifted to a maximum of 0, and each item's weighted evidence (of ``rows``)."""
    n = len(part.targets[rows])
    logits = np.repeat(settings.prior_weight * part.log_prior[None, :], n, axis=0)
    evidence = np.zeros(n)
    for name in field_names:
        weight = settings.field_weights.get(name, 0.0) if name != "title" else 1.0
        if name not in part.fields or weight <= 0:
            continue
        own, roman, lengths = (values[rows] for values in part.fields[name])
        inverse = 1.0 / (
            settings.temperature * np.maximum(lengths, 1.0) ** settings.length_exponent
        )
        inverse = inverse[:, None]
        folded = own * inverse + part.native_share[None, :]
        columns = part.roman_labels
        folded[:, columns] = np.logaddexp(folded[:, columns], roman * inverse + part.roman_share)
        folded[lengths == 0] = 0.0
        logits += weight * folded
        evidence += weight * lengths
    logits -= logits.max(axis=1, keepdims=True)
    return logits, evidence


def weighted_nll(
    parts: list[ScoredPart], settings: RecordSettings, field_names: tuple[str, ...]
) -> float:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for part in parts:
        totals[part.corpus][0] += part_nll(part, settings, field_names)
        totals[part.corpus][1] += float(_weights(part).sum())
    weight = sum(CORPUS_WEIGHTS[c] for c in totals)
    return sum(CORPUS_WEIGHTS[c] * loss / n for c, (loss, n) in totals.items()) / weight


def sample_items(items: list[CalibrationItem]) -> list[CalibrationItem]:
    kept = []
    by_corpus: dict[str, list[CalibrationItem]] = defaultdict(list)
    for item in items:
        by_corpus[item.corpus].append(item)
    for corpus, mine in by_corpus.items():
        ranked = sorted(
            mine, key=lambda it: stable_fraction(f"calibration:{corpus}:{it.fields['title']}")
        )
        kept += ranked[: CALIBRATION_SAMPLE[corpus]]
    return kept


def fit_title_settings(parts: list[ScoredPart]) -> RecordSettings:
    """Temperature, length exponent, prior weight, lapse and evidence scale on titles alone."""
    from scipy import optimize

    def settings_of(x: np.ndarray) -> RecordSettings:
        log_t, exponent, prior, lapse, log_scale = x
        return RecordSettings(
            temperature=math.exp(log_t),
            length_exponent=float(exponent),
            prior_weight=float(prior),
            lapse=float(lapse),
            evidence_scale=math.exp(log_scale),
        )

    result = optimize.minimize(
        lambda x: weighted_nll(parts, settings_of(x), ("title",)),
        np.array([0.0, 0.7, 1.0, 0.01, 0.0]),
        method="L-BFGS-B",
        bounds=[(-4.0, 4.0), (0.0, 1.5), (0.0, 3.0), (0.0, 0.2), (-3.0, 4.0)],
    )
    return settings_of(result.x)


def fit_record_temperature(parts: list[ScoredPart], settings: RecordSettings) -> RecordSettings:
    """``settings`` with the temperature that minimises the summed whole-record log loss of
    ``parts``, for a model retrained on a catalogue's records.

    The prior weight is divided by the same factor as the temperature is multiplied by, so the
    new temperature divides the prior as well as the evidence: a record's logits are the old
    ones scaled by one number, and its likeliest language stays the same (up to the mixing of
    a language's native and romanised profiles, which is not linear). What moves is how sure
    the model says it is. A temperature refitted on the evidence alone also set the
    balance between prior and evidence, and a retraining on 44 catalogue records (where the
    languages the base model lacked score badly out of fold) raised it 2.7-fold, so the prior
    outvoted the titles and the commonest language swallowed the others (docs/benchmarks.md,
    the simulated human loop).
    """
    from scipy import optimize

    def scaled(factor: float) -> RecordSettings:
        return replace(
            settings,
            temperature=settings.temperature * factor,
            prior_weight=settings.prior_weight / factor,
        )

    def loss(log_t: float) -> float:
        trial = scaled(math.exp(log_t) / settings.temperature)
        return sum(part_nll(part, trial, RECORD_FIELDS) for part in parts)

    result = optimize.minimize_scalar(loss, bounds=LOG_T_BOUNDS, method="bounded")
    return scaled(math.exp(result.x) / settings.temperature)


def fit_field_weights(parts: list[ScoredPart], settings: RecordSettings) -> RecordSettings:
    """Each record field's weight beside the title's, on catalogue records with such fields."""
    from scipy import optimize

    others = [name for name in RECORD_FIELDS if name != "title"]
    catalogue = [part for part in parts if part.corpus == "catalogue"]

    def settings_of(x: np.ndarray) -> RecordSettings:
        weights = {"title": 1.0, **{name: float(w) for name, w in zip(others, x, strict=True)}}
        return replace(settings, field_weights=weights)

    result = optimize.minimize(
        lambda x: weighted_nll(catalogue, settings_of(x), RECORD_FIELDS),
        np.full(len(others), 0.2),
        method="L-BFGS-B",
        bounds=[(0.0, 2.0)] * len(others),
    )
    return settings_of(result.x)
