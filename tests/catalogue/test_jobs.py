"""Re-routes and re-predictions are jobs a page can follow: waiting, counted, done or failed."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from catalogue import dispatch
from catalogue.models import FieldJob, OutboxTask, Prediction
from catalogue.services import rerouting
from catalogue.services.jobs import (
    job_advance,
    job_claim,
    job_create,
    job_expect,
    job_progress,
    jobs_in_line_behind,
    jobs_reap,
)
from catalogue.services.policy import policy_update
from catalogue.services.predictions import (
    NOTHING_TO_REPREDICT,
    REPREDICTED,
    predictions_enqueue,
)
from catalogue.services.training.promotion import model_version_promote
from catalogue.tasks import predict_records, reap_stale_training_runs
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
    "Storia della letteratura italiana dalle origini ai nostri giorni",
]


@pytest.mark.django_db
def test_batches_count_a_job_never_past_its_total_and_the_last_one_ends_it(field):
    job = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=job.id)
    job_expect(job=job, total=5, message=NOTHING_TO_REPREDICT)

    job_advance(job_id=job.id, n=2, message=REPREDICTED)
    job.refresh_from_db()
    assert (job.status, job.done, job.percent) == ("running", 2, 40)

    # A batch delivered twice counts twice, but never past the total.
    job_advance(job_id=job.id, n=2, message=REPREDICTED)
    job_advance(job_id=job.id, n=2, message=REPREDICTED)
    job.refresh_from_db()
    assert (job.status, job.done, job.message) == ("succeeded", 5, REPREDICTED)
    assert job.finished_at is not None
    # A finished job is not claimed again.
    assert job_claim(job_id=job.id) is None


@pytest.mark.django_db
def test_a_job_with_nothing_to_do_is_done_at_once(field):
    job = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=job.id)

    job_expect(job=job, total=0, message=NOTHING_TO_REPREDICT)

    job.refresh_from_db()
    assert (job.status, job.total, job.message) == ("succeeded", 0, NOTHING_TO_REPREDICT)


@pytest.mark.django_db
def test_a_promotion_repredicts_as_a_job_its_batches_count(
    field, active_model, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.GLAMML_INFERENCE_BATCH_SIZE = 2
    collection = CollectionFactory()
    for title in TITLES:
        RecordFactory(collection=collection, title=title)
    active_model.status = "candidate"
    active_model.save()

    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(version=active_model, promoted_by=admin_user)

    job = FieldJob.objects.get(field=field)
    assert (job.kind, job.started_by, job.reason) == ("repredict", admin_user, "v1 was made active")
    assert (job.status, job.done, job.total, job.message) == ("succeeded", 3, 3, REPREDICTED)
    assert Prediction.objects.filter(model_version=active_model).count() == 3


@pytest.mark.django_db(transaction=True)
def test_in_the_demo_a_policy_change_returns_before_its_reroute_runs_in_a_thread(
    field, admin_user, settings, monkeypatch
):
    """Eager tasks started from a request run after it, in a thread: the person sees them run."""
    settings.GLAMML_EAGER_IN_BACKGROUND = True
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.99)
    for _ in range(3):
        PredictionFactory(field=field, label="fra", confidence=0.8, status="queued")
    release, started = threading.Event(), threading.Event()
    reroute = rerouting.predictions_reroute

    def held(**kwargs):
        started.set()
        assert release.wait(timeout=30)
        return reroute(**kwargs)

    monkeypatch.setattr(rerouting, "predictions_reroute", held)

    with dispatch.watch(background=True) as follow_ups:
        policy_update(policy=field.policy, changed_by=admin_user, threshold=0.7)

    assert follow_ups.sent == 1
    assert started.wait(timeout=30)
    job = FieldJob.objects.latest("id")
    assert job.status == "running"
    assert Prediction.objects.filter(status="queued").count() == 3
    [thread] = [t for t in threading.enumerate() if t.name == f"glamml {dispatch.REROUTE_FIELD}"]
    release.set()
    thread.join(timeout=30)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("succeeded", 3, 3)
    assert Prediction.objects.filter(status="applied").count() == 3
    assert OutboxTask.objects.filter(name=dispatch.REROUTE_FIELD).latest("id").sent_at is not None


@pytest.mark.django_db
def test_outside_a_request_eager_tasks_still_run_inline(
    field, admin_user, settings, django_capture_on_commit_callbacks
):
    """Commands (the demo's set-up, imports) must not leave work behind in threads."""
    settings.GLAMML_EAGER_IN_BACKGROUND = True
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.99)
    PredictionFactory(field=field, label="fra", confidence=0.8, status="queued")

    with django_capture_on_commit_callbacks(execute=True):
        policy_update(policy=field.policy, changed_by=admin_user, threshold=0.7)

    assert FieldJob.objects.latest("id").status == "succeeded"


@pytest.mark.django_db
def test_a_batch_that_fails_for_good_fails_its_job_with_the_reason(field):
    job = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=job.id)
    job_expect(job=job, total=10, message=NOTHING_TO_REPREDICT)

    # What Celery calls once the batch's retries are spent.
    predict_records.on_failure(
        OperationalError("server closed the connection"), "t", (field.id, [1, 2], job.id), {}, None
    )

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == "A batch failed: OperationalError: server closed the connection"


# --- jobs that stopped without finishing -------------------------------------------------------


