from __future__ import annotations

from collections import Counter

import pytest

from glamml.ml.baselines import (
    Baseline,
    MajorityBaseline,
    RulesBaseline,
    RulesError,
    StratifiedBaseline,
    nested_repeat,
    validate_rules,
)

LABELS = ["Non-fiction"] * 75 + ["Fiction"] * 25


def test_the_stratified_baseline_guesses_in_proportion_to_the_training_labels():
    baseline = StratifiedBaseline(seed=0).fit([""] * len(LABELS), LABELS)
    guesses = [top[0][0] for top in baseline.predict_top_k(["a title"] * 2000)]
    share = Counter(guesses)["Fiction"] / len(guesses)
    assert 0.21 <= share <= 0.29


def test_the_stratified_baseline_is_reproducible_for_a_seed():
    texts = ["a title"] * 50
    first = StratifiedBaseline(seed=3).fit([], LABELS).predict_top_k(texts)
    second = StratifiedBaseline(seed=3).fit([], LABELS).predict_top_k(texts)
    other = StratifiedBaseline(seed=4).fit([], LABELS).predict_top_k(texts)
    assert first == second
    assert first != other


def test_the_stratified_baseline_states_the_drawn_labels_share_as_confidence():
    baseline = StratifiedBaseline(seed=0).fit([], LABELS)
    for top in baseline.predict_top_k(["x"] * 20, k=2):
        assert dict(top) == {"Non-fiction": 0.75, "Fiction": 0.25}
        assert len(top) == 2


def test_the_majority_baseline_always_answers_the_most_frequent_label():
    baseline = MajorityBaseline().fit([], LABELS)
    assert baseline.predict_top_k(["a", "b"]) == [[("Non-fiction", 0.75)]] * 2
    assert baseline.predict_top_k(["a"], k=3) == [[("Non-fiction", 0.75), ("Fiction", 0.25)]]


def test_the_majority_baseline_breaks_ties_by_label():
    baseline = MajorityBaseline().fit([], ["b", "a", "b", "a"])
    assert baseline.predict_top_k(["x"]) == [[("a", 0.5)]]


def test_baselines_need_training_labels():
    with pytest.raises(ValueError, match="at least one training label"):
        MajorityBaseline().fit([], [])


def test_rules_answer_with_the_first_matching_label_and_abstain_otherwise():
    rules = {
        "Fiction": [r"\bnovel\b", r"\bpoems?\b"],
        "Non-fiction": [r"\bhistory\b", r"\bnovel writing\b"],
    }
    baseline = RulesBaseline(rules)
    predictions = baseline.predict_top_k(
        [
            "The Heir of Redclyffe: a NOVEL",
            "A History of the County of Kent",
            "On novel writing",  # both match: Fiction comes first
            "Travels in the interior of Africa",
        ]
    )
    assert predictions == [
        [("Fiction", 1.0)],
        [("Non-fiction", 1.0)],
        [("Fiction", 1.0)],
        [],
    ]
    assert baseline.n_rules == 4


def test_no_rules_means_every_text_is_an_abstention():
    baseline = RulesBaseline({})
    assert baseline.predict_top_k(["anything", "at all"]) == [[], []]
    assert baseline.n_rules == 0


def test_every_baseline_follows_the_protocol():
    for baseline in (StratifiedBaseline(), MajorityBaseline(), RulesBaseline({"a": ["x"]})):
        assert isinstance(baseline, Baseline)
    assert {StratifiedBaseline.name, MajorityBaseline.name, RulesBaseline.name} == {
        "stratified",
        "majority",
        "rules",
    }


def test_an_invalid_regular_expression_is_named_with_its_label_and_pattern():
    errors = validate_rules({"Fiction": ["(novel", r"\btale\b"]}, field="genre")
    assert errors == [
        "genre 'Fiction': pattern '(novel' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0"
    ]


def test_rules_that_would_match_everything_or_are_malformed_are_reported():
    errors = validate_rules(
        {"Fiction": ["", "a*"], "Non-fiction": "history", "": ["x"], "Poetry": [3]}
    )
    assert errors == [
        "label 'Fiction': pattern '' is empty, so it would match every record",
        "label 'Fiction': pattern 'a*' matches empty text, so it would match every record",
        "label 'Non-fiction': patterns must be a list of regular expressions",
        "label '': a rule needs a non-empty label",
        "label 'Poetry': pattern 3 is not text",
    ]
    assert validate_rules(["not", "a", "mapping"]) == [
        "rules must map each label to a list of patterns, got list"
    ]


def test_rules_for_labels_outside_the_vocabulary_are_reported():
    errors = validate_rules({"Poetry": ["poem"]}, field="genre", labels=["Fiction", "Non-fiction"])
    assert errors == ["genre 'Poetry': not one of the field's labels"]


def test_valid_rules_have_no_errors():
    assert validate_rules({"Fiction": [r"\bnovel\b"], "Non-fiction": []}) == []


def test_invalid_rules_cannot_build_a_baseline():
    with pytest.raises(RulesError) as caught:
        RulesBaseline({"Fiction": ["(novel"]})
    assert caught.value.errors[0].startswith("label 'Fiction': pattern '(novel'")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(?:x*y?)+z", r"(\w+\s?)+$", r"roman|(x+)+y"])
def test_a_pattern_that_repeats_a_repetition_is_refused_before_it_can_hang_a_worker(pattern):
    [error] = validate_rules({"Fiction": [pattern]}, field="genre")
    assert error.startswith(f"genre 'Fiction': pattern {pattern!r} repeats a part that itself")


@pytest.mark.parametrize("pattern", [r"\bnovels?\b", r"(ab)+", r"(a{1,3})x", r"(?>a+)+", "a+b+"])
def test_patterns_that_cannot_backtrack_for_ever_are_accepted(pattern):
    assert not nested_repeat(pattern)
    assert validate_rules({"Fiction": [pattern]}) == []
