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

This module needs the build dependencies (``pip install -e ".[build]"``) and ``../shared``.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, sparse

from glamml.ml.catalogue_corpora import (
    CatalogueRecord,
    ClassicsRow,
    read_catalogue_marc,
    read_classics,
    text_script,
    usual_scripts,
)
from glamml.ml.corpora import read_all
from glamml.ml.examples import Example
from glamml.ml.hashing import stable_fraction
from glamml.ml.langid import Hyperparameters, LanguageIdentifier
from glamml.ml.langid.model import ROMANISED, VARIANT_SEPARATOR, variant_label
from glamml.ml.langid.profiles import Profiles
from glamml.ml.languages import SPECIAL_CODES, UnknownLanguageError, normalise_language
from glamml.ml.records import RECORD_FIELDS, RecordLanguageModel, RecordSettings
from glamml.ml.romanise import (
    Romaniser,
    anyascii,
    cutlet_macrons,
    fold_to_letters,
    iast,
    iuliia_ala_lc,
    pinyin,
    uroman,
    wade_giles,
)

CATALOGUE_WEIGHT = 10.0  # titles are what the model is for
CLASSICS_TITLE_WEIGHT = 3.0
MIN_TRAIN_CHARS = 2000
TOP_N = 6000
TOP_N_ROMANISED = 3000
# Prior pseudo-counts: each language's catalogue titles, plus this many for every language, so
# that a language no catalogue here holds is not ruled out; rescaled to PRIOR_TOTAL.
PRIOR_FLOOR = 5.0
PRIOR_TOTAL = 1000.0
# Share of a romanised language's prior given to its romanised profile. Scripts do not compete
# (a Cyrillic title matches no Latin profile), so this only weighs "rus-Latn" against Latin-script
# languages; catalogues romanise nearly every such title, but imports may hold either.
ROMANISED_SHARE = 0.5
FOLDS = 5
# Out-of-fold texts scored per calibration corpus at most, drawn by hash (this bounds the time
# the fit takes: every trial scores every item against every language).
CALIBRATION_SAMPLE = {"catalogue": 3000, "tatoeba": 1000, "classics": 1000, "fragments": 1000}
# How much each corpus counts in the fitted log loss: catalogue titles first.
CORPUS_WEIGHTS = {"catalogue": 2.0, "tatoeba": 1.0, "classics": 1.0, "fragments": 1.0}


# -- data -----------------------------------------------------------------------------------------


@dataclass
class BuildData:
    shared: dict[str, list[Example[str]]]
    record_fields: dict[tuple[str, str], dict[str, str]]  # (source, key) → place, publisher
    catalogue: list[CatalogueRecord]
    classics: list[ClassicsRow]
    native_scripts: dict[str, str]
    romanised_cache: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    fixed: FixedCounts | None = None  # counted on the first build, shared by the next ones


def read_build_data(data_dir: Path, *, cache: Path | None = None) -> BuildData:
    """Everything a build reads; ``cache`` (a JSON file) keeps romanisations between runs."""
    shared = read_all(data_dir)
    udhr_texts: dict[str, list[str]] = defaultdict(list)
    for example in shared["udhr"]:
        udhr_texts[example.label].append(example.text)
    scripts = usual_scripts(udhr_texts)
    scripts["grc"] = "GREEK"
    return BuildData(
        shared=shared,
        record_fields=_imprints(data_dir),
        catalogue=read_catalogue_marc(data_dir),
        classics=read_classics(data_dir),
        native_scripts=scripts,
        romanised_cache=_read_cache(cache),
    )


def _read_cache(path: Path | None) -> dict[tuple[str, str], list[str]]:
    if path is None or not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    return {(label, text): forms for label, text, forms in stored}


