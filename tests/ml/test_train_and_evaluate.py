from __future__ import annotations

import json

import pytest

from glamml.ml.langid import LanguageIdentifier
from glamml.ml.splits import frozen_split
from glamml.ml.textclf import TextClassifier
from glamml.ml.training import (
    TrainingDataError,
    TrainingReport,
    beats_rules,
    is_better,
    train_and_evaluate,
    training_fingerprint,
)

GENRE_RULES = {"Fiction": [r"\bnovel\b", r"\bpoems?\b", r"\btales?\b"], "Non-fiction": [r"histor"]}


def split(texts: list[str], labels: list[str], *, seed: int = 0):
    keys = [f"record-{i}" for i in range(len(texts))]
    test = frozen_split(keys, labels, test_size=0.25, seed=seed)
    sides: dict[str, tuple[list[str], list[str]]] = {"train": ([], []), "test": ([], [])}
    for key, text, label in zip(keys, texts, labels, strict=True):
        side = sides["test" if key in test else "train"]
        side[0].append(text)
        side[1].append(label)
    return {
        "train_texts": sides["train"][0],
        "train_labels": sides["train"][1],
        "test_texts": sides["test"][0],
        "test_labels": sides["test"][1],
    }


@pytest.fixture(scope="module")
def genre_report(label_samples) -> tuple[TrainingReport, dict]:
    data = split(*label_samples["bl-genre"])
    return train_and_evaluate(kind="label", rules=GENRE_RULES, **data), data


def test_a_label_field_gets_a_model_and_three_baselines_on_the_same_records(genre_report):
    report, data = genre_report
    assert isinstance(report.model, TextClassifier)
    n_test = len(data["test_texts"])
    assert report.metrics["n_test"] == report.metrics["n"] == n_test
    assert report.metrics["n_train"] == len(data["train_texts"])
    assert set(report.baselines) == {"stratified", "majority", "rules"}
    for metrics in report.baselines.values():
        assert metrics["n"] == n_test
        assert {"accuracy", "macro_f1", "ece", "per_label", "confusion"} <= set(metrics)
    assert report.baselines["rules"]["n_rules"] == 4
    assert report.fingerprint == training_fingerprint(data["train_texts"], data["train_labels"])
    json.dumps(report.metrics)
    json.dumps(report.baselines)


def test_the_metrics_hold_what_the_threshold_screen_and_the_card_need(genre_report):
    report, data = genre_report
    metrics = report.metrics
    confusion = metrics["confusion"]
    assert confusion["labels"] == ["Fiction", "Non-fiction"]
    assert sum(map(sum, confusion["matrix"])) == metrics["n_test"]
    assert all({"confidence", "accuracy", "count"} <= set(b) for b in metrics["reliability"])
    assert sum(b["count"] for b in metrics["reliability"]) == metrics["n_test"]
    assert all(
        {"threshold", "precision", "coverage"} <= set(p) for p in metrics["precision_coverage"]
    )
    assert set(metrics["threshold_at_precision"]) == {"0.95", "0.99"}
    assert metrics["label_counts_train"] == {
        label: data["train_labels"].count(label) for label in set(data["train_labels"])
    }
    assert sum(metrics["label_counts_test"].values()) == metrics["n_test"]
    assert isinstance(metrics["warnings"], list)
    assert metrics["coverage"] == 1.0


def test_the_model_beats_the_majority_and_proportional_baselines(genre_report):
    report, _ = genre_report
    for name in ("stratified", "majority"):
        assert report.metrics["accuracy"] > report.baselines[name]["accuracy"]
        assert report.metrics["macro_f1"] > report.baselines[name]["macro_f1"]
    assert beats_rules(report.metrics, report.baselines, metric="macro_f1")


def test_rules_that_abstain_count_as_wrong_and_not_covered(genre_report):
    report, _ = genre_report
    rules = report.baselines["rules"]
    assert 0 < rules["coverage"] < 1
    assert rules["abstentions"] == round(rules["n"] * (1 - rules["coverage"]))
    assert rules["accuracy"] <= rules["coverage"]
    assert sum(rules["confusion"]["abstained"]) == rules["abstentions"]
    assert max(p["coverage"] for p in rules["precision_coverage"]) == pytest.approx(
        rules["coverage"]
    )


def test_without_rules_the_rules_baseline_scores_nothing(label_samples):
    report = train_and_evaluate(kind="label", **split(*label_samples["bl-genre"]))
    assert report.baselines["rules"]["n_rules"] == 0
    assert report.baselines["rules"]["accuracy"] == 0.0
    assert report.baselines["rules"]["coverage"] == 0.0
    assert beats_rules(report.metrics, report.baselines, metric="accuracy")


def test_an_invalid_rule_is_left_out_and_reported(label_samples):
    rules = {"Fiction": ["(novel", r"\bnovel\b"], "Non-fiction": [r"histor"]}
    report = train_and_evaluate(kind="label", rules=rules, **split(*label_samples["bl-genre"]))
    assert report.baselines["rules"]["n_rules"] == 2
    assert report.baselines["rules"]["errors"] == [
        "label 'Fiction': pattern '(novel' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0"
    ]
    assert any(w.startswith("rules baseline: label 'Fiction'") for w in report.metrics["warnings"])


