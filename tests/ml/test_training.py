"""A language field with no held-out records yet: the one training path measures a stand-in."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.language_training import (
    MIN_CALIBRATION_EXAMPLES,
    cross_fitted_temperature,
    train_language,
)
from glamml.ml.records import RecordLanguageModel, RecordSettings
from glamml.ml.training import (
    ON_PART_OF_TRAINING,
    TrainingDataError,
    train_and_evaluate,
    training_fingerprint,
)


def without_held_out(texts: list[str], labels: list[str], **options):
    return train_and_evaluate(
        kind="language",
        train_texts=texts,
        train_labels=labels,
        test_texts=[],
        test_labels=[],
        **options,
    )


def test_without_held_out_records_a_stratified_part_of_the_examples_is_held_back(
    base_model, catalogue_titles
):
    texts, labels = catalogue_titles
    report = without_held_out(texts, labels, base=base_model)
    metrics = report.metrics
    assert metrics["evaluated_on"] == ON_PART_OF_TRAINING
    assert metrics["n_train"] + metrics["n_test"] == len(texts)
    assert metrics["n"] == metrics["n_test"]
    # Every label with at least two examples is held out at least once; Russian has one.
    assert "rus" not in metrics["label_counts_test"]
    assert {"eng", "fin", "swe", "sme", "nld"} <= set(metrics["label_counts_test"])
    assert metrics["accuracy"] >= 0.85
    assert 0.0 <= metrics["ece"] <= 1.0
    assert metrics["calibration"]["method"].startswith("whole-record temperature scaling")
    assert report.model.params()["n_in_domain_examples"] == metrics["n_train"]
    # The baselines are measured only on held-out records the caller gave.
    assert report.baselines == {}
    json.dumps(metrics)


def test_the_fingerprint_covers_every_usable_example_given_not_only_those_trained_on(
    base_model, catalogue_titles
):
    texts, labels = catalogue_titles
    report = without_held_out(texts, labels, base=base_model)
    # What the app compares to decide that nothing changed since the last run.
    assert report.fingerprint == training_fingerprint(texts, labels)


def test_the_stand_in_split_and_the_model_are_reproducible(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    first = without_held_out(texts, labels, seed=3, base=base_model)
    second = without_held_out(texts, labels, seed=3, base=base_model)
    assert first.metrics["test_fingerprint"] == second.metrics["test_fingerprint"]
    assert first.metrics["accuracy"] == second.metrics["accuracy"]
    assert first.model.hyper.temperature == second.model.hyper.temperature


def test_without_examples_the_base_model_is_measured_on_the_shipped_sample(base_model):
    report = without_held_out([], [], base=base_model)
    assert report.model is base_model
    assert "shipped" in report.metrics["evaluated_on"]
    assert report.metrics["n_train"] == 0
    assert report.metrics["n_test"] >= 300
    assert report.metrics["accuracy"] >= 0.93
    assert report.baselines == {}


def test_single_examples_cannot_be_held_back_so_the_shipped_sample_measures_them(base_model):
    report = without_held_out(
        ["Suomen historia", "The history of Rome"], ["fin", "eng"], base=base_model
    )
    assert "shipped" in report.metrics["evaluated_on"]
    assert report.metrics["n_train"] == 2
    assert report.model.params()["n_in_domain_examples"] == 2


def test_new_labels_become_classes(base_model, ancient_greek_titles, catalogue_titles):
    texts = ancient_greek_titles[0] + catalogue_titles[0]
    labels = ancient_greek_titles[1] + catalogue_titles[1]
    report = without_held_out(texts, labels, base=base_model)
    assert "grc" in report.model.classes_
    assert report.metrics["per_label"]["grc"]["support"] == 6  # 20% of 30


def test_unusable_examples_are_skipped_and_counted(base_model, catalogue_titles):
    texts = [*catalogue_titles[0], "1887", "Some title", "Another title"]
    labels = [*catalogue_titles[1], "eng", "elvish", "und"]
    report = without_held_out(texts, labels, base=base_model)
    assert (
        "skipped 3 training example(s): 1 unknown label, 1 not a language, 1 no text"
        in report.metrics["warnings"]
    )
    assert report.metrics["n_train"] + report.metrics["n_test"] == len(catalogue_titles[0])


def test_the_fingerprint_ignores_order_but_not_content():
    texts, labels = ["Suomen historia", "The history of Rome"], ["fin", "eng"]
    fingerprint = training_fingerprint(texts, labels)
    assert fingerprint == training_fingerprint(texts[::-1], labels[::-1])
    assert fingerprint != training_fingerprint(texts, ["fin", "fin"])
    assert fingerprint != training_fingerprint(["Suomen historia"], ["fin"])
    assert len(fingerprint) == 64


def test_mismatched_lengths_are_refused(base_model):
    with pytest.raises(TrainingDataError, match="2 training texts but 1 labels"):
        without_held_out(["a", "b"], ["eng"], base=base_model)


def test_the_temperature_is_fitted_on_out_of_fold_scores_only_with_enough_examples(
    base_model, catalogue_titles
):
    texts, labels = catalogue_titles
    few = MIN_CALIBRATION_EXAMPLES - 1
    assert cross_fitted_temperature(base_model, texts[:few], labels[:few], seed=0) == (None, 0)
    temperature, n_scored = cross_fitted_temperature(base_model, texts, labels, seed=0)
    assert temperature is not None and temperature > 0
    # Every example is scored once, by a model that did not count it.
    assert n_scored == len(texts)


def test_a_retrained_model_reads_records_with_its_own_fitted_temperature(
    base_model, catalogue_titles, tmp_path
):
    texts, labels = catalogue_titles
    base_temperature = RecordSettings.from_identifier(base_model).temperature
    model, calibration = train_language(texts, labels, {}, 0, [], base_model)
    fitted = calibration["temperature"]
    assert calibration["method"].startswith("whole-record") and fitted != base_temperature
    # The reader the app predicts with uses it, also after the file is saved and loaded again.
    assert RecordLanguageModel.from_identifier(model).settings.temperature == fitted
    model.save(tmp_path / "model.npz")
    loaded = LanguageIdentifier.load(tmp_path / "model.npz")
    assert RecordLanguageModel.from_identifier(loaded).settings.temperature == fitted
    # The prior weight is divided as the temperature is multiplied; every other whole-record
    # setting stays the base model's.
    kept = RecordSettings.from_identifier(base_model)
    assert calibration["prior_weight"] == pytest.approx(
        kept.prior_weight * kept.temperature / fitted
    )
    assert RecordSettings.from_identifier(model) == replace(
        kept, temperature=fitted, prior_weight=calibration["prior_weight"]
    )
    assert RecordSettings.from_identifier(loaded) == RecordSettings.from_identifier(model)


def test_the_refitted_temperature_changes_how_sure_a_retrained_model_is_not_what_it_answers(
    base_model, catalogue_titles
):
    # A refit on few records moves the temperature far from the base model's (the simulated
    # review saw 2.2 become 5.9 after 44 records). Were the prior left at full weight, the
    # titles would count for less against it and answers would drift to the commonest
    # language; scaled with the prior, every record keeps the answer it has at the base
    # model's settings and only the confidence moves.
    texts, labels = catalogue_titles
    model, calibration = train_language(texts, labels, {}, 0, [], base_model)
    kept = RecordSettings.from_identifier(base_model)
    at_base_settings = base_model.fit_incremental(texts, labels)  # keeps the base settings
    # Single words, where the prior weighs most against the evidence of a title.
    records = [{"title": word} for text in texts for word in text.split()[:3]]
    retrained = RecordLanguageModel.from_identifier(model)
    reference = RecordLanguageModel.from_identifier(at_base_settings)
    proba, _ = retrained.predict_record_proba(records)
    reference_proba, _ = reference.predict_record_proba(records)
    assert calibration["temperature"] != pytest.approx(kept.temperature, rel=0.05)
    assert (proba.argmax(axis=1) == reference_proba.argmax(axis=1)).all()


def test_the_fitted_temperature_minimises_the_out_of_fold_record_loss(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    fitted, _ = cross_fitted_temperature(base_model, texts, labels, seed=0)
    assert fitted is not None
    outside = [i for i in range(len(texts)) if i % 2]
    inside = [i for i in range(len(texts)) if not i % 2]
    model = base_model.fit_incremental([texts[i] for i in outside], [labels[i] for i in outside])
    reader = RecordLanguageModel.from_identifier(model)

    def loss(temperature: float) -> float:
        factor = temperature / reader.settings.temperature
        trial = reader.with_settings(
            replace(
                reader.settings,
                temperature=temperature,
                prior_weight=reader.settings.prior_weight / factor,
            )
        )
        proba, _ = trial.predict_record_proba([{"title": texts[i]} for i in inside])
        index = [trial.labels_.index(labels[i]) for i in inside]
        return float(-np.log(proba[np.arange(len(inside)), index]).sum())

    # Scored on records its own folds did not see, the fitted temperature is no worse than
    # the base model's (fitted on other catalogues) or ones far from it.
    base_temperature = RecordSettings.from_identifier(base_model).temperature
    assert loss(fitted) <= min(loss(base_temperature), loss(fitted * 3), loss(fitted / 3))