def write_cache(data: BuildData, path: Path) -> None:
    """Save the romanisations (the libraries are deterministic; this only saves time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [[label, text, forms] for (label, text), forms in sorted(data.romanised_cache.items())]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def _imprints(data_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Place and publisher of the British Library and FinGreyLit records, by record key."""
    fields: dict[tuple[str, str], dict[str, str]] = {}
    with (data_dir / "bl-books-genre" / "records.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            fields[("bl", row["BL record ID"].strip())] = {
                "place": (row.get("Place of publication") or "").strip(),
                "publisher": (row.get("Publisher") or "").strip(),
            }
    with (data_dir / "fingreylit" / "records.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            publisher = (row.get("gt_publisher") or "").replace("|", "; ").strip()
            fields.setdefault(
                ("fingreylit", (row.get("id") or "").strip()), {"publisher": publisher}
            )
    return fields


# -- romanisation ---------------------------------------------------------------------------------


def romaniser_for(label: str, script: str) -> list[Romaniser]:
    """The transliterations a language's texts are romanised with (scripts/measure_romanisers.py).

    The closest library to the catalogue's own romanisation for each language measured, among
    those whose licence lets what is derived from their output ship: Unidecode came first for
    Hebrew, Armenian and (after iuliia) Cyrillic but is GPL, so uroman, next within 0.02-0.07,
    romanises those. Chinese gets pinyin and, for older records, Wade-Giles.
    """
    by_label: dict[str, list[Romaniser]] = {
        "zho": [pinyin, wade_giles],
        "jpn": [cutlet_macrons],
        "kor": [anyascii],
        "rus": [iuliia_ala_lc],
    }
    if label in by_label:
        return by_label[label]
    if script == "DEVANAGARI":
        return [iast]
    return [uroman]


def romanised_forms(data: BuildData, text: str, label: str) -> list[str]:
    """The text in each of its language's romanisations, and each folded to plain letters."""
    romanisers = romaniser_for(label, data.native_scripts.get(label, ""))
    recipe = f"{label}:{','.join(r.__name__ for r in romanisers)}"
    cached = data.romanised_cache.get((recipe, text))
    if cached is not None:
        return cached
    forms: list[str] = []
    for romanise in romanisers:
        try:
            romanised = " ".join(romanise(text).split())
        except Exception:  # noqa: BLE001 - a library that fails on one text loses that text
            continue
        if text_script(romanised) != "LATIN":
            continue
        forms.append(romanised)
        folded = fold_to_letters(romanised)
        if folded != romanised.lower():
            forms.append(folded)
    data.romanised_cache[(recipe, text)] = forms
    return forms


def is_romanisable(data: BuildData, label: str) -> bool:
    return data.native_scripts.get(label, "LATIN") not in ("LATIN", "")


# -- training texts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingText:
    text: str
    label: str
    romanised: bool  # counted into the language's romanised profile
    weight: float
    fold: int  # the calibration fold whose model leaves it out; -1: every model has it


@dataclass
class CalibrationItem:
    fields: dict[str, str]
    label: str
    corpus: str
    fold: int


def _catalogue_label(record: CatalogueRecord) -> str | None:
    try:
        label = normalise_language(record.label)
    except UnknownLanguageError:
        return None  # a collective code: no language to learn
    return None if label in SPECIAL_CODES else label


def _unit_folds(units: Counter[str]) -> dict[str, int]:
    """Institutions dealt round the folds, largest first, so the folds are of similar size."""
    ordered = sorted(units, key=lambda unit: (-units[unit], unit))
    return {unit: position % FOLDS for position, unit in enumerate(ordered)}


def _hash_fold(*parts: str) -> int:
    return int(stable_fraction(":".join(("fold", *parts))) * FOLDS)


def gather(
    data: BuildData, exclude_sources: set[str]
) -> tuple[list[TrainingText], list[CalibrationItem], list[tuple[str, int]]]:
    """Training texts, calibration items, and the (language, fold) of each catalogue title.

    The catalogue titles' languages make the prior (see :func:`with_prior`).
    """
    texts: list[TrainingText] = []
    items: list[CalibrationItem] = []
    catalogue_labels: list[tuple[str, int]] = []
    units: Counter[str] = Counter()
    bl = [
        e
        for e in data.shared["bl"]
        if e.split == "train" and e.extra.get("n_languages", "1") == "1"
    ]
    fgl = [e for e in data.shared["fingreylit"] if e.split == "train"]
    records = [
        r
        for r in data.catalogue
        if r.source not in exclude_sources and r.shippable and _catalogue_label(r)
    ]
    units.update({"bl": len(bl), "fingreylit": len(fgl)})
    units.update(f"cm:{r.source}" for r in records)
    folds = _unit_folds(units)

    for example in bl + fgl:
        fold = folds[example.source]
        texts.append(TrainingText(example.text, example.label, False, CATALOGUE_WEIGHT, fold))
        catalogue_labels.append((example.label, fold))
        fields = {
            "title": example.text,
            **data.record_fields.get((example.source, example.key), {}),
        }
        items.append(CalibrationItem(fields, example.label, "catalogue", fold))
    for record in records:
        label = _catalogue_label(record)
        assert label is not None
        fold = folds[f"cm:{record.source}"]
        catalogue_labels.append((label, fold))
        romanised = is_romanisable(data, label) and text_script(record.title) == "LATIN"
        texts.append(TrainingText(record.title, label, romanised, CATALOGUE_WEIGHT, fold))
        original = record.fields.get("title_original_script", "")
        if original and text_script(original) != "LATIN":
            texts.append(TrainingText(original, label, False, CATALOGUE_WEIGHT, fold))
        items.append(CalibrationItem(dict(record.fields), label, "catalogue", fold))

    for example in data.shared["tatoeba"]:
        if example.split != "train":
            continue
        fold = _hash_fold("tatoeba", example.key)
        texts.append(TrainingText(example.text, example.label, False, 1.0, fold))
        if is_romanisable(data, example.label):
            for form in romanised_forms(data, example.text, example.label):
                texts.append(TrainingText(form, example.label, True, 1.0, fold))
        items.append(CalibrationItem({"title": example.text}, example.label, "tatoeba", fold))
    for example in data.shared["udhr"]:
        if example.split != "train":
            continue
        texts.append(TrainingText(example.text, example.label, False, 1.0, -1))
        if is_romanisable(data, example.label) and text_script(example.text) != "LATIN":
            for form in romanised_forms(data, example.text, example.label):
                texts.append(TrainingText(form, example.label, True, 1.0, -1))
    for row in data.classics:
        if row.split != "train":
            continue
        fold = _hash_fold("classics", row.work)
        weight = CLASSICS_TITLE_WEIGHT if row.form == "title" else 1.0
        texts.append(TrainingText(row.text, row.label, False, weight, fold))
        if is_romanisable(data, row.label) and row.form != "monotonic":
            for form in romanised_forms(data, row.text, row.label):
                texts.append(TrainingText(form, row.label, True, weight, fold))
        items.append(CalibrationItem({"title": row.text}, row.label, "classics", fold))
    items += _fragments([item for item in items if item.corpus == "catalogue"])
    return texts, items, catalogue_labels


def _fragments(items: Iterable[CalibrationItem]) -> list[CalibrationItem]:
    """One word of each catalogue title, chosen by hash: how far one word can be trusted."""
    fragments = []
    for item in items:
        title = item.fields.get("title", "")
        words = title.split()
        if words:
            word = words[int(stable_fraction(f"fragment:{title}") * len(words))]
            fragments.append(CalibrationItem({"title": word}, item.label, "fragments", item.fold))
    return fragments


# -- profiles -------------------------------------------------------------------------------------


def class_name(label: str, romanised: bool) -> str:
    return f"{label}{VARIANT_SEPARATOR}{ROMANISED}" if romanised else label


@dataclass
class FixedCounts:
    """Untruncated counts of the texts every model has (UDHR and its romanisation).

    Hashing and counting them is most of the work of a build; done once, each of the many
    models of a build or a benchmark only adds its own texts to them.
    """

    models: dict[bool, LanguageIdentifier]  # romanised or not → counts
    chars: Counter[tuple[str, bool]]


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
    texts: list[TrainingText], fixed: FixedCounts, catalogue_counts: Counter[str]
) -> LanguageIdentifier:
    """Count the profiles: each language's own, and its romanised one where it has one.

    ``texts`` are those beside the fixed ones (whose ``fold`` is not negative).
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
    return with_prior(merged, catalogue_counts)


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


# -- calibration ----------------------------------------------------------------------------------


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
    label_of_class = model.identifier._label_of_class
    variant_share = model.identifier._log_variant_share
    native_labels = label_of_class[native]
    native_share = np.full(n_labels, -np.inf)
    native_share[native_labels] = variant_share[native]
    for corpus, mine in sorted(by_corpus.items()):
        fields = {}
        for name in RECORD_FIELDS:
            texts = [item.fields.get(name, "") for item in mine]
            if name != "title" and not any(texts):
                continue
            scores = model.raw_scores(texts)
            # float64: the optimiser's finite differences vanish in float32 rounding.
            own = np.zeros((len(mine), n_labels))
            own[:, native_labels] = scores.loglik[:, native]
            fields[name] = (own, scores.loglik[:, roman], scores.lengths)
        parts.append(
            ScoredPart(
                corpus=corpus,
                targets=np.array([index[item.label] for item in mine]),
                log_prior=model._log_prior,
                native_share=native_share,
                roman_labels=label_of_class[roman],
                roman_share=variant_share[roman],
                fields=fields,
            )
        )
    return parts


def part_nll(part: ScoredPart, settings: RecordSettings, field_names: tuple[str, ...]) -> float:
    """Summed negative log-likelihood of the targets, as RecordLanguageModel.combine scores."""
    n = len(part.targets)
    logits = np.repeat(settings.prior_weight * part.log_prior[None, :], n, axis=0)
    evidence = np.zeros(n)
    for name in field_names:
        weight = settings.field_weights.get(name, 0.0) if name != "title" else 1.0
        if name not in part.fields or weight <= 0:
            continue
        own, roman, lengths = part.fields[name]
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
    log_p = logits[np.arange(n), part.targets] - np.log(np.exp(logits).sum(axis=1))
    lapse = RecordLanguageModel._lapse(evidence, settings)
    p = np.exp(log_p) * (1.0 - lapse) + lapse / len(part.log_prior)
    return float(-np.log(np.maximum(p, 1e-12)).sum())


def weighted_nll(
    parts: list[ScoredPart], settings: RecordSettings, field_names: tuple[str, ...]
) -> float:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for part in parts:
        totals[part.corpus][0] += part_nll(part, settings, field_names)
        totals[part.corpus][1] += len(part.targets)
    weight = sum(CORPUS_WEIGHTS[c] for c in totals)
    return sum(CORPUS_WEIGHTS[c] * loss / n for c, (loss, n) in totals.items()) / weight


def _sample(items: list[CalibrationItem]) -> list[CalibrationItem]:
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


def fit_field_weights(parts: list[ScoredPart], settings: RecordSettings) -> RecordSettings:
    """Each record field's weight beside the title's, on catalogue records with such fields."""
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


# -- the whole build ------------------------------------------------------------------------------


def build_base_model(
    data: BuildData,
    *,
    exclude_sources: set[str] | frozenset[str] = frozenset(),
    verbose: bool = True,
    log: Callable[[str], None] | None = None,
) -> RecordLanguageModel:
    """The base model from every source but ``exclude_sources`` (catalogue-marc source names)."""

    def say(message: str) -> None:
        if log is not None:
            log(message)
        elif verbose:
            sys.stderr.write(message + "\n")

    hyper = Hyperparameters()
    texts, items, catalogue_labels = gather(data, set(exclude_sources))
    say(f"  {len(texts)} training texts, {len(items)} calibration items")
    items = _sample(items)
    if data.fixed is None:
        data.fixed = fixed_counts(texts, hyper)
    fixed = data.fixed
    parts: list[ScoredPart] = []
    for fold in range(FOLDS):
        inside = [t for t in texts if t.fold != fold]
        fold_counts = Counter(label for label, f in catalogue_labels if f != fold)
        profiles = build_profiles(inside, fixed, fold_counts)
        model = RecordLanguageModel(profiles, RecordSettings())
        parts += score_items(model, [item for item in items if item.fold == fold])
        say(f"  fold {fold + 1}/{FOLDS} scored")
    settings = fit_title_settings(parts)
    settings = fit_field_weights(parts, settings)
    say(f"  fitted: {settings}")
    profiles = build_profiles(texts, fixed, Counter(label for label, _ in catalogue_labels))
    profiles = profiles.with_hyperparameters(
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
            "calibration": {
                "method": (
                    "temperature, length exponent, prior weight, lapse and evidence scale, then "
                    "field weights, fitted on out-of-fold scores; catalogue records dealt into "
                    "folds by institution"
                ),
                "folds": FOLDS,
                "n": dict(Counter(item.corpus for item in items)),
                "corpus_weights": CORPUS_WEIGHTS,
            },
        },
    }
    return RecordLanguageModel(profiles, settings)


def _source_summary(
    texts: list[TrainingText], data: BuildData, exclude: set[str] | frozenset[str]
) -> dict[str, Any]:
    counted = {r.source for r in data.catalogue if r.shippable and r.source not in exclude}
    return {
        "catalogue-marc": sorted(counted),
        "n_texts": len(texts),
        "n_romanised_texts": sum(t.romanised for t in texts),
    }
