from __future__ import annotations

import numpy as np

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.langid_build import merge_profiles

NATIVE = {
    "deu": ["Geschichte der deutschen Literatur", "Die Reise nach Italien und nach Rom"],
    "eng": ["A history of the English people", "The life and letters of a parson"],
    "rus": ["История русской литературы", "Слова и краски : очерки из истории"],
}
ROMANISED = {"rus": ["Istoriia russkoi literatury", "Slova i kraski : ocherki iz istorii"]}


def variant_model() -> LanguageIdentifier:
    texts = [t for label in NATIVE for t in NATIVE[label]]
    labels = [label for label in NATIVE for _ in NATIVE[label]]
    native = LanguageIdentifier.from_examples(texts, labels)
    romanised = LanguageIdentifier.from_examples(ROMANISED["rus"], ["rus", "rus"])
    return merge_profiles([(native, False), (romanised, True)])


def test_a_model_with_a_romanised_profile_answers_languages_only():
    model = variant_model()
    assert model.classes_ == ["deu", "eng", "rus", "rus-Latn"]
    assert model.labels_ == ["deu", "eng", "rus"]
    answers = model.predict_top_k(["Ocherki istorii literatury", "Очерки истории"], k=3)
    assert [top[0][0] for top in answers] == ["rus", "rus"]
    assert all("rus-Latn" not in {label for label, _ in top} for top in answers)


def test_probabilities_are_over_the_languages():
    model = variant_model()
    proba = model.predict_proba(["Slova i kraski", "Geschichte"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_a_catalogue_romanised_title_teaches_the_romanised_profile():
    model = variant_model()
    trained = model.fit_incremental(["Russkaia literatura i kraski"], ["rus"])
    row = trained.classes_.index("rus-Latn")
    native_row = trained.classes_.index("rus")
    assert trained._totals[row] > model._totals[row]
    assert trained._totals[native_row] == model._totals[native_row]


def test_a_model_saved_with_profiles_loads_with_the_same_answers(tmp_path):
    model = variant_model()
    model.save(tmp_path / "m.npz")
    loaded = LanguageIdentifier.load(tmp_path / "m.npz")
    texts = ["Slova i kraski", "Die Reise", "История"]
    assert loaded.predict(texts) == model.predict(texts)
    assert loaded.labels_ == model.labels_
