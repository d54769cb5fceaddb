from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalogue.models import ModelVersion, TrainingRun
from review.views.experiments import UNKNOWN_FIELD
from tests.factories import ModelVersionFactory, TrainingRunFactory

EXPERIMENTS = reverse("review:experiments")
EXPERIMENTS_JSON = reverse("review:experiments_json")
# Session, user, fields for the filter, runs with field, person and version.
LOG_QUERIES = 4
JSON_QUERIES = 3

RUN_KEYS = {
    "run",
    "field",
    "metric",
    "status",
    "trigger",
    "started_by",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "message",
    "params",
    "fingerprint",
    "n_train",
    "n_test",
    "metrics",
    "baselines",
    "model_version",
}


def finished_run(
    field, *, version: int, status: str = "candidate", **metrics: float
) -> TrainingRun:
    now = timezone.now()
    model = ModelVersionFactory(
        field=field,
        version=version,
        status=status,
        metrics={"accuracy": 0.9, "macro_f1": 0.8123, "ece": 0.04, **metrics},
        baselines={
            "stratified": {"accuracy": 0.5, "macro_f1": 0.3456},
            "majority": {"accuracy": 0.7, "macro_f1": 0.2345},
            "rules": {"accuracy": 0.6, "macro_f1": 0.5678},
        },
        params={"C": 2.0, "trigger": "manual"},
        training_fingerprint="feedface" * 8,
        n_train=400,
        n_test=100,
        promoted_at=now if status == "active" else None,
    )
    return TrainingRunFactory(
        field=field,
        status=TrainingRun.Status.SUCCEEDED,
        model_version=model,
        fingerprint="feedface" * 8,
        started_at=now - timedelta(seconds=42),
        finished_at=now,
        message=f"Trained v{version}",
    )


@pytest.mark.django_db
def test_the_log_lists_every_run_with_its_metrics_and_baselines(staff_client, field):
    finished_run(field, version=1, status=ModelVersion.Status.ACTIVE)
    TrainingRunFactory(field=field, status=TrainingRun.Status.FAILED, message="Too few labels")

    response = staff_client.get(EXPERIMENTS)

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "0.812",  # the model on the field's metric (macro-F1)
        "0.346",
        "0.234",
        "0.568",
        "feedfacef",
        "400 / 100",
        "42 s",
        "went live",
        "Too few labels",
        "Export as JSON",
    ):
        assert text in html, text
    assert len(response.context["rows"]) == 2


@pytest.mark.django_db
def test_the_log_filters_by_field(staff_client, field, genre):
    finished_run(field, version=1)
    finished_run(genre, version=1)

    response = staff_client.get(EXPERIMENTS, {"field": "genre"})

    assert [row.run.field.key for row in response.context["rows"]] == ["genre"]
    assert "of genre" in response.content.decode()


@pytest.mark.django_db
def test_the_json_export_has_one_object_per_run_with_full_metrics(staff_client, field):
    run = finished_run(field, version=1, status=ModelVersion.Status.ACTIVE)
    TrainingRunFactory(field=field, status=TrainingRun.Status.QUEUED)

    for response in (
        staff_client.get(EXPERIMENTS_JSON),
        staff_client.get(EXPERIMENTS, {"format": "json"}),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        runs = response.json()["runs"]
        assert len(runs) == 2
        assert all(set(r) == RUN_KEYS for r in runs)
        done = next(r for r in runs if r["run"] == str(run.code))
        assert done["metrics"]["macro_f1"] == 0.8123
        assert set(done["baselines"]) == {"stratified", "majority", "rules"}
        assert done["duration_seconds"] == 42.0
        assert done["model_version"]["went_live"] is True
        assert done["model_version"]["version"] == 1


@pytest.mark.django_db
def test_the_log_is_for_admins_only(client, cataloguer, field):
    assert client.get(EXPERIMENTS).status_code == 302
    assert client.get(EXPERIMENTS_JSON).status_code == 302
    client.force_login(cataloguer)
    assert client.get(EXPERIMENTS).status_code == 403
    assert client.get(EXPERIMENTS_JSON).status_code == 403


@pytest.mark.django_db
def test_an_unknown_field_in_the_filter_is_refused(staff_client, field):
    response = staff_client.get(EXPERIMENTS, {"field": "no-such-field"})

    assert response.status_code == 422


@pytest.mark.django_db
def test_a_real_training_run_is_logged_with_its_baselines(staff_client, trained_genre):
    runs = staff_client.get(EXPERIMENTS_JSON, {"field": "genre"}).json()["runs"]

    assert len(runs) == 2
    assert all(set(r["baselines"]) == {"stratified", "majority", "rules"} for r in runs)
    assert all(r["metrics"]["macro_f1"] > 0 and r["fingerprint"] for r in runs)


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_runs(staff_client, field, django_assert_num_queries):
    finished_run(field, version=1)
    with django_assert_num_queries(LOG_QUERIES):
        staff_client.get(EXPERIMENTS)
    with django_assert_num_queries(JSON_QUERIES):
        staff_client.get(EXPERIMENTS_JSON)

    for n in range(2, 7):
        finished_run(field, version=n)
    TrainingRunFactory.create_batch(3, field=field, status=TrainingRun.Status.FAILED)
    with django_assert_num_queries(LOG_QUERIES):
        staff_client.get(EXPERIMENTS)
    with django_assert_num_queries(JSON_QUERIES):
        staff_client.get(EXPERIMENTS_JSON)


@pytest.mark.django_db
def test_an_unknown_field_in_the_json_export_is_refused_not_every_run(staff_client, field):
    finished_run(field, version=1, status=ModelVersion.Status.ACTIVE)

    for response in (
        staff_client.get(EXPERIMENTS_JSON, {"field": "zzz"}),
        staff_client.get(EXPERIMENTS, {"format": "json", "field": "zzz"}),
    ):
        assert response.status_code == 422
        assert response.json() == {"error": UNKNOWN_FIELD.format(key="zzz")}
