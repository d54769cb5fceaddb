from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from glamml.ml.catalogue_corpora import read_catalogue_marc, read_classics
from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid_build import (
    BuildData,
    CalibrationItem,
    fit,
    fit_field_weights,
    fit_title_settings,
    gather,
    merge_profiles,
    part_nll,
    score_items,
    weigh_parts,
    with_prior,
)
from glamml.ml.langid_build.texts import _unit_folds
from glamml.ml.records import RecordLanguageModel, RecordSettings

SHARED = Path(__file__).resolve().parent / "fixtures" / "shared-data"


@pytest.fixture(scope="module")
def data() -> BuildData:
    return BuildData(
        shared={"bl": [], "fingreylit": [], "tatoeba": [], "udhr": []},
        record_fields={},
        catalogue=read_catalogue_marc(SHARED),
        classics=read_classics(SHARED),
        # No romanisation of the Greek here: the libraries are build dependencies only.
        native_scripts={"rus": "CYRILLIC", "deu": "LATIN", "eng": "LATIN"},
    )


def test_a_left_out_source_gives_no_text_and_no_calibration_item(data):
    texts, items, labels = gather(data, {"big"})
    assert not any("Geschichte" in t.text or "Slova" in t.text for t in texts)
    assert all(not item.fields.get("title", "").startswith("Geschichte") for item in items)
    assert {label for label, _ in labels} == {"eng"}  # the prior counts only what is left


def test_a_left_out_language_has_no_text_item_or_prior_and_the_rest_is_unchanged(data):
    texts, items, labels = gather(data, set(), {"deu"})
    assert not any(t.label == "deu" for t in texts)
    assert not any(item.label == "deu" for item in items)  # fragments included
    assert "deu" not in {label for label, _ in labels}
    all_texts, all_items, all_labels = gather(data, set())
    assert any(t.label == "deu" for t in all_texts)
    # The other languages keep their texts and their calibration folds.
    assert texts == [t for t in all_texts if t.label != "deu"]
    assert [(i.label, i.fold) for i in items] == [
        (i.label, i.fold) for i in all_items if i.label != "deu"
    ]
    assert labels == [(label, fold) for label, fold in all_labels if label != "deu"]


def test_romanised_titles_teach_the_romanised_profile_and_originals_the_native_one(data):
    texts, _, _ = gather(data, set())
    by_text = {t.text: t for t in texts}
    assert by_text["Slova i kraski : ocherki iz istorii"].romanised
    assert not by_text["Слова и краски : очерки из истории"].romanised
    assert not by_text["Geschichte der deutschen Literatur"].romanised


def test_copyleft_records_are_measured_on_but_never_counted(data):
    copyleft = replace(data.catalogue[0], key="gpl:1", licence="LGPL-2.1-only")
    texts, _, _ = gather(replace(data, catalogue=[copyleft]), set())
    assert not any(t.text == copyleft.title for t in texts)


def test_a_collective_code_teaches_nothing(data):
    texts, items, _ = gather(data, set())
    assert not any(t.label == "roa" for t in texts)
    assert not any(item.label == "roa" for item in items)


def test_institutions_are_dealt_round_the_folds_whole_and_largest_first():
    folds = _unit_folds(Counter({"a": 50, "b": 40, "c": 30, "d": 20, "e": 10, "f": 5, "g": 1}))
    assert folds == {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4, "f": 0, "g": 1}


def test_the_prior_follows_catalogue_titles_and_splits_a_language_between_its_scripts():
    native = LanguageIdentifier.from_examples(
        ["Geschichte der Stadt Leipzig", "История города", "A history of the town"],
        ["deu", "rus", "eng"],
    )
    romanised = LanguageIdentifier.from_examples(["Istoriia goroda"], ["rus"])
    model = with_prior(merge_profiles([(native, False), (romanised, True)]), Counter(eng=20))
    docs = dict(zip(model.classes_, model._docs, strict=True))
    assert docs["rus"] == pytest.approx(docs["rus-Latn"])
    assert docs["eng"] > docs["deu"] == pytest.approx(docs["rus"] + docs["rus-Latn"])


