"""Follow-up work reaches the task queue by name, and only once its transaction commits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection, transaction

from catalogue import dispatch
from catalogue.models import Prediction
from tests.factories import CollectionFactory, RecordFactory

ROOT = Path(__file__).resolve().parents[2]
TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
]


@pytest.fixture
def record_ids(db):
    collection = CollectionFactory()
    return [RecordFactory(collection=collection, title=title).id for title in TITLES]


@pytest.mark.django_db
def test_a_task_runs_only_when_the_transaction_commits(
    field, active_model, record_ids, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, record_ids)
        assert not Prediction.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: eager mode runs the task here, in this process
    assert Prediction.objects.filter(record_id__in=record_ids).count() == 2


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(
    field, active_model, record_ids, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, record_ids)
        raise RuntimeError("the change failed")
    assert callbacks == []


def test_an_unknown_task_name_fails_before_anything_is_committed():
    with pytest.raises(LookupError, match="No task named 'catalogue.tasks.nothing'"):
        dispatch.enqueue("catalogue.tasks.nothing", 1)


def test_every_task_the_settings_and_services_name_is_registered():
    named = {
        value
        for value in vars(dispatch).values()
        if isinstance(value, str) and value.startswith("catalogue.tasks.")
    }
    assert len(named) == 11
    named |= set(settings.CELERY_TASK_ROUTES)
    named |= {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in named:
        assert dispatch.task_named(name).name == name
    assert named <= set(current_app.tasks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_process_that_never_imported_the_tasks_still_runs_them(
    field, active_model, record_ids, data_dir
):
    # A web process: it imports services and views, never catalogue.tasks, and runs in
    # eager mode, so the task must be found by name and run in-process.
    s = connection.settings_dict
    script = (
        "import sys, django; django.setup()\n"
        "import review.urls, catalogue.services.imports\n"
        "assert 'catalogue.tasks' not in sys.modules, 'imported too early'\n"
        "from catalogue import dispatch\n"
        f"dispatch.enqueue(dispatch.PREDICT_RECORDS, {field.id}, {record_ids!r})\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "glamml.settings",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "GLAMML_DATA_DIR": str(data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert Prediction.objects.filter(record_id__in=record_ids).count() == 2
