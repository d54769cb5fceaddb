"""Drift against the previous window, with real records: every figure a snapshot compares with
the training data (labels, confidence, text length, script, unseen trigrams) and the
unknown-label rate are also compared with the window before, by the same test."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalogue.models import Alert, Decision, DecisionPolicy, Prediction, Snapshot, SpotCheck
from catalogue.services.decisions import decision_make
from catalogue.services.monitoring.alerts import monitoring_run
from catalogue.services.monitoring.report import monitoring_report
from catalogue.services.monitoring.report_json import report_as_json
from catalogue.services.policy import policy_update
from tests.catalogue.monitoring_data import (
    TRAINING_ROWS,
    english_rows,
    import_rows,
    japanese_rows,
    trained_on_english,
)
from tests.catalogue.test_monitoring import _state

pytestmark = pytest.mark.django_db

INPUTS = ("length_previous", "script_previous", "unseen_previous")


def _predicted_ten_days_ago(field, capture, tmp_path, rows, *, slug):
    """Import and predict ``rows``, then date all of it ten days back: the previous window."""
    with capture(execute=True):
        import_rows(tmp_path, rows, slug=slug, name=slug)
    earlier = timezone.now() - timedelta(days=10)
    Prediction.objects.filter(field=field).update(created_at=earlier)
    SpotCheck.objects.filter(field=field).update(created_at=earlier)
    Decision.objects.filter(prediction__field=field).update(created_at=earlier)


def _today(field):
    return Snapshot.objects.get(field=field, collection__isnull=True, day=timezone.localdate())


def test_inputs_that_change_from_the_previous_window_score_high_and_alert(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    field = trained_on_english(genre, tmp_path)
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 168]
    _predicted_ten_days_ago(field, capture, tmp_path, fresh, slug="bl-more")
    with capture(execute=True):
        import_rows(tmp_path, japanese_rows(), slug="jp", name="Japanese")

    monitoring_run(field=field)

    scores = _today(field).drift["scores"]
    for name in INPUTS:
        assert scores[name]["crossed"], (name, scores[name])
        assert (scores[name]["n"], scores[name]["n_reference"]) == (100, 168)
    assert scores["script_previous"]["distance"] > 0.9
    unseen = scores["unseen_previous"]
    assert unseen["live_mean"] > 3 * unseen["reference_mean"]
    (alert,) = Alert.objects.filter(field=field, collection__isnull=True, day=timezone.localdate())
    assert set(INPUTS) <= set(alert.details)
    assert "script against the previous window: 1.00 (line 0.20, 100 records against 168)" in (
        alert.message
    )
    # The same figures for scripts, marked with what they compare the window with.
    drift = report_as_json(monitoring_report(field=field))["drift"]
    assert drift["script_previous"]["against"] == "previous"
    assert drift["script_previous"]["crossed"] is True
    assert drift["script"]["against"] == "reference"

    state = _state(field)
    monitoring_run(field=field)
    assert _state(field) == state


def test_a_window_like_the_previous_one_scores_low_and_raises_no_alert(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    field = trained_on_english(genre, tmp_path)
    rows = english_rows()[TRAINING_ROWS:]
    _predicted_ten_days_ago(field, capture, tmp_path, rows[:168], slug="bl-earlier")
    with capture(execute=True):
        import_rows(tmp_path, rows[168:336], slug="bl-now", name="BL now")

    monitoring_run(field=field)

    scores = _today(field).drift["scores"]
    for name in (*INPUTS, "labels_previous", "confidence_previous"):
        assert not scores[name]["crossed"], (name, scores[name])
        assert scores[name]["n"] == scores[name]["n_reference"] == 168
        assert scores[name]["distance"] < 0.2, (name, scores[name])
    assert Alert.objects.filter(field=field).count() == 0


@pytest.fixture
def genre_with_periodicals(db):
    """The genre field with a third label that no training record has."""
    from catalogue.services.fields import field_create

    return field_create(
        key="genre",
        name="Genre",
        labels=[
            ("Fiction", "Fiction"),
            ("Non-fiction", "Non-fiction"),
            ("Periodical", "Periodical"),
        ],
        text_source=["title"],
        metric="macro_f1",
    )


def test_labels_people_give_that_the_model_cannot_predict_are_compared_with_the_window_before(
    genre_with_periodicals, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    # Last week reviewers accepted the model's genres; this week they correct to a genre it never
    # learnt. The training data holds no decisions, so only the previous window can show this.
    capture = django_capture_on_commit_callbacks
    field = trained_on_english(genre_with_periodicals, tmp_path)
    policy_update(policy=field.policy, changed_by=None, mode=DecisionPolicy.Mode.REVIEW)
    rows = english_rows()[TRAINING_ROWS:]

    def decide(slug: str, chunk: list[dict[str, str]], **how: str) -> None:
        with capture(execute=True):
            collection = import_rows(tmp_path, chunk, slug=slug, name=slug)
        queued = Prediction.objects.filter(field=field, record__collection=collection)
        for prediction in queued.order_by("id")[:60]:
            decision_make(prediction=prediction, reviewer=cataloguer, refit=False, **how)

    decide("bl-earlier", rows[:168], action="accept")
    earlier = timezone.now() - timedelta(days=10)
    Prediction.objects.filter(field=field).update(created_at=earlier)
    Decision.objects.filter(prediction__field=field).update(created_at=earlier)
    decide("bl-now", rows[168:336], action="correct", label="Periodical")

    monitoring_run(field=field)

    scores = _today(field).drift["scores"]
    unknown = scores["unknown_previous"]
    assert (unknown["n"], unknown["n_reference"]) == (60, 60)
    assert unknown["distance"] == 1.0
    assert unknown["crossed"]
    assert "unknown" not in scores
    # The same records' inputs did not change from one window to the next.
    assert not any(scores[name]["crossed"] for name in INPUTS)