def test_labels_the_model_never_saw_are_reported(label_samples):
    data = split(*label_samples["bl-genre"])
    data["test_texts"].append("Carmina latina")
    data["test_labels"].append("Poetry")
    report = train_and_evaluate(kind="label", **data)
    assert any("'Poetry'" in w and "cannot predict" in w for w in report.metrics["warnings"])
    assert report.metrics["per_label"]["Poetry"]["recall"] == 0.0


def test_training_data_errors_reach_the_caller():
    with pytest.raises(TrainingDataError, match="at least two labels"):
        train_and_evaluate(
            kind="label",
            train_texts=["A tale", "A novel"],
            train_labels=["Fiction", "Fiction"],
            test_texts=[],
            test_labels=[],
        )
    with pytest.raises(TrainingDataError, match="no training examples"):
        train_and_evaluate(
            kind="label", train_texts=[], train_labels=[], test_texts=[], test_labels=[]
        )
    with pytest.raises(ValueError, match="kind must be"):
        train_and_evaluate(
            kind="genre", train_texts=[], train_labels=[], test_texts=[], test_labels=[]
        )


def test_a_language_field_trains_the_language_identifier(catalogue_titles):
    texts, labels = catalogue_titles
    data = split(texts, labels)
    # Without ``base``: the shipped model is loaded and checked, as the app does.
    report = train_and_evaluate(kind="language", rules={"fin": [r"\bja\b"]}, **data)
    assert isinstance(report.model, LanguageIdentifier)
    assert report.model.params()["n_in_domain_examples"] == report.metrics["n_train"]
    assert report.metrics["accuracy"] >= 0.8
    assert report.metrics["calibration"]["method"].startswith("whole-record temperature scaling")
    assert report.metrics["accuracy"] > report.baselines["majority"]["accuracy"]
    assert report.baselines["rules"]["n_rules"] == 1
    # The confusion matrix names the languages of this data, not every language the base knows.
    assert set(report.metrics["confusion"]["labels"]) <= set(labels)
    json.dumps(report.metrics)


def test_language_labels_are_normalised_and_unusable_ones_skipped(base_model):
    report = train_and_evaluate(
        kind="language",
        base=base_model,
        train_texts=["Suomen historia", "The history of Rome", "1887"],
        train_labels=["fi", "English", "eng"],
        test_texts=["Ruotsin historia", "A history of Kent", "Some title"],
        test_labels=["fin", "en", "elvish"],
        rules={"English": [r"\bhistory\b"]},
    )
    assert report.metrics["label_counts_train"] == {"eng": 1, "fin": 1}
    assert report.metrics["label_counts_test"] == {"eng": 1, "fin": 1}
    assert any("skipped 1 training" in w for w in report.metrics["warnings"])
    assert any("skipped 1 held-out" in w for w in report.metrics["warnings"])
    assert report.baselines["rules"]["per_label"]["eng"]["recall"] == 1.0


def test_with_no_language_examples_the_base_model_is_measured(base_model):
    report = train_and_evaluate(
        kind="language",
        base=base_model,
        train_texts=[],
        train_labels=[],
        test_texts=["Suomen historia", "The history of Rome"],
        test_labels=["fin", "eng"],
    )
    assert report.metrics["n_train"] == 0
    assert any("shipped base model" in w for w in report.metrics["warnings"])
    assert report.baselines["majority"]["coverage"] == 0.0


# -- promotion gates ------------------------------------------------------------------------------


def test_a_candidate_is_better_when_there_is_no_active_version_or_it_is_not_worse():
    assert is_better({"macro_f1": 0.5}, None, metric="macro_f1")
    assert is_better({"macro_f1": 0.8}, {"macro_f1": 0.8}, metric="macro_f1")
    assert not is_better({"macro_f1": 0.79}, {"macro_f1": 0.8}, metric="macro_f1")
    assert is_better({"accuracy": 0.9, "macro_f1": 0.1}, {"accuracy": 0.8}, metric="accuracy")
    with pytest.raises(ValueError, match="metric must be"):
        is_better({}, None, metric="f1")


def test_a_model_must_be_strictly_better_than_the_rules():
    baselines = {"rules": {"accuracy": 0.6, "macro_f1": 0.5, "n_rules": 3}}
    assert beats_rules({"accuracy": 0.61}, baselines, metric="accuracy")
    assert not beats_rules({"accuracy": 0.6}, baselines, metric="accuracy")
    assert not beats_rules({"macro_f1": 0.4}, baselines, metric="macro_f1")
    empty = {"rules": {"accuracy": 0.0, "macro_f1": 0.0, "n_rules": 0}}
    assert beats_rules({"accuracy": 0.01}, empty, metric="accuracy")
    assert beats_rules({"accuracy": 0.01}, {}, metric="accuracy")
    assert not beats_rules({"accuracy": 0.0}, {}, metric="accuracy")
