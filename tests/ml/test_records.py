from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid_build import merge_profiles
from glamml.ml.records import RecordLanguageModel, RecordSettings

GERMAN = [
    "Geschichte der deutschen Literatur im neunzehnten Jahrhundert",
    "Die Reise nach Italien und die Briefe aus Rom",
    "Verlag von Friedrich Brockhaus in Leipzig",
    "Über die Natur der Dinge und des Menschen",
    "Leipzig : Verlag der Dürr'schen Buchhandlung",
    "Berlin : Verlag von Julius Springer",
]
ENGLISH = [
    "A history of the English people from the earliest times",
    "The life and letters of a country parson",
    "London : printed for the author and sold by the booksellers",
    "Notes on the birds of the northern counties",
    "Includes bibliographical references and index",
    "New York : Harper and Brothers",
]
RUSSIAN = [
    "История русской литературы девятнадцатого века",
    "Слова и краски : очерки из истории творческих связей",
    "Москва : Наука",
]
RUSSIAN_ROMANISED = [
    "Istoriia russkoi literatury deviatnadtsatogo veka",
    "Slova i kraski : ocherki iz istorii tvorcheskikh sviazei",
    "Moskva : Nauka",
]


@pytest.fixture(scope="module")
def model() -> RecordLanguageModel:
    native = LanguageIdentifier.from_examples(
        GERMAN + ENGLISH + RUSSIAN,
        ["deu"] * len(GERMAN) + ["eng"] * len(ENGLISH) + ["rus"] * len(RUSSIAN),
    )
    romanised = LanguageIdentifier.from_examples(RUSSIAN_ROMANISED, ["rus"] * 3)
    merged = merge_profiles([(native, False), (romanised, True)])
    settings = RecordSettings(
        temperature=2.0,
        length_exponent=0.5,
        lapse=0.01,
        evidence_scale=4.0,
        field_weights={"title": 1.0, "place": 0.5, "publisher": 0.5, "notes": 0.1},
    )
    return RecordLanguageModel(merged, settings)


def test_a_romanised_profile_answers_its_language(model):
    assert "rus-Latn" in model.identifier.classes_
    assert "rus-Latn" not in model.output_labels()
    [(label, _)] = model.predict(["Ocherki istorii russkoi literatury"])
    assert label == "rus"


def test_variants_of_a_language_add_up_to_one_answer(model):
    proba, _ = model.predict_record_proba([{"title": "Slova i kraski"}, {"title": "Слова"}])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert proba.shape[1] == len(model.output_labels())


@pytest.mark.parametrize("text", ["", "   ", "1, 2, 3", "1984", "— : 1899. – (12)", None])
def test_a_text_without_letters_is_an_abstention_never_a_confident_und(model, text):
    assert model.predict_records([{"title": text}]) == [("und", 0.0)]


def test_a_record_without_letters_in_any_field_abstains(model):
    record = {"title": "1, 2, 3", "place": "", "publisher": "1899", "notes": "(1899) 12-34"}
    [(label, confidence)] = model.predict_records([record])
    assert label == "und" and confidence == 0.0


def test_less_evidence_gives_less_confidence(model):
    short, long = model.predict(
        ["Geschichte", "Geschichte der deutschen Literatur im neunzehnten Jahrhundert"]
    )
    assert short[1] < long[1]


@pytest.mark.parametrize("text", ["MS 123", "Ja", "A.B.", "12 v."])
def test_two_letters_are_no_evidence_to_act_on(model, text):
    assert model.predict([text]) == [("und", 0.0)]


def test_letters_of_all_fields_count_towards_the_evidence(model):
    [(label, confidence)] = model.predict_records([{"title": "Ja", "place": "Leipzig"}])
    assert label != "und" and confidence > 0


@pytest.mark.parametrize(
    "text",
    [
        "Geschichte der deutschen Literatur " * 3000,  # about 100 KB
        "Geschichte\x00der\x07deutschen\x1bLiteratur",  # control characters
        "\u200f\u202bGeschichte der deutschen Literatur\u202c\u200e",  # right-to-left marks
        "Geschichte История Literatur литературы",  # mixed scripts
        "\ufeff\ud7ff\U0001f600 Geschichte",  # BOM, odd code points, an emoji
    ],
)
def test_awkward_input_gets_an_answer_with_a_probability(model, text):
    [(label, confidence)] = model.predict([text])
    assert label in model.output_labels()
    assert 0.0 < confidence <= 1.0


def test_a_100_kb_text_costs_no_more_than_its_first_characters(model):
    long = "Geschichte der deutschen Literatur " * 3000
    assert model.predict([long]) == model.predict([long[:2000]])


def test_place_and_publisher_are_evidence_beside_an_english_title(model):
    title = "The ABC of cheese cookery"
    alone, whole = model.predict_records(
        [
            {"title": title},
            {"title": title, "place": "Leipzig", "publisher": "Verlag von Julius Springer"},
        ]
    )
    proba, _ = model.predict_record_proba(
        [
            {"title": title},
            {"title": title, "place": "Leipzig", "publisher": "Verlag von Julius Springer"},
        ]
    )
    german = model.output_labels().index("deu")
    assert proba[1, german] > proba[0, german]
    assert whole[1] < alone[1] or whole[0] == "deu"


def test_fields_not_read_and_missing_fields_change_nothing(model):
    plain = model.predict_records([{"title": "Die Reise nach Italien"}])
    extra = model.predict_records(
        [{"title": "Die Reise nach Italien", "subjects": "Travel", "place": None}]
    )
    assert plain == extra


def test_the_settings_travel_with_the_model_file(model, tmp_path: Path):
    identifier = model.identifier
    identifier.info = {"records": model.settings.as_info()}
    identifier.save(tmp_path / "model.npz")
    loaded = RecordLanguageModel.from_identifier(LanguageIdentifier.load(tmp_path / "model.npz"))
    assert loaded.settings == model.settings
    texts = ["Slova i kraski", "A history of London", "Die Reise"]
    assert loaded.predict(texts) == model.predict(texts)