def test_the_fit_scores_records_exactly_as_the_model_does():
    native = LanguageIdentifier.from_examples(
        [
            "Geschichte der deutschen Literatur",
            "Verlag von Julius Springer in Berlin",
            "A history of English literature",
            "London : printed for the author",
            "История русской литературы",
        ],
        ["deu", "deu", "eng", "eng", "rus"],
    )
    romanised = LanguageIdentifier.from_examples(["Istoriia russkoi literatury"], ["rus"])
    model = RecordLanguageModel(
        merge_profiles([(native, False), (romanised, True)]), RecordSettings()
    )
    items = [
        CalibrationItem({"title": "Die Geschichte", "place": "Berlin"}, "deu", "catalogue", 0),
        CalibrationItem({"title": "The history", "publisher": "Verlag"}, "deu", "catalogue", 0),
        CalibrationItem({"title": "Ocherki istorii", "notes": "In Russian"}, "rus", "catalogue", 0),
        CalibrationItem({"title": "1, 2, 3"}, "eng", "catalogue", 0),
    ]
    settings = RecordSettings(
        temperature=1.7,
        length_exponent=0.4,
        prior_weight=1.3,
        lapse=0.02,
        evidence_scale=2.0,
        field_weights={"title": 1.0, "place": 0.5, "publisher": 0.3, "notes": 0.2},
    )
    [part] = score_items(model, items)
    proba, _ = model.with_settings(settings).predict_record_proba([item.fields for item in items])
    labels = model.output_labels()
    exact = -sum(np.log(proba[i, labels.index(item.label)]) for i, item in enumerate(items))
    fields = ("title", "title_original_script", "place", "publisher", "notes")
    assert part_nll(part, settings, fields) == pytest.approx(exact, rel=1e-5)


def test_scores_and_the_loss_do_not_depend_on_how_many_items_are_taken_at_once(monkeypatch):
    native = LanguageIdentifier.from_examples(
        ["Geschichte der deutschen Literatur", "A history of English literature", "Война и мир"],
        ["deu", "eng", "rus"],
    )
    romanised = LanguageIdentifier.from_examples(["Istoriia russkoi literatury"], ["rus"])
    model = RecordLanguageModel(
        merge_profiles([(native, False), (romanised, True)]), RecordSettings()
    )
    titles = ["Die Geschichte", "The history", "Ocherki istorii", "1, 2, 3", "Война", "Literatur"]
    labels = ["deu", "eng", "rus", "eng", "rus", "deu"]
    items = [
        CalibrationItem({"title": title, "place": "Berlin" if i % 2 else ""}, label, "catalogue", 0)
        for i, (title, label) in enumerate(zip(titles * 3, labels * 3, strict=True))
    ]
    settings = RecordSettings(temperature=1.7, prior_weight=1.3, lapse=0.02, evidence_scale=2.0)
    fields = ("title", "place")
    [whole] = score_items(model, items)
    monkeypatch.setattr(fit, "SCORE_CHUNK", 4)
    [chunked] = score_items(model, items)
    for name in ("title", "place"):
        for at_once, by_chunk in zip(whole.fields[name], chunked.fields[name], strict=True):
            assert np.array_equal(at_once, by_chunk)
    # Bit for bit: a retraining's temperature is fitted on this loss.
    loss = part_nll(whole, settings, fields)
    monkeypatch.setattr(fit, "SCORE_CHUNK", len(items))
    assert part_nll(whole, settings, fields) == loss


