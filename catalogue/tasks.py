"""Celery tasks: thin wrappers that load by id and call one service.

Services never import this module: they name a task through ``catalogue.dispatch``, which
these tasks are registered under.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError

from catalogue import dispatch
from catalogue.machine import ModelUnavailable
from catalogue.models import Alert, Field, TrainingRun
from catalogue.services.jobs import job_advance, job_fail, jobs_in_line_behind, jobs_reap
from catalogue.services.monitoring.alerts import alert_email_send, monitoring_run
from catalogue.services.predictions import (
    REPREDICTED,
    predictions_create,
    predictions_enqueue_field,
    predictions_enqueue_pending,
    repredict_job_run,
)
from catalogue.services.recalibration import predictions_recalibrate
from catalogue.services.rerouting import predictions_reroute, reroute_job_run, reroute_summary
from catalogue.services.training.base import base_model_ensure
from catalogue.services.training.runs import training_run_create, training_run_execute
from catalogue.services.training.schedule import fields_due_for_retraining, training_runs_reap

logger = logging.getLogger(__name__)

# Every task is acknowledged after it ran (a lost worker's task is delivered again), and those
# that touch many rows retry transient database errors with backoff, then give up.
TRANSIENT = (OperationalError,)
RETRIED: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


class CountsAJob(Task):  # type: ignore[type-arg]
    """A task whose ``job_id`` argument names the job it counts: a batch that failed for good
    (its retries spent) fails the job, saying why, instead of leaving it running."""

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        job_id = kwargs.get("job_id", args[2] if len(args) > 2 else None)
        if job_id is not None:
            job_fail(job_id=job_id, message=f"A batch failed: {type(exc).__name__}: {exc}")


@shared_task(name=dispatch.PREDICT_RECORDS, base=CountsAJob, **RETRIED)
def predict_records(
    field_id: int,
    record_ids: list[int],
    job_id: int | None = None,
    queued_ms: int | None = None,
) -> dict[str, int]:
    """Predict and route one batch, counting it on its job, and keep alive the jobs queued
    behind it. Run twice, it creates nothing the second time (and counts no job past its
    total)."""
    if queued_ms is not None:
        jobs_in_line_behind(queued_at=datetime.fromtimestamp(queued_ms / 1000, tz=UTC))
    field = Field.objects.filter(pk=field_id).select_related("policy").first()
    if field is None:
        return {}
    try:
        result = predictions_create(field=field, record_ids=record_ids)
    except ModelUnavailable as exc:
        # A fresh deployment: the language field's first version is the shipped model.
        if not base_model_ensure(field=field):
            logger.warning("%s", exc)
            if job_id is not None:
                job_fail(job_id=job_id, message=str(exc))
            return {}
        result = predictions_create(field=field, record_ids=record_ids)
    if job_id is not None:
        job_advance(job_id=job_id, n=len(record_ids), message=REPREDICTED)
    return vars(result)


@shared_task(name=dispatch.REROUTE_FIELD, **RETRIED)
def reroute_field(field_id: int, job_id: int | None = None) -> str:
    """Re-route waiting predictions after a policy change, counting on its job. Twice is the
    same as once (a job already done is not run again)."""
    field = Field.objects.filter(pk=field_id).select_related("policy").first()
    if field is None:
        return "gone"
    if job_id is None:  # sent before re-routes had jobs
        return reroute_summary(predictions_reroute(field=field))
    job = reroute_job_run(field=field, job_id=job_id)
    return job.status if job else "done already"


@shared_task(name=dispatch.RECALIBRATE_COLLECTION, **RETRIED)
def recalibrate_collection(field_id: int, collection_id: int) -> dict[str, int]:
    """Bring a collection's waiting predictions to its refitted calibration and re-route them.
    Twice is the same as once."""
    field = Field.objects.filter(pk=field_id).select_related("policy").first()
    if field is None:
        return {}
    return vars(predictions_recalibrate(field=field, collection_id=collection_id))


@shared_task(
    name=dispatch.TRAIN_FIELD,
    acks_late=True,
    soft_time_limit=settings.GLAMML_TRAINING_TIME_LIMIT,
    time_limit=settings.GLAMML_TRAINING_TIME_LIMIT + 60,
)
def train_field(run_id: int) -> str:
    """Execute a training run. A second delivery finds the run claimed and does nothing."""
    run = TrainingRun.objects.filter(pk=run_id).select_related("field").first()
    if run is None:
        return "gone"
    # A promoted version re-predicts through repredict_field once its transaction commits.
    return training_run_execute(run=run).status


@shared_task(name=dispatch.REPREDICT_FIELD, **RETRIED)
def repredict_field(field_id: int, job_id: int | None = None) -> str:
    """After a promotion or rollback: predict every record again with the active version.

    Records a person or the source catalogue settled are skipped; records the version has
    already predicted are skipped, so running it twice enqueues work that then does nothing.
    The job is counted by the batches it enqueues.
    """
    field = Field.objects.filter(pk=field_id).first()
    if field is None:
        return "gone"
    if job_id is None:  # sent before re-predictions had jobs
        return f"enqueued {predictions_enqueue_field(field=field)}"
    job = repredict_job_run(field=field, job_id=job_id)
    return job.status if job else "done already"


@shared_task(name=dispatch.RETRAIN_DUE_FIELDS, acks_late=True)
def retrain_due_fields() -> list[str]:
    """Periodic: start a run for each field with enough new human decisions.

    A run whose labelled data has not changed ends as ``skipped``; a field with a run in
    progress is left alone, so overlapping schedules start nothing twice.
    """
    started = []
    for field in fields_due_for_retraining():
        training_run_create(field=field, trigger=TrainingRun.Trigger.SCHEDULE)
        started.append(field.key)
    return started


@shared_task(name=dispatch.REAP_STALE_TRAINING_RUNS, acks_late=True)
def reap_stale_training_runs() -> int:
    """Periodic: fail runs whose worker died; send again, then fail, runs queued too long;
    fail re-routes and re-predictions with no progress for too long.

    Each row is changed by a conditional update, so running it twice changes nothing more.
    """
    return training_runs_reap() + jobs_reap()


@shared_task(name=dispatch.PREDICT_PENDING, **RETRIED)
def predict_pending() -> int:
    """Periodic safety net: predict records that the active model has not seen yet.

    Enqueues wait in the outbox while a broker is down; this also finds records whose batch
    was lost some other way (a broker that lost its data). Running it twice only enqueues
    batches whose predictions are then skipped as already made.
    """
    for field in Field.objects.filter(kind=Field.Kind.LANGUAGE, model_versions__isnull=True):
        base_model_ensure(field=field)
    return predictions_enqueue_pending()


@shared_task(name=dispatch.SEND_OUTBOX, acks_late=True)
def send_outbox() -> int:
    """Periodic: send the follow-up work that waited in the outbox while the broker was down.

    Rows are locked while sent and marked sent after, so a second run sends only what is
    still waiting; a task sent twice (sent, then not marked) is idempotent.
    """
    return dispatch.outbox_send()


@shared_task(name=dispatch.MONITOR_FIELDS, **RETRIED)
def monitor_fields() -> dict[str, dict[str, int]]:
    """Periodic: spot checks, snapshots and alerts for every field with a policy.

    Snapshots are recomputed from the database and alerts are raised once per line crossed,
    so running it twice in a day writes nothing the second time.
    """
    done = {}
    for field in Field.objects.filter(policy__isnull=False).select_related("policy"):
        result = monitoring_run(field=field)
        done[field.key] = {
            "spot_checked": result.spot_checked,
            "snapshots": result.snapshots,
            "alerts": len(result.alerts),
        }
    return done


@shared_task(name=dispatch.SEND_ALERT_EMAIL, **{**RETRIED, "autoretry_for": (*TRANSIENT, OSError)})
def send_alert_email(alert_id: int) -> bool:
    """E-mail an alert's recipients. Sent once: a second delivery finds it sent."""
    alert = Alert.objects.filter(pk=alert_id).select_related("field").first()
    if alert is None:
        return False
    return alert_email_send(alert=alert)
