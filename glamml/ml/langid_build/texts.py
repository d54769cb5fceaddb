"""The training texts and calibration items of a build, each with its calibration fold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from glamml.ml.catalogue_corpora import CatalogueRecord, text_script
from glamml.ml.hashing import stable_fraction
from glamml.ml.langid_build.data import BuildData, is_romanisable, romanised_forms
from glamml.ml.languages import SPECIAL_CODES, UnknownLanguageError, normalise_language

CATALOGUE_WEIGHT = 10.0  # titles are what the model is for
CLASSICS_TITLE_WEIGHT = 3.0
FOLDS = 5


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
    # The institution a catalogue title (or a word of one) comes from; "" for other corpora.
    unit: str = ""


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
    data: BuildData,
    exclude_sources: set[str],
    exclude_languages: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[TrainingText], list[CalibrationItem], list[tuple[str, int]]]:
    """Training texts, calibration items, and the (language, fold) of each catalogue title.

    The catalogue titles' languages make the prior (see :func:`.counts.with_prior`). Texts,
    items and prior counts of ``exclude_languages`` (ISO 639-3) are dropped from every corpus,
    so the model has no profile for them; folds are dealt as without the exclusion.
    """
    gathered = _Gathered()
    _gather_catalogues(gathered, data, exclude_sources)
    _gather_tatoeba(gathered, data)
    _gather_udhr(gathered, data)
    _gather_classics(gathered, data)
    items = gathered.items
    items += _fragments([item for item in items if item.corpus == "catalogue"])
    if not exclude_languages:
        return gathered.texts, items, gathered.catalogue_labels
    return (
        [t for t in gathered.texts if t.label not in exclude_languages],
        [item for item in items if item.label not in exclude_languages],
        [
            (label, fold)
            for label, fold in gathered.catalogue_labels
            if label not in exclude_languages
        ],
    )


@dataclass
class _Gathered:
    texts: list[TrainingText] = field(default_factory=list)
    items: list[CalibrationItem] = field(default_factory=list)
    catalogue_labels: list[tuple[str, int]] = field(default_factory=list)


def _gather_catalogues(gathered: _Gathered, data: BuildData, exclude_sources: set[str]) -> None:
    """British Library and FinGreyLit titles, then the catalogue-marc records not left out."""
    texts, items, catalogue_labels = gathered.texts, gathered.items, gathered.catalogue_labels
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
    units: Counter[str] = Counter()
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
        items.append(CalibrationItem(fields, example.label, "catalogue", fold, example.source))
    for record in records:
        label = _catalogue_label(record)
        assert label is not None
        unit = f"cm:{record.source}"
        fold = folds[unit]
        catalogue_labels.append((label, fold))
        romanised = is_romanisable(data, label) and text_script(record.title) == "LATIN"
        texts.append(TrainingText(record.title, label, romanised, CATALOGUE_WEIGHT, fold))
        original = record.fields.get("title_original_script", "")
        if original and text_script(original) != "LATIN":
            texts.append(TrainingText(original, label, False, CATALOGUE_WEIGHT, fold))
        items.append(CalibrationItem(dict(record.fields), label, "catalogue", fold, unit))


def _gather_tatoeba(gathered: _Gathered, data: BuildData) -> None:
    for example in data.shared["tatoeba"]:
        if example.split != "train":
            continue
        fold = _hash_fold("tatoeba", example.key)
        gathered.texts.append(TrainingText(example.text, example.label, False, 1.0, fold))
        if is_romanisable(data, example.label):
            for form in romanised_forms(data, example.text, example.label):
                gathered.texts.append(TrainingText(form, example.label, True, 1.0, fold))
        item = CalibrationItem({"title": example.text}, example.label, "tatoeba", fold)
        gathered.items.append(item)


def _gather_udhr(gathered: _Gathered, data: BuildData) -> None:
    """UDHR paragraphs: in every model (fold -1), no calibration item."""
    for example in data.shared["udhr"]:
        if example.split != "train":
            continue
        gathered.texts.append(TrainingText(example.text, example.label, False, 1.0, -1))
        if is_romanisable(data, example.label) and text_script(example.text) != "LATIN":
            for form in romanised_forms(data, example.text, example.label):
                gathered.texts.append(TrainingText(form, example.label, True, 1.0, -1))


def _gather_classics(gathered: _Gathered, data: BuildData) -> None:
    for row in data.classics:
        if row.split != "train":
            continue
        fold = _hash_fold("classics", row.work)
        weight = CLASSICS_TITLE_WEIGHT if row.form == "title" else 1.0
        gathered.texts.append(TrainingText(row.text, row.label, False, weight, fold))
        if is_romanisable(data, row.label) and row.form != "monotonic":
            for form in romanised_forms(data, row.text, row.label):
                gathered.texts.append(TrainingText(form, row.label, True, weight, fold))
        gathered.items.append(CalibrationItem({"title": row.text}, row.label, "classics", fold))


def _fragments(items: Iterable[CalibrationItem]) -> list[CalibrationItem]:
    """One word of each catalogue title, chosen by hash: how far one word can be trusted."""
    fragments = []
    for item in items:
        title = item.fields.get("title", "")
        words = title.split()
        if words:
            word = words[int(stable_fraction(f"fragment:{title}") * len(words))]
            fragments.append(
                CalibrationItem({"title": word}, item.label, "fragments", item.fold, item.unit)
            )
    return fragments
