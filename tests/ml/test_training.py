from __future__ import annotations

import json

import pytest

from glamml.ml.training import TrainingResult, train_language_model, training_fingerprint


def test_it_trains_on_catalogue_titles_and_reports_held_out_metrics(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    result = train_language_model(texts, labels, test_size=0.2, seed=0, base=base_model)
    assert isinstance(result, TrainingResult)
    metrics = result.metrics
    assert metrics["evaluated_on"] == "held-out split of the given examples"
    assert metrics["n_train"] + metrics["n_test"] == len(texts)
    assert metrics["n"] == metrics["n_test"] == len(result.split["test"])
    assert not set(result.split["train"]) & set(result.split["test"])
    # Every label with at least two examples is held out at least once; Russian has one.
    test_labels = {labels[i] for i in result.split["test"]}
    assert "rus" not in test_labels
    assert {"eng", "fin", "swe", "sme", "nld"} <= test_labels
    assert metrics["accuracy"] >= 0.85
    assert 0.0 <= metrics["ece"] <= 1.0
    assert metrics["calibration"]["method"].startswith("temperature scaling")
    assert result.model.params()["n_in_domain_examples"] == metrics["n_train"]
    json.dumps(metrics)


def test_the_split_and_the_model_are_reproducible(base_model, catalogue_titles):
    texts, labels = catalogue_titles
    first = train_language_model(texts, labels, seed=3, base=base_model)
    second = train_language_model(texts, labels, seed=3, base=base_model)
    assert first.split == second.split
    assert first.metrics["accuracy"] == second.metrics["accuracy"]
    assert first.model.hyper.temperature == second.model.hyper.temperature


def test_without_examples_the_base_model_is_evaluated_on_the_shipped_sample(base_model):
    result = train_language_model([], [], base=base_model)
    assert result.model is base_model
    assert "shipped" in result.metrics["evaluated_on"]
    assert result.metrics["n_train"] == 0
    assert result.metrics["n_test"] >= 300
    assert result.metrics["accuracy"] >= 0.93


def test_new_labels_become_classes(base_model, ancient_greek_titles, catalogue_titles):
    texts = ancient_greek_titles[0] + catalogue_titles[0]
    labels = ancient_greek_titles[1] + catalogue_titles[1]
    result = train_language_model(texts, labels, base=base_model)
    assert "grc" in result.model.classes_
    assert result.metrics["per_label"]["grc"]["support"] == 6  # 20% of 30


def test_unusable_examples_are_skipped_and_counted(base_model, catalogue_titles):
    texts = [*catalogue_titles[0], "1887", "Some title", "Another title"]
    labels = [*catalogue_titles[1], "eng", "elvish", "und"]
    result = train_language_model(texts, labels, base=base_model)
    assert result.metrics["skipped"] == {"unknown_label": 1, "not_a_language": 1, "no_text": 1}
    assert result.metrics["n_train"] + result.metrics["n_test"] == len(catalogue_titles[0])


def test_the_fingerprint_ignores_order_but_not_content():
    texts, labels = ["Suomen historia", "The history of Rome"], ["fin", "eng"]
    fingerprint = training_fingerprint(texts, labels)
    assert fingerprint == training_fingerprint(texts[::-1], labels[::-1])
    assert fingerprint != training_fingerprint(texts, ["fin", "fin"])
    assert fingerprint != training_fingerprint(["Suomen historia"], ["fin"])
    assert len(fingerprint) == 64


def test_mismatched_lengths_are_refused(base_model):
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        train_language_model(["a", "b"], ["eng"], base=base_model)
