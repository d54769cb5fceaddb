"""Handing follow-up work to the task queue: by task name, through an outbox in Postgres.

Services decide that work must follow (predict these records, train this field, re-route the
waiting predictions) and name it here; ``catalogue.tasks`` holds the thin Celery wrappers that
call the services back. Naming tasks instead of importing them keeps the imports pointing one
way (tasks → services → dispatch), and gives the queue one door.

Every task named here is first written to the outbox (``OutboxTask``) in the transaction of the
change that needs it, then sent once that transaction commits. If the broker does not answer,
the change stays saved, the task waits in the outbox, and ``outbox_send`` (run by beat every
``GLAMML_OUTBOX_SECONDS``) sends it once the broker is back. A task may so be sent twice (sent,
then the row could not be marked); tasks are idempotent, so that costs work, never data.

Tasks are looked up in the Celery app's registry and sent with ``apply_async``, which runs them
in-process under ``CELERY_TASK_ALWAYS_EAGER`` (the demo and the tests); ``send_task`` would not
(Celery ignores eager mode there).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import redis.exceptions
from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from catalogue.models import OutboxTask

if TYPE_CHECKING:
    from celery import Task

logger = logging.getLogger(__name__)

# The names of the tasks in catalogue.tasks (which registers them under these names).
PREDICT_RECORDS = "catalogue.tasks.predict_records"
REROUTE_FIELD = "catalogue.tasks.reroute_field"
RECALIBRATE_COLLECTION = "catalogue.tasks.recalibrate_collection"
TRAIN_FIELD = "catalogue.tasks.train_field"
REPREDICT_FIELD = "catalogue.tasks.repredict_field"
RETRAIN_DUE_FIELDS = "catalogue.tasks.retrain_due_fields"
REAP_STALE_TRAINING_RUNS = "catalogue.tasks.reap_stale_training_runs"
PREDICT_PENDING = "catalogue.tasks.predict_pending"
MONITOR_FIELDS = "catalogue.tasks.monitor_fields"
SEND_ALERT_EMAIL = "catalogue.tasks.send_alert_email"
SEND_OUTBOX = "catalogue.tasks.send_outbox"

UNKNOWN_TASK = "No task named {name!r} is registered with the Celery app."
# Said to the person whose change was saved while its follow-up could not be sent.
DEFERRED = "Saved; the follow-up will run when the task queue is back."

# What an unreachable broker raises from apply_async: kombu wraps connection errors once its
# publish retries are spent; redis-py's and the socket's own errors can surface around them.
BROKER_ERRORS = (KombuOperationalError, redis.exceptions.ConnectionError, OSError)
# The sweep leaves rows this young alone: their own commit callback is still sending them.
SWEEP_GRACE = timedelta(seconds=10)
# Sent rows are kept this long to show what was sent when, then deleted by the sweep.
KEEP_SENT = timedelta(days=7)

TaskArgument = int | list[int] | None

_discovery = threading.Lock()


@dataclass
class FollowUps:
    """What happened to the follow-up work named while it was being watched."""

    sent: int = 0
    deferred: int = 0


_watching: ContextVar[FollowUps | None] = ContextVar("glamml_follow_ups", default=None)
# Inside a web request: in-process (eager) tasks run after the response, in a thread. A new
# thread starts with the default, so the tasks such a thread sends run inline in it.
_background: ContextVar[bool] = ContextVar("glamml_background", default=False)


@contextmanager
def watch(*, background: bool = False) -> Iterator[FollowUps]:
    """Count the tasks sent and deferred (left in the outbox) by the code inside the block.

    A view wraps its service call in it to tell the person when their change is saved but its
    follow-up waits for the broker. With ``background``, a task that would run in-process (the
    embedded demo, ``CELERY_TASK_ALWAYS_EAGER``) runs in a thread instead, so the request
    returns at once and the page shows the work's progress, as it does with real workers.
    """
    follow_ups = FollowUps()
    token = _watching.set(follow_ups)
    background_token = _background.set(background)
    try:
        yield follow_ups
    finally:
        _background.reset(background_token)
        _watching.reset(token)


def enqueue(name: str, *args: TaskArgument) -> None:
    """Record task ``name`` with ``args`` in the outbox; send it once the transaction commits.

    Outside a transaction it is recorded and sent at once; if the transaction rolls back it is
    neither recorded nor sent, so a worker never looks for rows that do not exist. An unknown
    name fails here, inside the transaction, rather than after the commit.
    """
    task = task_named(name)
    row = OutboxTask.objects.create(name=name, args=list(args))
    # In production a send that fails after the commit must not turn a saved change into an
    # error (robust: logged, not raised). Eager mode runs the task right here, and its errors
    # propagate as they would from a direct call.
    eager = bool(task.app.conf.task_always_eager)
    transaction.on_commit(partial(_deliver, row.pk, name, row.args), robust=not eager)


def enqueue_many(name: str, calls: list[tuple[TaskArgument, ...]]) -> None:
    """Record one task ``name`` per argument tuple in ``calls``, sent together after the commit.

    As :func:`enqueue` called once per tuple, in order, but the outbox rows are written by one
    statement and sent through one broker connection, then marked sent by one ``UPDATE``: an
    import of 100,000 records names 140 prediction tasks, and one round trip per task to the
    database (an autocommit each) and to the broker cost more than a second after its commit.
    """
    if not calls:
        return
    task = task_named(name)
    rows = OutboxTask.objects.bulk_create(OutboxTask(name=name, args=list(a)) for a in calls)
    eager = bool(task.app.conf.task_always_eager)
    # Only the rows' ids wait for the commit; their arguments are read back from the outbox as
    # they are sent. An import of a million records names 1,400 tasks of 500 record ids, which
    # held until its commit made the import's memory grow with the file.
    pks = [row.pk for row in rows]
    transaction.on_commit(partial(_deliver_many, name, pks), robust=not eager)


# Outbox rows read back at a time to be sent (100 tasks of 500 record ids: 50,000 ids).
DELIVER_CHUNK = 100


def _outbox_args(pks: list[int]) -> Iterator[tuple[int, list[Any]]]:
    """Each row of ``pks`` with its arguments, in the order of ``pks``, a chunk at a time."""
    for start in range(0, len(pks), DELIVER_CHUNK):
        chunk = pks[start : start + DELIVER_CHUNK]
        args = dict(OutboxTask.objects.filter(pk__in=chunk).values_list("pk", "args"))
        yield from ((pk, args[pk]) for pk in chunk if pk in args)


def _deliver_many(name: str, pks: list[int]) -> int:
    """Send outbox rows of one task in order; the rows after a broker error wait for the sweep."""
    task = task_named(name)
    if task.app.conf.task_always_eager:
        # In-process: each runs (or starts its thread) exactly as a single enqueue's would.
        return sum(_deliver(pk, name, args) for pk, args in _outbox_args(pks))
    sent: list[int] = []
    try:
        with task.app.producer_or_acquire() as producer:
            for pk, args in _outbox_args(pks):
                task.apply_async(args=tuple(args), producer=producer)
                sent.append(pk)
    except BROKER_ERRORS as exc:
        done = set(sent)
        waiting = [pk for pk in pks if pk not in done]
        _mark_waiting(waiting, exc)
        logger.warning(
            "Task queue unreachable; %d %s tasks wait in the outbox: %s", len(waiting), name, exc
        )
    if sent:
        _mark_sent(sent)
    return len(sent)


def _mark_sent(pks: list[int]) -> None:
    OutboxTask.objects.filter(pk__in=pks).update(attempts=F("attempts") + 1, sent_at=timezone.now())
    _count(sent=len(pks))


def _mark_waiting(pks: list[int], exc: Exception) -> None:
    """The rows stay unsent, for the sweep, with the broker's error."""
    OutboxTask.objects.filter(pk__in=pks).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )
    _count(deferred=len(pks))