def test_fitting_moves_a_field_weight_to_what_the_field_is_worth():
    native = LanguageIdentifier.from_examples(
        [
            "Geschichte der deutschen Literatur",
            "Verlag von Julius Springer in Berlin und Leipzig",
            "A history of English literature",
            "London : printed for the author and sold by Longman",
        ],
        ["deu", "deu", "eng", "eng"],
    )
    model = RecordLanguageModel(native, RecordSettings())
    # Titles say little; the publisher names the language every time.
    items = [
        CalibrationItem(
            {"title": "Opus", "publisher": "Verlag von Springer"}, "deu", "catalogue", 0
        ),
        CalibrationItem(
            {"title": "Opus", "publisher": "printed for the author"}, "eng", "catalogue", 0
        ),
        CalibrationItem(
            {"title": "Ars", "publisher": "Verlag der Buchhandlung"}, "deu", "catalogue", 0
        ),
        CalibrationItem({"title": "Ars", "publisher": "sold by Longman"}, "eng", "catalogue", 0),
    ] * 5
    parts = score_items(model, items)
    fitted = fit_field_weights(parts, RecordSettings(temperature=1.0, length_exponent=0.5))
    assert fitted.field_weights["publisher"] > 0.5


def _two_catalogues() -> tuple[RecordLanguageModel, list[CalibrationItem]]:
    """A large catalogue whose codes match its titles, and a small one that codes one title
    in three by the book's language rather than the title's."""
    model = RecordLanguageModel(
        LanguageIdentifier.from_examples(
            [
                "Geschichte der deutschen Literatur und der Stadt Berlin",
                "A history of English literature and of the town of London",
            ],
            ["deu", "eng"],
        ),
        RecordSettings(),
    )
    german = ["Geschichte der Stadt", "Die deutsche Literatur", "Berlin und der Staat"]
    english = ["A history of the town", "English literature", "London and the state"]
    items = [
        CalibrationItem({"title": title}, label, "catalogue", 0, "large")
        for _ in range(10)
        for titles, label in ((german, "deu"), (english, "eng"))
        for title in titles
    ]
    items += [
        CalibrationItem({"title": title}, label, "catalogue", 0, "small")
        for title, label in [
            ("Geschichte der Stadt", "deu"),
            ("A history of the town", "deu"),
            ("English literature", "eng"),
            ("Die deutsche Literatur", "eng"),
            ("London and the state", "eng"),
            ("Berlin und der Staat", "deu"),
        ]
    ]
    items += [CalibrationItem({"title": "Die Literatur"}, "deu", "tatoeba", 0)] * 3
    return model, items


def test_weighing_by_institution_gives_each_institution_of_a_corpus_the_same_share():
    model, items = _two_catalogues()
    parts = {p.corpus: p for p in weigh_parts(score_items(model, items), "institutions")}
    catalogue = parts["catalogue"]
    assert catalogue.weights is not None
    large = catalogue.weights[catalogue.units == "large"]
    small = catalogue.weights[catalogue.units == "small"]
    assert large.sum() == pytest.approx(small.sum()) == pytest.approx(len(items[:-3]) / 2)
    # A corpus without institutions keeps one weight per item, as weighing by records does.
    assert list(parts["tatoeba"].weights) == [1.0, 1.0, 1.0]
    [records] = weigh_parts([catalogue], "records")
    settings = RecordSettings(temperature=1.5)
    assert part_nll(records, settings, ("title",)) == pytest.approx(
        part_nll(replace(catalogue, weights=np.ones(len(catalogue.targets))), settings, ("title",))
    )
    with pytest.raises(ValueError, match="unknown weighting 'sources'"):
        weigh_parts([catalogue], "sources")


def test_a_large_catalogue_does_not_decide_the_lapse_when_institutions_weigh_alike():
    model, items = _two_catalogues()
    parts = score_items(model, items)
    by_records = fit_title_settings(weigh_parts(parts, "records"))
    by_institutions = fit_title_settings(weigh_parts(parts, "institutions"))
    # The small catalogue's miscoded titles are a third of its weight, not a twentieth of all:
    # a fit that hears it as much as the large one trusts a clear title less.
    assert by_institutions.lapse > by_records.lapse
    assert by_institutions.lapse > 0.1
