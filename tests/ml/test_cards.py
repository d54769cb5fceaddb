from __future__ import annotations

import pytest

from glamml.ml.cards import known_limitations, model_card_markdown
from glamml.ml.splits import frozen_split
from glamml.ml.training import train_and_evaluate

SECTIONS = [
    "## Intended use",
    "## Training data",
    "## Metrics against baselines",
    "## Per-label results",
    "## Calibration",
    "## Known limitations",
    "## How predictions are routed",
]


@pytest.fixture(scope="module")
def object_type_card(label_samples) -> dict:
    texts, labels = label_samples["tate-object-type"]
    keys = [str(i) for i in range(len(texts))]
    held = frozen_split(keys, labels, test_size=0.3)
    train = [i for i, key in enumerate(keys) if key not in held]
    test = [i for i, key in enumerate(keys) if key in held]
    report = train_and_evaluate(
        kind="label",
        train_texts=[texts[i] for i in train],
        train_labels=[labels[i] for i in train],
        test_texts=[texts[i] for i in test],
        test_labels=[labels[i] for i in test],
        rules={"painting": [r"\boil paint\b"], "on paper, print": [r"\b(etching|lithograph)\b"]},
    )
    return {
        "field": {
            "key": "object_type",
            "name": "Object type",
            "labels": sorted(set(labels) | {"time-based media"}),
        },
        "version": 2,
        "created_at": "2025-03-01T12:00:00+00:00",
        "created_by": "registrar",
        "intended_use": "Suggest the object type of Tate artworks from title and medium.",
        "training_data": {
            "sources": ["Tate collection"],
            "label_counts": report.metrics["label_counts_train"],
            "n_train": report.metrics["n_train"],
            "n_test": report.metrics["n_test"],
            "date_range": ["2025-01-01", "2025-02-28"],
            "licences": ["CC0 1.0"],
            "fingerprint": report.fingerprint,
        },
        "params": report.model.params(),
        "metrics": report.metrics,
        "baselines": report.baselines,
        "routing": {"mode": "threshold", "threshold": 0.9},
        "metric": "macro_f1",
    }


def test_the_card_has_every_section_in_order(object_type_card):
    markdown = model_card_markdown(object_type_card)
    assert markdown.startswith("# Model card: Object type, version 2\n")
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)


def test_the_card_compares_the_model_with_the_three_baselines(object_type_card):
    markdown = model_card_markdown(object_type_card)
    metrics = object_type_card["metrics"]
    row = f"| **this model** | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} |"
    assert row in markdown
    for name in ("Proportional random guessing", "Majority label", "Rules (regular expressions)"):
        assert f"| {name} |" in markdown
    assert "The field optimises **macro-F1**" in markdown


def test_the_card_names_training_data_and_routing(object_type_card):
    markdown = model_card_markdown(object_type_card)
    assert "- Sources: Tate collection" in markdown
    assert "- Licences: CC0 1.0" in markdown
    assert "- Labelled between 2025-01-01 and 2025-02-28" in markdown
    assert object_type_card["training_data"]["fingerprint"] in markdown
    assert "Decision mode: **threshold**." in markdown
    assert "Accept threshold: 0.90." in markdown


def test_the_limitations_follow_from_the_numbers(object_type_card):
    lines = known_limitations(object_type_card)
    counts = object_type_card["training_data"]["label_counts"]
    few = sorted(label for label, n in counts.items() if n < 10)
    assert few, "the fixture should have rare labels"
    assert lines[0].startswith("Labels with fewer than 10 training examples: ")
    for label in few:
        assert f"{label} ({counts[label]})" in lines[0]
    assert any(
        line.startswith("Labels in the field's vocabulary with no training examples")
        and "time-based media" in line
        for line in lines
    )
    markdown = model_card_markdown(object_type_card)
    for line in lines:
        assert f"- {line}" in markdown


def synthetic_card(**metrics_overrides) -> dict:
    metrics = {
        "n": 12,
        "n_test": 12,
        "accuracy": 0.5,
        "macro_f1": 0.4,
        "ece": 0.25,
        "mean_confidence": 0.75,
        "per_label": {
            "Fiction": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 4, "predicted": 0},
            "Non-fiction": {
                "precision": 0.6,
                "recall": 0.75,
                "f1": 0.67,
                "support": 8,
                "predicted": 10,
            },
        },
        "label_counts_train": {"Fiction": 5, "Non-fiction": 30, "Poetry": 2},
        "label_counts_test": {"Fiction": 4, "Non-fiction": 8},
        "calibration": {"method": "none"},
        "reliability": [],
        "threshold_at_precision": {"0.95": None, "0.99": None},
        **metrics_overrides,
    }
    return {"field": {"key": "genre", "name": "Genre"}, "metrics": metrics, "baselines": {}}


def test_a_weak_small_uncalibrated_model_gets_every_warning():
    lines = known_limitations(synthetic_card())
    text = "\n".join(lines)
    assert "Labels with fewer than 10 training examples: Fiction (5); Poetry (2)." in text
    assert "Labels never predicted on the held-out records: Fiction." in text
    assert "Labels with recall below 0.5 (the model misses most of them): Fiction (0.00)." in text
    assert "expected calibration error 0.250" in text
    assert "Small held-out set (12 records)" in text
    assert "Labels with no held-out records, so not measured at all: Poetry." in text
    assert "Probabilities are not calibrated" in text


def test_a_card_with_missing_parts_still_renders():
    markdown = model_card_markdown({"field": {"key": "genre"}})
    for section in SECTIONS:
        assert section in markdown
    assert "| Majority label | not run |" in markdown
    assert "No held-out records to measure labels on." in markdown


def test_markdown_in_labels_cannot_break_the_tables():
    card = synthetic_card()
    card["metrics"]["per_label"] = {
        "a|b": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    }
    assert "| a\\|b |" in model_card_markdown(card)
