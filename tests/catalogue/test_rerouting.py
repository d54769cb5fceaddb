"""Re-routing is a few statements on the band that moves, batch by batch, with progress."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import FieldJob, FieldValue, Prediction
from catalogue.services import rerouting
from catalogue.services.jobs import job_create
from catalogue.services.policy import policy_update
from catalogue.services.rerouting import predictions_reroute
from tests.factories import PredictionFactory


def band(field, n: int, confidence: float) -> list[Prediction]:
    return [
        PredictionFactory(field=field, label="fra", confidence=confidence, status="queued")
        for _ in range(n)
    ]


def queries(field) -> int:
    with CaptureQueriesContext(connection) as captured:
        predictions_reroute(field=field)
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_band(field, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.99)
    band(field, 3, 0.8)
    field.policy.threshold = 0.7
    field.policy.save()
    few = queries(field)
    band(field, 60, 0.6)
    field.policy.threshold = 0.5
    field.policy.save()
    many = queries(field)
    assert few == many
    assert Prediction.objects.filter(status="applied").count() == 63
    assert FieldValue.objects.filter(source="model", is_current=True).count() == 63


@pytest.mark.django_db
def test_it_moves_in_batches_and_reports_progress(field, admin_user, monkeypatch):
    monkeypatch.setattr(rerouting, "BATCH", 4)
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.99)
    moving = band(field, 10, 0.8)
    staying = band(field, 2, 0.3)
    field.policy.threshold = 0.75
    field.policy.save()
    seen: list[tuple[int, int]] = []
    result = predictions_reroute(
        field=field, progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(0, 10), (4, 10), (8, 10), (10, 10)]
    assert (result.applied, result.queued, result.unchanged) == (10, 0, 2)
    assert {p.status for p in Prediction.objects.filter(id__in=[p.id for p in moving])} == {
        "applied"
    }
    assert {p.status for p in Prediction.objects.filter(id__in=[p.id for p in staying])} == {
        "queued"
    }
    # Back down: the model's values are withdrawn with the reason, and kept as history.
    field.policy.threshold = 0.9
    field.policy.save()
    assert predictions_reroute(field=field).queued == 10
    withdrawn = FieldValue.objects.filter(is_current=True, action="withdrawn")
    assert withdrawn.count() == 10 and set(withdrawn.values_list("policy", flat=True)) == {
        "policy-change"
    }
    assert predictions_reroute(field=field) == rerouting.RerouteResult(unchanged=12)


@pytest.mark.django_db
def test_a_policy_change_reroutes_as_a_job_that_counts_its_progress_and_says_how_it_ended(
    field, admin_user, django_capture_on_commit_callbacks
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.99)
    band(field, 3, 0.8)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        policy_update(policy=field.policy, changed_by=admin_user, threshold=0.7)
    job = FieldJob.objects.filter(field=field).first()
    assert (job.kind, job.status, job.started_by, job.total) == (
        "reroute",
        "queued",
        admin_user,
        None,
    )
    assert job.reason == "after threshold 0.99 → 0.7"
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("succeeded", 3, 3)
    assert (
        job.message == "Moved 3 predictions: 3 applied, 0 sent to review; 0 were already in place."
    )


@pytest.mark.django_db
def test_a_reroute_job_that_fails_says_why_and_one_done_is_not_run_again(field, monkeypatch):
    job = job_create(field=field, kind=FieldJob.Kind.REROUTE)

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(rerouting, "predictions_reroute", broken)
    with pytest.raises(RuntimeError):
        rerouting.reroute_job_run(field=field, job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.message) == ("failed", "RuntimeError: the database went away")
    monkeypatch.undo()
    assert rerouting.reroute_job_run(field=field, job_id=job.id).status == "succeeded"
    assert rerouting.reroute_job_run(field=field, job_id=job.id) is None
