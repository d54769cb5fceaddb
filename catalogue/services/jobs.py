"""Background jobs on a field (re-routing, re-predicting): their state, for a page to poll.

A job is created in the transaction of the change that asks for it, with its task named in the
outbox beside it, so the person sees it at once: waiting for a worker, then running with a
count, then done or failed with the reason. A job that runs twice (a task delivered again)
claims itself again and does the same idempotent work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F, Q
from django.db.models.functions import Least
from django.utils import timezone

from catalogue import dispatch
from catalogue.models import Field, FieldJob, OutboxTask

logger = logging.getLogger(__name__)

# The tasks that carry a job, as (field id, job id).
JOB_TASKS = (dispatch.REROUTE_FIELD, dispatch.REPREDICT_FIELD)
STOPPED = "Stopped without finishing (no progress since {since}); start it again."

# Called with (done so far, to do in all).
Progress = Callable[[int, int], None]


def job_create(
    *, field: Field, kind: str, started_by: User | None = None, reason: str = ""
) -> FieldJob:
    """A queued job; the caller names its task in the outbox in the same transaction."""
    return FieldJob.objects.create(
        field=field, kind=kind, started_by=started_by, reason=reason[:300]
    )


# The task that does each kind of job.
_TASKS = {
    FieldJob.Kind.REROUTE: dispatch.REROUTE_FIELD,
    FieldJob.Kind.REPREDICT: dispatch.REPREDICT_FIELD,
}


def job_start(*, field: Field, kind: str, started_by: User | None, reason: str) -> FieldJob:
    """A queued job with its task named in the outbox, in the caller's transaction: the task is
    sent when that commits, or not at all."""
    job = job_create(field=field, kind=kind, started_by=started_by, reason=reason)
    dispatch.enqueue(_TASKS[FieldJob.Kind(kind)], field.id, job.id)
    return job


def job_claim(*, job_id: int) -> FieldJob | None:
    """Mark the job running; None if it is gone or already done.

    A running job may be claimed again (its worker died and the task came back), and so may a
    failed one (the task is retried after a transient error).
    """
    claimed = (
        FieldJob.objects.filter(pk=job_id)
        .exclude(status=FieldJob.Status.SUCCEEDED)
        .update(
            status=FieldJob.Status.RUNNING,
            started_at=timezone.now(),
            message="",
            finished_at=None,
            touched_at=timezone.now(),
        )
    )
    return FieldJob.objects.filter(pk=job_id).first() if claimed else None


def job_progress(*, job: FieldJob) -> Progress:
    """A progress callback that stores the count on the job row, where the page reads it."""

    def note(done: int, total: int) -> None:
        FieldJob.objects.filter(pk=job.pk).update(done=done, total=total, touched_at=timezone.now())

    return note


def job_finish(*, job: FieldJob, status: str, message: str) -> None:
    changes: dict[str, object] = {
        "status": status,
        "message": message,
        "finished_at": timezone.now(),
    }
    if status == FieldJob.Status.SUCCEEDED:
        changes["done"] = F("total") if job.total is not None else F("done")
    FieldJob.objects.filter(pk=job.pk).update(**changes)
    job.refresh_from_db()


def job_run(*, job_id: int, work: Callable[[FieldJob], str | None]) -> FieldJob | None:
    """Claim the job, do ``work`` (which reports progress and returns how it ended), finish it.

    ``work`` returns None when the job goes on in other tasks, which count it with
    :func:`job_advance` until the last one marks it done.

    Any failure ends the job ``failed`` with the reason, then is raised again so that the task's
    retries still apply.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        return None
    try:
        message = work(job)
    except Exception as exc:
        logger.exception("Job %s failed", job.code)
        job_finish(job=job, status=FieldJob.Status.FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    job.refresh_from_db()
    if message is not None and job.status == FieldJob.Status.RUNNING:
        job_finish(job=job, status=FieldJob.Status.SUCCEEDED, message=message)
    return job


def job_expect(*, job: FieldJob, total: int, message: str) -> None:
    """A job whose work continues in other tasks: it has ``total`` to do, counted by
    :func:`job_advance`; with nothing to do it is done at once."""
    FieldJob.objects.filter(pk=job.pk).update(total=total)
    job.refresh_from_db()
    if total == 0:
        job_finish(job=job, status=FieldJob.Status.SUCCEEDED, message=message)


def job_advance(*, job_id: int, n: int, message: str) -> None:
    """Count ``n`` more done (never past the total); the last batch marks the job done."""
    FieldJob.objects.filter(pk=job_id, status=FieldJob.Status.RUNNING).update(
        done=Least(F("done") + n, F("total")), touched_at=timezone.now()
    )
    FieldJob.objects.filter(
        Q(done__gte=F("total")), pk=job_id, status=FieldJob.Status.RUNNING
    ).update(status=FieldJob.Status.SUCCEEDED, message=message, finished_at=timezone.now())


def job_fail(*, job_id: int, message: str) -> None:
    """End a running job as failed, with the reason the page shows."""
    FieldJob.objects.filter(pk=job_id, status__in=FieldJob.ACTIVE).update(
        status=FieldJob.Status.FAILED, message=message, finished_at=timezone.now()
    )


def jobs_in_line_behind(*, queued_at: datetime, now: datetime | None = None) -> int:
    """A prediction batch queued at ``queued_at`` reached a worker: mark alive the jobs whose
    work joined the inference queue after it, and returns how many.

    Such a job waits its turn behind a backlog (a large import's batches, say): its own
    batches make no progress until the ones in front of them are done, yet the queue is
    moving, so it has not stopped. The queue hands out messages oldest first, so a batch
    queued *after* a job's work proves nothing about it: a job whose batches were lost (a
    broker that lost its data) is kept alive by nothing and is reaped as before. A job
    counts from when its task was queued (``created_at``) while it waits, and from when it
    queued its batches (``started_at``) once a re-prediction has done so. Each job is
    written at most once per tenth of ``GLAMML_JOB_STALE_SECONDS``, not on every batch.
    """
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.GLAMML_JOB_STALE_SECONDS / 10)
    waiting = Q(status=FieldJob.Status.QUEUED, created_at__gt=queued_at) | Q(
        status=FieldJob.Status.RUNNING,
        kind=FieldJob.Kind.REPREDICT,
        started_at__gt=queued_at,
        done__lt=F("total"),
    )
    return FieldJob.objects.filter(waiting, touched_at__lt=quiet_since).update(touched_at=now)


