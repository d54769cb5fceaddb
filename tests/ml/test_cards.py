from __future__ import annotations

import pytest

from glamml.ml.cards import Bullets, Paragraph, Table, Text, known_limitations, model_card
from glamml.ml.cards.document import plain
from glamml.ml.splits import frozen_split
from glamml.ml.training import train_and_evaluate

SECTIONS = [
    "Intended use",
    "Training data",
    "Metrics against baselines",
    "Per-label results",
    "Calibration",
    "Known limitations",
    "How predictions are routed",
]


def section(card, title):
    (found,) = [s for s in card.sections if s.title == title]
    return found


def text_of(parts) -> str:
    return "".join(t.text for t in parts)


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
    card = model_card(object_type_card)
    assert card.title == "Model card: Object type, version 2"
    assert [s.title for s in card.sections] == SECTIONS


def test_the_card_compares_the_model_with_the_three_baselines(object_type_card):
    (intro, table) = section(model_card(object_type_card), "Metrics against baselines").blocks[:2]
    metrics = object_type_card["metrics"]
    assert isinstance(table, Table)
    assert table.header == ("", "accuracy", "macro-F1", "ECE", "coverage")
    first = table.rows[0]
    assert (first.name, first.strong) == ("this model", True)
    assert first.cells[:2] == (f"{metrics['accuracy']:.3f}", f"{metrics['macro_f1']:.3f}")
    assert [row.name for row in table.rows[1:]] == [
        "Proportional random guessing",
        "Majority label",
        "Rules (regular expressions)",
    ]
    assert Text("macro-F1", "strong") in intro.parts


def test_the_card_names_training_data_and_routing(object_type_card):
    card = model_card(object_type_card)
    bullets = section(card, "Training data").blocks[0]
    assert isinstance(bullets, Bullets)
    lines = [text_of(item) for item in bullets.items]
    assert "Sources: Tate collection" in lines
    assert "Licences: CC0 1.0" in lines
    assert "Labelled between 2025-01-01 and 2025-02-28" in lines
    fingerprint = object_type_card["training_data"]["fingerprint"]
    assert (
        Text("Training-data fingerprint (sha256): "),
        Text(fingerprint, "code"),
    ) in bullets.items
    routing = section(card, "How predictions are routed").blocks[0]
    assert isinstance(routing, Paragraph)
    assert Text("threshold", "strong") in routing.parts
    assert "Accept threshold: 0.90." in text_of(routing.parts)


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
    (bullets,) = section(model_card(object_type_card), "Known limitations").blocks
    assert [text_of(item) for item in bullets.items] == lines


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


def test_a_card_with_missing_parts_still_has_every_section():
    card = model_card({"field": {"key": "genre"}})
    assert card.title == "Model card: genre"
    assert [s.title for s in card.sections] == SECTIONS
    table = section(card, "Metrics against baselines").blocks[1]
    assert table.rows[2].name == "Majority label"
    assert table.rows[2].cells[0] == "not run"
    (only,) = section(card, "Per-label results").blocks
    assert text_of(only.parts) == "No held-out records to measure labels on."


# --- monitoring: the card says only what is true now ---------------------------------------------

WATCHED = {
    "live": True,
    "watched_since": "2026-03-01",
    "latest_day": "2026-03-09",
    "audit_rate": 0.02,
    "window_days": 7,
    "drift_threshold": 0.2,
    "min_records": 50,
    "precision": {
        "successes": 64,
        "n": 69,
        "estimate": 64 / 69,
        "low": 0.8414,
        "high": 0.9687,
        "expected": 0.95,
        "below_expected": False,
    },
    "drift": [
        {
            "title": "Script against the training records",
            "distance": 1.0,
            "line": 0.2,
            "crossed": True,
        },
        {
            "title": "Text length against the training records",
            "distance": 0.05,
            "line": 0.2,
            "crossed": False,
        },
    ],
    "open_alerts": 1,
}


def all_text(card) -> str:
    parts = []
    for s in card.sections:
        for block in s.blocks:
            if block.kind == "paragraph":
                parts.append(text_of(block.parts))
            elif block.kind == "bullets":
                parts += [text_of(item) for item in block.items]
            else:
                parts += [" | ".join((row.name, *row.cells)) for row in block.rows]
    return "\n".join(parts)


def test_a_card_claims_no_monitoring_unless_it_is_told_what_watches_the_model():
    card = model_card(synthetic_card())
    assert "Monitoring" not in [s.title for s in card.sections]
    assert "monitor" not in all_text(card).lower()


def test_a_live_version_nobody_has_snapshotted_says_it_is_not_monitored_yet():
    card = model_card(synthetic_card(), {"live": True, "watched_since": None})
    (paragraph,) = section(card, "Monitoring").blocks
    assert text_of(paragraph.parts).startswith("Not monitored yet: no monitoring snapshot")


def test_a_watched_version_says_what_is_watched_since_when_and_the_latest_figures():
    blocks = section(model_card(synthetic_card(), WATCHED), "Monitoring").blocks
    assert text_of(blocks[0].parts) == "Watched since 2026-03-01; latest snapshot 2026-03-09."
    watched = [text_of(item) for item in blocks[1].items]
    assert watched[0].startswith("Spot checks: 2% of the values it applies on its own")
    assert "an alert at 0.20" in watched[2]
    rows = {row.name: row for row in blocks[2].rows}
    assert rows["Live precision (spot checks)"].cells == (
        "93% (64 of 69; 95% Wilson interval 84%–97%)",
        "95% held-out",
    )
    assert rows["Script against the training records"].cells == ("1.000 (crossed)", "0.20")
    assert rows["Script against the training records"].strong
    assert text_of(blocks[3].parts) == "1 open alert."


def test_a_version_no_longer_live_says_nothing_watches_it_and_what_its_checks_found():
    retired = {**WATCHED, "live": False}
    text = all_text(model_card(synthetic_card(), retired))
    assert "This version is not live, so nothing watches its predictions now" in text
    assert "While it was live, spot checks confirmed 93% (64 of 69;" in text
    assert "Watched since" not in text


def test_the_card_says_when_and_by_whom_in_a_sentence(object_type_card):
    card = model_card(object_type_card)
    assert card.intro[0] == plain("Created 1 Mar 2025 12:00 UTC by registrar.")
    # A run nobody is named for stores its trigger: said as words, never "by manual".
    for trigger, words in (
        ("manual", "in a training run started by hand"),
        ("schedule", "by the retraining schedule, after new decisions arrived"),
        ("demo", "by the demo's set-up"),
    ):
        intro = model_card({**object_type_card, "created_by": trigger}).intro
        assert intro[0] == plain(f"Created 1 Mar 2025 12:00 UTC {words}.")
