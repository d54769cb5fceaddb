"""Celery tasks: thin wrappers that load by id and call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from catalogue.machine import ModelUnavailable
from catalogue.models import Field, ModelVersion, TrainingRun
from catalogue.selectors import records_for_field
from catalogue.services.predictions import predictions_create
from catalogue.services.routing import predictions_reroute
from catalogue.services.training import (
    fields_due_for_retraining,
    training_run_create,
    training_run_execute,
    training_runs_reap,
)

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError,)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def predict_records(field_id: int, record_ids: list[int]) -> dict[str, int]:
    """Predict and route one batch. Run twice, it creates nothing the second time."""
    field = Field.objects.filter(pk=field_id).select_related("policy").first()
    if field is None:
        return {}
    try:
        result = predictions_create(field=field, record_ids=record_ids)
    except ModelUnavailable as exc:
        logger.warning("%s", exc)
        return {}
    return vars(result)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def reroute_field(field_id: int) -> dict[str, int]:
    """Re-route waiting predictions after a policy change. Twice is the same as once."""
    field = Field.objects.filter(pk=field_id).select_related("policy").first()
    if field is None:
        return {}
    return vars(predictions_reroute(field=field))


@shared_task(
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


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=5)
def repredict_field(field_id: int) -> int:
    """After a promotion or rollback: predict every record again with the active version.

    Records a person or the source catalogue settled are skipped; records the version has
    already predicted are skipped, so running it twice enqueues work that then does nothing.
    """
    if not Field.objects.filter(pk=field_id).exists():
        return 0
    return predict_field(field_id)


@shared_task(acks_late=True)
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


@shared_task(acks_late=True)
def reap_stale_training_runs() -> int:
    """Periodic: a run still 'running' long past the time limit lost its worker."""
    return training_runs_reap()


def predict_field(field_id: int, *, collection_id: int | None = None) -> int:
    """Enqueue prediction of every record of a field (optionally one collection) in batches."""
    field = Field.objects.get(pk=field_id)
    records = records_for_field(field=field).order_by("id")
    if collection_id is not None:
        records = records.filter(collection_id=collection_id)
    return enqueue_predictions(field_id, list(records.values_list("id", flat=True)))


def enqueue_predictions(field_id: int, record_ids: list[int]) -> int:
    """Hand the records to the inference queue in batches; returns how many were enqueued."""
    size = settings.GLAMML_INFERENCE_BATCH_SIZE
    for start in range(0, len(record_ids), size):
        predict_records.delay(field_id, record_ids[start : start + size])
    return len(record_ids)


def predict_records_in_batches(record_ids: list[int]) -> None:
    """Enqueue prediction of these records for every field that has an active model."""
    field_ids = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).values_list(
        "field_id", flat=True
    )
    for field_id in field_ids:
        enqueue_predictions(field_id, record_ids)


@shared_task(acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def predict_pending() -> int:
    """Periodic safety net: predict records that the active model has not seen yet.

    Enqueues made while a broker was down are lost; this finds their records again. Running
    it twice only enqueues batches whose predictions are then skipped as already made.
    """
    from catalogue.services.predictions import records_without_prediction

    return sum(
        enqueue_predictions(version.field_id, records_without_prediction(model_version=version))
        for version in ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
    )
