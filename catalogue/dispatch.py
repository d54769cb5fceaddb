"""Handing follow-up work to the task queue: by task name, once the transaction commits.

Services decide that work must follow (predict these records, train this field, re-route the
waiting predictions) and name it here; ``catalogue.tasks`` holds the thin Celery wrappers that
call the services back. Naming tasks instead of importing them keeps the imports pointing one
way (tasks → services → dispatch), and gives the queue one door: the place where follow-up work
will be recorded in the database before it is sent (issue 11).

Tasks are looked up in the Celery app's registry and sent with ``apply_async``, which runs them
in-process under ``CELERY_TASK_ALWAYS_EAGER`` (the demo and the tests); ``send_task`` would not
(Celery ignores eager mode there).
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from celery import current_app
from django.db import transaction

if TYPE_CHECKING:
    from celery import Task

# The names of the tasks in catalogue.tasks (which registers them under these names).
PREDICT_RECORDS = "catalogue.tasks.predict_records"
REROUTE_FIELD = "catalogue.tasks.reroute_field"
TRAIN_FIELD = "catalogue.tasks.train_field"
REPREDICT_FIELD = "catalogue.tasks.repredict_field"
RETRAIN_DUE_FIELDS = "catalogue.tasks.retrain_due_fields"
REAP_STALE_TRAINING_RUNS = "catalogue.tasks.reap_stale_training_runs"
PREDICT_PENDING = "catalogue.tasks.predict_pending"
MONITOR_FIELDS = "catalogue.tasks.monitor_fields"
SEND_ALERT_EMAIL = "catalogue.tasks.send_alert_email"

UNKNOWN_TASK = "No task named {name!r} is registered with the Celery app."

TaskArgument = int | list[int]

_discovery = threading.Lock()


def enqueue(name: str, *args: TaskArgument) -> None:
    """Send task ``name`` with ``args`` once the current transaction commits.

    Outside a transaction it is sent at once; if the transaction rolls back it is never sent,
    so a worker never looks for rows that do not exist. An unknown name fails here, inside the
    transaction, rather than after the commit.
    """
    task = task_named(name)
    transaction.on_commit(partial(task.apply_async, args=args))


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