def _quiet_for(job: FieldJob, seconds: int) -> None:
    """As if the job's last sign of life was ``seconds`` ago."""
    FieldJob.objects.filter(pk=job.pk).update(
        touched_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_a_job_quiet_past_the_limit_is_failed_and_its_unsent_task_never_runs(field, settings):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    running = job_create(field=field, kind=FieldJob.Kind.REROUTE)
    job_claim(job_id=running.id)
    queued = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    # The demo's thread died with the server: its task's outbox row was never marked sent.
    task = OutboxTask.objects.create(name=dispatch.REPREDICT_FIELD, args=[field.id, queued.id])
    fresh = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    _quiet_for(running, 601)
    _quiet_for(queued, 3600)
    _quiet_for(fresh, 599)

    assert jobs_reap() == 2

    running.refresh_from_db()
    assert running.status == "failed" and running.finished_at is not None
    quiet_since = (timezone.now() - timedelta(seconds=601)).strftime("%-d %b %Y")
    assert running.message.startswith(
        f"Stopped without finishing (no progress since {quiet_since} "
    )
    assert running.message.endswith("); start it again.")
    queued.refresh_from_db()
    assert queued.status == "failed"
    fresh.refresh_from_db()
    assert fresh.status == "queued"
    task.refresh_from_db()
    assert task.sent_at is not None and "stopped" in task.last_error
    assert dispatch.outbox_send(grace=timedelta(0)) == 0
    # Reaping again changes nothing more.
    assert jobs_reap() == 0


@pytest.mark.django_db
def test_progress_keeps_a_long_job_alive(field, settings):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    job = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=job.id)
    job_expect(job=job, total=10, message=REPREDICTED)
    _quiet_for(job, 601)

    job_advance(job_id=job.id, n=2, message=REPREDICTED)
    assert jobs_reap() == 0

    _quiet_for(job, 601)
    job_progress(job=job)(3, 10)
    assert jobs_reap(field_id=field.id) == 0
    job.refresh_from_db()
    assert (job.status, job.done) == ("running", 3)


@pytest.mark.django_db
def test_the_periodic_sweep_fails_stale_jobs(field, settings):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    job = job_create(field=field, kind=FieldJob.Kind.REROUTE)
    _quiet_for(job, 601)

    assert reap_stale_training_runs() == 1

    job.refresh_from_db()
    assert job.status == "failed"


# --- jobs waiting their turn behind a backlog ---------------------------------------------------


def _ms(moment):
    return round(moment.timestamp() * 1000)


def _queued_an_hour_ago(job: FieldJob) -> FieldJob:
    """As if the job's work joined the inference queue an hour ago and has not moved since."""
    hour_ago = timezone.now() - timedelta(hours=1)
    FieldJob.objects.filter(pk=job.pk).update(
        created_at=hour_ago,
        started_at=hour_ago if job.status == "running" else None,
        touched_at=hour_ago,
    )
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_a_repredict_waiting_behind_a_backlog_is_kept_while_the_queue_moves(
    field, active_model, settings
):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    record = RecordFactory(title=TITLES[0])
    job = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=job.id)
    job_expect(job=job, total=10, message=REPREDICTED)
    # Its 10 records were queued an hour ago behind a large import's batches, none done yet.
    job = _queued_an_hour_ago(job)

    # A batch of that import, queued before the job's own, reaches a worker now.
    predict_records(field.id, [record.id], None, _ms(job.started_at - timedelta(minutes=5)))

    assert jobs_reap() == 0
    job.refresh_from_db()
    assert (job.status, job.done) == ("running", 0)
    assert Prediction.objects.filter(record=record).exists()

    # Then the queue stops (every worker gone): nothing moves for longer than the limit.
    _quiet_for(job, 601)
    assert jobs_reap() == 1
    job.refresh_from_db()
    assert job.status == "failed"


@pytest.mark.django_db
def test_a_batch_queued_after_a_jobs_work_does_not_keep_the_job_alive(
    field, active_model, settings
):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    record = RecordFactory(title=TITLES[1])
    lost = job_create(field=field, kind=FieldJob.Kind.REPREDICT)
    job_claim(job_id=lost.id)
    job_expect(job=lost, total=10, message=REPREDICTED)
    lost = _queued_an_hour_ago(lost)
    waiting = _queued_an_hour_ago(job_create(field=field, kind=FieldJob.Kind.REROUTE))

    # Work queued after theirs runs: theirs went to a worker first and never reported (a broker
    # that lost its data), so the queue moving says nothing about them.
    predict_records(field.id, [record.id], None, _ms(timezone.now() - timedelta(minutes=1)))

    assert jobs_reap() == 2
    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.status, waiting.status) == ("failed", "failed")


@pytest.mark.django_db
def test_a_job_still_waiting_for_a_worker_is_kept_while_the_queue_moves(field, settings):
    settings.GLAMML_JOB_STALE_SECONDS = 600
    waiting = _queued_an_hour_ago(job_create(field=field, kind=FieldJob.Kind.REROUTE))

    assert jobs_in_line_behind(queued_at=waiting.created_at - timedelta(seconds=1)) == 1
    # Written at most once per tenth of the limit, not on every batch.
    assert jobs_in_line_behind(queued_at=waiting.created_at - timedelta(seconds=1)) == 0

    assert jobs_reap() == 0
    waiting.refresh_from_db()
    assert waiting.status == "queued"


@pytest.mark.django_db
def test_each_prediction_batch_carries_when_it_was_queued(field):
    before = _ms(timezone.now())
    with dispatch.watch():
        predictions_enqueue(field_id=field.id, record_ids=[1, 2, 3], job_id=7)
    row = OutboxTask.objects.get(name=dispatch.PREDICT_RECORDS)

    field_id, ids, job_id, queued_ms = row.args
    assert (field_id, ids, job_id) == (field.id, [1, 2, 3], 7)
    assert before <= queued_ms <= _ms(timezone.now())
