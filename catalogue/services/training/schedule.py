"""When fields are trained again on their own, and runs whose worker died."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalogue.models import Decision, Field, TrainingRun

WORKER_LOST = "The training worker stopped before finishing (started {started}); run it again."


def decisions_since_last_run(*, field: Field) -> int:
    last = (
        field.training_runs.filter(
            status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.SKIPPED]
        )
        .order_by("-created_at")
        .first()
    )
    decisions = Decision.objects.filter(prediction__field=field)
    if last is not None:
        decisions = decisions.filter(created_at__gt=last.created_at)
    return decisions.count()


def fields_due_for_retraining() -> list[Field]:
    """Fields with enough new human decisions since their last run and no run in progress."""
    due = []
    for field in Field.objects.select_related("policy"):
        busy = field.training_runs.filter(
            status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]
        ).exists()
        needed = field.policy.retrain_after_decisions
        if not busy and decisions_since_last_run(field=field) >= needed:
            due.append(field)
    return due


def training_runs_reap(*, now: datetime | None = None) -> int:
    """Mark runs whose worker died (running far past the time limit) as failed."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.GLAMML_TRAINING_TIME_LIMIT + 300)
    stale = TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, started_at__lt=now - limit
    )
    n = 0
    for run in stale:
        started = run.started_at or now
        n += TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).update(
            status=TrainingRun.Status.FAILED,
            message=WORKER_LOST.format(started=started.isoformat(timespec="minutes")),
            finished_at=now,
        )
    return n
