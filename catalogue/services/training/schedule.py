"""When fields are trained again on their own, and runs whose worker died."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalogue import dispatch
from catalogue.models import Decision, Field, OutboxTask, TrainingRun

WORKER_LOST = "The training worker stopped before finishing (started {started}); run it again."
NEVER_STARTED = (
    "No training worker started this run within {limit} of it being queued ({queued}); "
    "run it again, and check that a training worker is running."
)


def decisions_since_last_run(*, field: Field) -> int:
    last = (
        field.training_runs.filter(
            status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.SKIPPED]
        )
        .order_by("-created_at")
        .first()
    )
    decisions = Decision.objects.filter(prediction__field=field, withdrawn_at__isnull=True)
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
    """Fail runs whose worker died; send queued runs again, and fail those queued too long.

    Returns how many runs it failed or sent again. A queued run holds back scheduled retraining
    of its field, so none may stay queued for ever.
    """
    now = now or timezone.now()
    return _reap_running(now) + _reap_queued(now)


def _reap_running(now: datetime) -> int:
    """A run still 'running' long past the training time limit lost its worker."""
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


def _reap_queued(now: datetime) -> int:
    """Queued runs no worker took: sent again while young enough, failed with a reason after.

    A run whose task still waits in the outbox (the broker is down) or was sent recently is
    left alone; sending twice is safe, since a worker claims a run only while it is queued.
    """
    resend = timedelta(seconds=settings.GLAMML_QUEUED_RUN_RESEND_SECONDS)
    limit = timedelta(seconds=settings.GLAMML_QUEUED_RUN_LIMIT_SECONDS)
    n = 0
    for run in TrainingRun.objects.filter(
        status=TrainingRun.Status.QUEUED, created_at__lt=now - resend
    ):
        if run.created_at < now - limit:
            n += TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
                status=TrainingRun.Status.FAILED,
                message=NEVER_STARTED.format(
                    limit=_duration(limit), queued=run.created_at.isoformat(timespec="minutes")
                ),
                finished_at=now,
            )
            continue
        pending = OutboxTask.objects.filter(name=dispatch.TRAIN_FIELD, args=[run.pk]).filter(
            Q(sent_at__isnull=True) | Q(sent_at__gte=now - resend)
        )
        if not pending.exists():
            dispatch.enqueue(dispatch.TRAIN_FIELD, run.pk)
            n += 1
    return n


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutes"
    return f"{minutes // 60} hour" + ("s" if minutes != 60 else "")
