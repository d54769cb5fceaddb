"""A real Celery worker process, against Redis and PostgreSQL, predicts an imported record."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from catalogue.models import Collection, Prediction, Record
from catalogue.services.imports import records_import
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create
from glamml.celery import app as celery_app
from tests.factories import spot_checks_off

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(data_dir):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "GLAMML_DATA_DIR": str(data_dir),
    }
    # Messages left from an earlier interrupted run must not reach this worker.
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "glamml",
            "worker",
            "--queues",
            "inference,training,default",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    celery_app.conf.task_always_eager = eager
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_predicts_and_routes_imported_records(active_model, worker, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(
        "identifier,title\n"
        "w1,Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart\n"
        "w2,Histoire de la Révolution française depuis 1789 jusqu'en 1814\n",
        encoding="utf-8",
    )
    collection = Collection.objects.create(slug="worker-test", name="Worker test")
    records_import(path=path, collection=collection)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if Prediction.objects.filter(record__collection=collection).count() == 2:
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    predictions = {
        p.record.identifier: p
        for p in Prediction.objects.filter(record__collection=collection).select_related("record")
    }
    assert set(predictions) == {"w1", "w2"}, "the worker did not predict both records in time"
    assert predictions["w1"].label == "deu"
    assert predictions["w2"].label == "fra"
    for p in predictions.values():
        assert p.status in ("applied", "queued")
        # Routed by the threshold; an applied value may then be drawn for a spot check (its
        # audit rank, a hash of the record id, is below the audit rate), which queues it.
        assert p.routed_by in ("threshold", "spot-check")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_policy_change_reaches_the_worker_by_task_name(active_model, worker):
    # The policy service names the re-route task (catalogue.dispatch); the worker runs it.
    field = active_model.field
    collection = Collection.objects.create(slug="worker-policy", name="Worker policy")
    records = [
        Record.objects.create(collection=collection, identifier=f"p{i}", title=title)
        for i, title in enumerate(
            [
                "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
                "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
            ]
        )
    ]
    spot_checks_off(field)
    policy_update(policy=field.policy, changed_by=None, mode="auto")
    predictions_create(field=field, record_ids=[r.id for r in records])
    assert set(Prediction.objects.values_list("status", flat=True)) == {"applied"}

    policy_update(policy=field.policy, changed_by=None, mode="review")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if set(Prediction.objects.values_list("status", flat=True)) == {"queued"}:
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    assert set(Prediction.objects.values_list("status", flat=True)) == {"queued"}
    assert set(Prediction.objects.values_list("routed_by", flat=True)) == {"review"}