def _deliver(pk: int, name: str, args: list[Any]) -> bool:
    """Send one outbox row's task; mark it sent, or leave it for the sweep if the broker fails."""
    task = task_named(name)
    if (
        task.app.conf.task_always_eager
        and _background.get()
        and settings.GLAMML_EAGER_IN_BACKGROUND
    ):
        threading.Thread(
            target=_run_in_thread, args=(pk, task, args), name=f"glamml {name}", daemon=True
        ).start()
        _count(sent=1)
        return True
    try:
        task.apply_async(args=tuple(args))
    except BROKER_ERRORS as exc:
        if task.app.conf.task_always_eager:
            raise  # no broker in eager mode: the task itself failed
        _mark_waiting([pk], exc)
        logger.warning("Task queue unreachable; %s(%s) waits in the outbox: %s", name, args, exc)
        return False
    _mark_sent([pk])
    return True


def _run_in_thread(pk: int, task: Task, args: list[Any]) -> None:  # type: ignore[type-arg]
    """Run an in-process task after the request that sent it; its row is marked sent after.

    Its failures are logged, not raised (nobody waits on this thread): the task's own state
    row (a job, a training run) is what tells the person.
    """
    try:
        task.apply_async(args=tuple(args))
        OutboxTask.objects.filter(pk=pk).update(attempts=F("attempts") + 1, sent_at=timezone.now())
    except Exception:
        logger.exception("In-process task %s(%s) failed", task.name, args)
    finally:
        # This thread's own database connections: nobody else would close them.
        connections.close_all()


def _count(*, sent: int = 0, deferred: int = 0) -> None:
    follow_ups = _watching.get()
    if follow_ups is not None:
        follow_ups.sent += sent
        follow_ups.deferred += deferred


def outbox_send(*, grace: timedelta = SWEEP_GRACE, limit: int = 1000) -> int:
    """Send the tasks still waiting in the outbox, oldest first; return how many were sent.

    Stops at the first broker error (the rest wait for the next sweep). Rows are locked while
    they are sent, so two sweeps at once do not send the same row twice; a row another sweep
    holds is skipped.
    """
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        waiting = (
            OutboxTask.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=now - grace)
            .order_by("id")
            .values_list("pk", "name", "args")[:limit]
        )
        for pk, name, args in waiting:
            if not _deliver(pk, name, args):
                break
            sent += 1
    OutboxTask.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    return sent


def task_named(name: str) -> Task:  # type: ignore[type-arg]
    """The registered task called ``name``; LookupError if there is none."""
    tasks = current_app.tasks
    if name not in tasks:
        # A web process has not imported any tasks module yet: Celery's own discovery does
        # (every installed app's ``tasks.py``), as a worker does when it starts.
        with _discovery:
            current_app.autodiscover_tasks(force=True)
    try:
        return tasks[name]
    except KeyError:
        raise LookupError(UNKNOWN_TASK.format(name=name)) from None