def jobs_reap(*, field_id: int | None = None, now: datetime | None = None) -> int:
    """Fail the jobs (of one field, or all) with no progress for ``GLAMML_JOB_STALE_SECONDS``.

    Progress is the job's own count, or the queue moving in front of its waiting work
    (:func:`jobs_in_line_behind`). A job with neither lost its worker: a server restarted
    mid-run, or a task was lost. The periodic sweep calls this, and so does the dashboard when
    it reads a field's jobs, since the embedded demo has no sweep. The job's task, if it still
    waits in the outbox, is not sent afterwards: the person was told to start it again.
    Returns how many jobs it failed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.GLAMML_JOB_STALE_SECONDS)
    stale = FieldJob.objects.filter(status__in=FieldJob.ACTIVE, touched_at__lt=cutoff)
    if field_id is not None:
        stale = stale.filter(field_id=field_id)
    n = 0
    for job_id, touched_at in stale.values_list("pk", "touched_at"):
        since = touched_at.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")
        # Conditional, so a job that moved on meanwhile is left alone.
        n += FieldJob.objects.filter(
            pk=job_id, status__in=FieldJob.ACTIVE, touched_at__lt=cutoff
        ).update(
            status=FieldJob.Status.FAILED,
            message=STOPPED.format(since=since),
            finished_at=now,
        )
        OutboxTask.objects.filter(sent_at__isnull=True, args__1=job_id).filter(
            name__in=JOB_TASKS
        ).update(sent_at=now, last_error="Not sent: its job had stopped and was failed.")
    return n
