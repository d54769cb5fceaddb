"""Watching a live model with real records: drift, spot checks, live precision, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from catalogue.models import (
    Alert,
    Decision,
    DecisionPolicy,
    FieldValue,
    Prediction,
    Snapshot,
    SpotCheck,
    TrainingRun,
)
from catalogue.services.decisions import decision_make
from catalogue.services.flags import flag_create
from catalogue.services.monitoring.alerts import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_email_send,
    alert_retrain,
    monitoring_run,
)
from catalogue.services.monitoring.policy import monitoring_policy_update
from catalogue.services.monitoring.spotchecks import live_precision, spot_checks_select
from catalogue.services.moves import record_move
from catalogue.services.policy import policy_update
from catalogue.services.routing import SPOT_CHECK
from catalogue.tasks import monitor_fields
from tests.catalogue.monitoring_data import (
    TRAINING_ROWS,
    english_rows,
    finnish_rows,
    genre_rows,
    import_rows,
    japanese_rows,
    trained_on_english,
)
from tests.conftest import train
from tests.factories import CollectionFactory, RecordFactory, spot_checked_prediction

pytestmark = pytest.mark.django_db


def _import_and_predict(capture, tmp_path, rows, *, slug, name):
    """Import a collection; its records are predicted once the import commits (in-process)."""
    with capture(execute=True):
        collection = import_rows(tmp_path, rows, slug=slug, name=name)
    return collection


def _trained_then_japanese(genre, tmp_path, capture):
    field = trained_on_english(genre, tmp_path)
    _import_and_predict(capture, tmp_path, japanese_rows(), slug="jp", name="Jp")
    return field


def _alerts(field, kind=None):
    alerts = Alert.objects.filter(field=field).select_related("collection")
    return list(alerts.filter(kind=kind) if kind else alerts)


def test_importing_japanese_records_into_a_field_trained_on_english_raises_a_drift_alert(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    japanese = _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, japanese_rows(), slug="jp", name="Japanese"
    )
    assert Prediction.objects.filter(field=field, record__collection=japanese).count() == 100

    monitoring_run(field=field)

    drift = [a for a in _alerts(field, Alert.Kind.DRIFT) if a.collection == japanese]
    assert len(drift) == 1
    assert {"script", "length"} <= set(drift[0].details)
    assert drift[0].details["script"]["distance"] > 0.9
    assert "script against the training records: 1.00" in drift[0].message


def test_importing_finnish_records_into_a_field_trained_on_english_raises_a_drift_alert(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    finnish = _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, finnish_rows(), slug="fi", name="Finnish"
    )

    monitoring_run(field=field)

    drift = [a for a in _alerts(field, Alert.Kind.DRIFT) if a.collection == finnish]
    assert len(drift) == 1
    assert "unseen" in drift[0].details
    unseen = drift[0].details["unseen"]
    assert unseen["live_mean"] > 3 * unseen["reference_mean"]


def test_importing_more_english_records_like_the_training_data_raises_no_alert(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200]
    more = _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, fresh, slug="bl-more", name="More BL"
    )
    assert Prediction.objects.filter(field=field, record__collection=more).count() == 200

    monitoring_run(field=field)

    assert _alerts(field) == []
    snapshot = Snapshot.objects.get(field=field, collection=more)
    scores = snapshot.drift["scores"]
    assert {"labels", "confidence", "length", "script", "unseen"} <= set(scores)
    assert not any(score["crossed"] for score in scores.values())


def _spot_checks_of_english(field, tmp_path, capture, *, rate=0.5):
    monitoring_policy_update(field=field, changed_by=None, audit_rate=rate)
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200]
    _import_and_predict(capture, tmp_path, fresh, slug="bl-more", name="More BL")
    return list(SpotCheck.objects.filter(field=field).select_related("prediction"))


def test_a_stable_random_share_of_applied_values_goes_to_people_while_staying_applied(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    checks = _spot_checks_of_english(field, tmp_path, django_capture_on_commit_callbacks)

    assert checks
    for check in checks:
        prediction = check.prediction
        assert prediction.audit_rank < 0.5
        assert (prediction.status, prediction.routed_by) == ("queued", SPOT_CHECK)
        value = FieldValue.objects.get(record=prediction.record, field=field, is_current=True)
        assert (value.source, value.label, value.prediction_id) == (
            "model",
            prediction.label,
            prediction.id,
        )
    # Applied values above the rate stay applied, without a spot check.
    assert not Prediction.objects.filter(field=field, status="applied", audit_rank__lt=0.5).exists()
    assert spot_checks_select(field=field) == 0
    # A threshold change re-routes waiting predictions but leaves spot checks where they are.
    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=field.policy, changed_by=None, threshold=0.99)
    assert set(
        Prediction.objects.filter(spot_check__isnull=False).values_list("status", "routed_by")
    ) == {("queued", SPOT_CHECK)}


def test_applied_values_corrected_in_spot_checks_raise_a_precision_alert(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = trained_on_english(genre, tmp_path)
    checks = _spot_checks_of_english(field, tmp_path, django_capture_on_commit_callbacks)
    monitoring_run(field=field)
    assert _alerts(field, Alert.Kind.PRECISION) == []

    for check in checks[:12]:
        wrong = "Fiction" if check.prediction.label == "Non-fiction" else "Non-fiction"
        decision_make(
            prediction=check.prediction, reviewer=cataloguer, action="correct", label=wrong
        )
    monitoring_run(field=field)

    precision = live_precision(field=field, model_version=checks[0].model_version)
    assert (precision.overall.successes, precision.overall.n) == (0, 12)
    assert precision.below_expected
    alerts = _alerts(field, Alert.Kind.PRECISION)
    assert [a.collection for a in alerts if a.collection is None] == [None]
    assert "0 of 12 spot checks confirmed" in alerts[0].message


def test_applied_values_confirmed_in_spot_checks_raise_no_precision_alert(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = trained_on_english(genre, tmp_path)
    checks = _spot_checks_of_english(field, tmp_path, django_capture_on_commit_callbacks)
    for check in checks[:12]:
        decision_make(prediction=check.prediction, reviewer=cataloguer, action="accept")

    monitoring_run(field=field)

    precision = live_precision(field=field, model_version=checks[0].model_version)
    assert (precision.overall.successes, precision.overall.n) == (12, 12)
    assert not precision.below_expected
    assert _alerts(field, Alert.Kind.PRECISION) == []
    accepted = FieldValue.objects.filter(field=field, source="human", action="accepted")
    assert accepted.count() == 12


def test_a_sensitive_label_is_never_applied_automatically(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    field.labels.filter(code="Fiction").update(is_sensitive=True)
    monitoring_policy_update(field=field, changed_by=None, audit_rate=0.5, on_alert="retrain")
    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=field.policy, changed_by=None, mode=DecisionPolicy.Mode.AUTO)
    japanese = japanese_rows()
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200]
    _import_and_predict(django_capture_on_commit_callbacks, tmp_path, fresh, slug="en", name="En")
    # Drift starts a retraining run, whose new version re-predicts everything.
    _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, japanese, slug="jp", name="Jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        monitoring_run(field=field)
    assert TrainingRun.objects.filter(field=field, trigger="monitoring").exists()

    fiction = Prediction.objects.filter(field=field, label="Fiction")
    assert fiction.exists()
    assert not fiction.filter(status="applied").exists()
    assert set(fiction.values_list("routed_by", flat=True)) == {"sensitive-label"}
    assert not FieldValue.objects.filter(field=field, source="model", label="Fiction").exists()


def _state(field):
    return (
        sorted(
            Snapshot.objects.filter(field=field).values_list(
                "collection_id", "day", "stats", "drift", "taken_at"
            ),
            key=lambda row: (row[0] or 0, row[1]),
        ),
        sorted(Alert.objects.filter(field=field).values_list("id", "kind", "emailed_at")),
        TrainingRun.objects.count(),
        SpotCheck.objects.count(),
        len(mail.outbox),
    )


def test_running_the_monitoring_task_twice_in_a_day_changes_nothing(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    monitoring_policy_update(
        field=field, changed_by=None, on_alert="retrain", email_to="curator@example.org"
    )
    _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, japanese_rows(), slug="jp", name="Jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = monitor_fields()
    assert first["genre"]["alerts"] >= 1
    state = _state(field)
    assert len(mail.outbox) == first["genre"]["alerts"]

    with django_capture_on_commit_callbacks(execute=True):
        second = monitor_fields()

    assert second["genre"] == {"spot_checked": 0, "snapshots": 0, "alerts": 0}
    assert _state(field) == state


def test_an_alert_is_acknowledged_once_and_kept_with_who_and_when(
    genre, tmp_path, django_capture_on_commit_callbacks, admin_user
):
    field = _trained_then_japanese(genre, tmp_path, django_capture_on_commit_callbacks)
    monitoring_run(field=field)
    alert = _alerts(field, Alert.Kind.DRIFT)[0]

    alert_acknowledge(alert=alert, user=admin_user)

    alert.refresh_from_db()
    assert alert.acknowledged_by == admin_user
    assert alert.acknowledged_at is not None
    with pytest.raises(AlertAlreadyAcknowledged, match=admin_user.username):
        alert_acknowledge(alert=alert, user=admin_user)
    # Acknowledged is not forgotten, and the same drift in the same window raises nothing new.
    monitoring_run(field=field)
    assert Alert.objects.filter(pk=alert.pk).exists()
    assert len(_alerts(field, Alert.Kind.DRIFT)) == len(
        {a.collection_id for a in _alerts(field, Alert.Kind.DRIFT)}
    )


def test_retraining_proposed_by_an_alert_says_why_it_ran(
    genre, tmp_path, django_capture_on_commit_callbacks, admin_user
):
    field = _trained_then_japanese(genre, tmp_path, django_capture_on_commit_callbacks)
    monitoring_run(field=field)
    alert = _alerts(field, Alert.Kind.DRIFT)[0]
    assert not TrainingRun.objects.filter(trigger="monitoring").exists()  # only proposed

    with django_capture_on_commit_callbacks(execute=True):
        run = alert_retrain(alert=alert, started_by=admin_user)

    run.refresh_from_db()
    assert run.trigger == "monitoring"
    assert run.reason.startswith(f"Drift alert of {alert.day}: Drift in Genre")
    # Nobody has labelled a Japanese record yet: there is nothing new to learn.
    assert run.status == "skipped"
    alert.refresh_from_db()
    assert alert.training_run == run


def test_alert_emails_go_to_the_fields_recipients_once(
    genre, tmp_path, django_capture_on_commit_callbacks, settings
):
    settings.GLAMML_SITE_URL = "https://catalogue.example.org"
    field = trained_on_english(genre, tmp_path)
    monitoring_policy_update(
        field=field, changed_by=None, email_to="curator@example.org, systems@example.org"
    )
    _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, japanese_rows(), slug="jp", name="Jp"
    )
    with django_capture_on_commit_callbacks(execute=True):
        alerts = monitoring_run(field=field).alerts

    assert len(mail.outbox) == len(alerts) >= 1
    message = mail.outbox[0]
    assert message.to == ["curator@example.org", "systems@example.org"]
    assert "Drift alert: Genre" in message.subject
    assert (
        f"https://catalogue.example.org/review/monitoring/alerts/{alerts[0].code}/" in message.body
    )


def test_spot_check_outcomes_count_the_first_decision_after_selection(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = trained_on_english(genre, tmp_path)
    checks = _spot_checks_of_english(field, tmp_path, django_capture_on_commit_callbacks)
    decision_make(prediction=checks[0].prediction, reviewer=cataloguer, action="reject")
    precision = live_precision(field=field, model_version=checks[0].model_version)
    assert (precision.overall.successes, precision.overall.n) == (0, 1)
    assert precision.pending == len(checks) - 1
    assert Decision.objects.filter(prediction=checks[0].prediction).count() == 1


def test_a_correction_to_a_language_the_model_knows_only_romanised_is_not_an_unknown_label(
    field, cataloguer, settings
):
    # The unknown-label rate counts corrections to labels the model cannot answer with. A
    # language identifier answers languages (labels_), not profiles (classes_): Russian known
    # only from romanised titles is the profile "rus-Latn" but the answer "rus".
    from catalogue.machine import artefact_path
    from catalogue.models import ModelVersion
    from catalogue.services.monitoring.snapshots import snapshots_take
    from glamml.ml.langid import LanguageIdentifier
    from glamml.ml.langid_build import merge_profiles
    from tests.factories import PredictionFactory

    native = LanguageIdentifier.from_examples(
        ["Geschichte der deutschen Literatur", "A history of the English people"], ["deu", "eng"]
    )
    romanised = LanguageIdentifier.from_examples(
        ["Istoriia russkoi literatury", "Slova i kraski"], ["rus", "rus"]
    )
    model = merge_profiles([(native, False), (romanised, True)])
    assert "rus" in model.labels_ and "rus" not in model.classes_
    path = artefact_path(field=field, version=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    version = ModelVersion.objects.create(
        field=field,
        version=1,
        status=ModelVersion.Status.ACTIVE,
        artefact=str(path.relative_to(settings.GLAMML_MODEL_DIR)),
        checksum=model.save(path),
        format_version=LanguageIdentifier.FORMAT_VERSION,
        training_fingerprint="0" * 64,
    )
    for label in ("rus", "fin"):
        prediction = PredictionFactory(field=field, model_version=version, label="deu")
        decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label=label)

    snapshots_take(field=field)

    row = Snapshot.objects.get(field=field, collection__isnull=True)
    assert row.stats["corrections"] == 2
    assert row.stats["corrections_unknown"] == 1  # fin; rus is one of the model's answers


def test_public_flags_above_the_fields_line_raise_a_flags_alert_for_that_collection_only(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    monitoring_policy_update(
        field=field, changed_by=None, flags_per_thousand=20.0, on_alert="retrain"
    )
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200]
    more = _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, fresh, slug="bl-more", name="More BL"
    )
    monitoring_run(field=field)
    assert _alerts(field, Alert.Kind.FLAGS) == []

    for record in more.records.order_by("id")[:5]:
        flag_create(record=record, field=field, client_hash="")
    monitoring_run(field=field)

    # 5 flags on 200 records is 25 per 1,000, over the line of 20; on the field's 500 it is 10.
    (alert,) = _alerts(field, Alert.Kind.FLAGS)
    assert alert.collection == more
    assert alert.details["flags"]["flags"] == 5
    assert "5 for 200 records (25.0 per 1,000), above the line of 20 per 1,000" in alert.message
    # Flags say people disagree, not that the data changed: they never start retraining.
    assert not TrainingRun.objects.filter(field=field, trigger="monitoring").exists()


def test_a_precision_alert_starts_retraining_when_the_fields_monitoring_says_so(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
):
    field = trained_on_english(genre, tmp_path)
    checks = _spot_checks_of_english(field, tmp_path, django_capture_on_commit_callbacks)
    monitoring_policy_update(field=field, changed_by=None, on_alert="retrain")
    for check in checks[:12]:
        wrong = "Fiction" if check.prediction.label == "Non-fiction" else "Non-fiction"
        decision_make(
            prediction=check.prediction, reviewer=cataloguer, action="correct", label=wrong
        )

    with django_capture_on_commit_callbacks(execute=True):
        monitoring_run(field=field)

    alerts = _alerts(field, Alert.Kind.PRECISION)
    assert alerts
    run = TrainingRun.objects.get(field=field, trigger="monitoring")
    assert run.reason.startswith("Live precision alert of ")
    assert "0 of 12 spot checks confirmed" in run.reason
    assert {a.training_run_id for a in alerts} == {run.pk}
    # The corrections are new labelled data: the run trains instead of skipping.
    run.refresh_from_db()
    assert run.status == "succeeded", run.message


def test_drift_compares_the_window_with_the_one_before_it(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    field = trained_on_english(genre, tmp_path)
    _import_and_predict(
        django_capture_on_commit_callbacks,
        tmp_path,
        english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200],
        slug="bl-more",
        name="More BL",
    )
    # Everything so far was predicted ten days ago: the window before this week's.
    earlier = timezone.now() - timedelta(days=10)
    Prediction.objects.filter(field=field).update(created_at=earlier)
    SpotCheck.objects.filter(field=field).update(created_at=earlier)
    before = Prediction.objects.filter(field=field).count()
    _import_and_predict(
        django_capture_on_commit_callbacks, tmp_path, japanese_rows(), slug="jp", name="Jp"
    )

    monitoring_run(field=field)

    today = timezone.localdate()
    days = set(
        Snapshot.objects.filter(field=field, collection__isnull=True).values_list("day", flat=True)
    )
    assert {today - timedelta(days=10), today} <= days
    row = Snapshot.objects.get(field=field, collection__isnull=True, day=today)
    previous = row.drift["scores"]["labels_previous"]
    assert (previous["n"], previous["n_reference"]) == (100, before)
    assert previous["crossed"]
    # A week later the Japanese books are the window before, and nothing new came: no score.
    monitoring_run(field=field, today=today + timedelta(days=7))
    later = Snapshot.objects.get(
        field=field, collection__isnull=True, day=today + timedelta(days=7)
    )
    assert "labels_previous" not in later.drift["scores"]


def test_a_collections_calibration_is_not_mistaken_for_drift(
    genre, tmp_path, django_capture_on_commit_callbacks
):
    # The British Library sample imported as the demo does, a stable third of its genres left
    # out; the model learns from the rest and predicts those. They are like its training data,
    # but read through the collection's calibration (measured on its held-out records) their
    # confidence is not the model's own, which is what the held-out reference holds.
    rows = genre_rows()
    hidden = {r["identifier"] for r in rows[: len(rows) // 3]}
    collection = import_rows(
        tmp_path,
        [{**r, "genre": "" if r["identifier"] in hidden else r["genre"]} for r in rows],
        slug="bl",
        name="British Library",
        columns=("identifier", "title", "genre"),
        mapping={"genre": "genre"},
    )
    policy_update(policy=genre.policy, changed_by=None, mode="threshold", threshold=0.8)
    with django_capture_on_commit_callbacks(execute=True):
        assert train(genre).status == "succeeded"
    predictions = Prediction.objects.filter(field=genre, record__collection=collection)
    assert predictions.count() == len(hidden)
    assert predictions.exclude(confidence=F("raw_confidence")).count() > len(hidden) // 2

    monitoring_run(field=genre)

    assert _alerts(genre) == []
    snapshot = Snapshot.objects.get(field=genre, collection=collection)
    assert snapshot.drift["scores"]["confidence"]["crossed"] is False


def test_an_alert_email_the_mail_server_refused_is_sent_by_the_retry_and_only_once(
    field, settings, monkeypatch
):
    settings.GLAMML_SITE_URL = "https://catalogue.example.org"
    alert = Alert.objects.create(
        field=field,
        kind=Alert.Kind.DRIFT,
        day=timezone.localdate(),
        window_start=timezone.localdate() - timedelta(days=6),
        message="Drift in Language overall.",
    )
    # No recipients: nothing is sent, and nothing is marked sent.
    assert alert_email_send(alert=alert) is False
    monitoring_policy_update(field=field, changed_by=None, email_to="curator@example.org")

    def refused(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("catalogue.services.monitoring.alerts.send_mail", refused)
    with pytest.raises(ConnectionRefusedError):
        alert_email_send(alert=alert)
    alert.refresh_from_db()
    assert alert.emailed_at is None
    assert mail.outbox == []

    monkeypatch.undo()
    assert alert_email_send(alert=alert) is True
    assert alert_email_send(alert=alert) is False
    (message,) = mail.outbox
    assert message.to == ["curator@example.org"]
    assert f"https://catalogue.example.org/review/monitoring/alerts/{alert.code}/" in message.body
    alert.refresh_from_db()
    assert alert.emailed_at is not None


def test_a_spot_check_moved_into_a_sensitive_collection_still_counts_the_persons_decision(
    field, admin_user, cataloguer
):
    """Its value is withdrawn there, but the check stays in the sample, under the collection
    it was drawn in."""
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    drawn_in = CollectionFactory()
    checked = spot_checked_prediction(record=RecordFactory(collection=drawn_in))
    record_move(
        record=checked.record, collection=CollectionFactory(is_sensitive=True), moved_by=None
    )
    assert FieldValue.objects.get(record=checked.record, is_current=True).action == "withdrawn"
    precision = live_precision(field=field, model_version=checked.model_version)
    assert (precision.overall.n, precision.pending) == (0, 1)

    decision_make(prediction=checked, reviewer=cataloguer, action="correct", label="deu")

    precision = live_precision(field=field, model_version=checked.model_version)
    assert (precision.overall.successes, precision.overall.n, precision.pending) == (0, 1, 0)
    assert [(c.id, p.n) for c, p in precision.by_collection] == [(drawn_in.id, 1)]
