"""Workers survive the broker going away mid-task, and work a killed worker held resumes.

Real processes: a redis-server of the test's own (stopped and started again) and Celery workers
with the deployed prefork pool and the options of docker-compose.yml, against PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings

from catalogue import dispatch
from catalogue.models import Prediction, TrainingRun
from catalogue.services.training.runs import training_run_create
from tests.processes import (
    broker_at,
    controller,
    records_to_predict,
    redis_server,
    report,
    sized,
    start_worker,
    stop_process,
    wait_for,
    waiting_on_a_lock,
)

__all__ = ["redis_server"]  # a fixture

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The killed-worker test's workers use the shortest visibility timeout the settings allow rather
# than the deployed 45 s, which the test used to wait out: redelivery works the same way.
VISIBILITY_TIMEOUT = 10
SHORT_VISIBILITY = {"GLAMML_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}


def run_status(run: TrainingRun) -> str:
    run.refresh_from_db()
    return run.status


@pytest.mark.django_db(transaction=True)
def test_a_worker_running_a_task_survives_redis_going_away(
    genre, genre_records, redis_server, data_dir, tmp_path
):
    log = tmp_path / "worker.log"
    worker = start_worker(redis_server.url, data_dir, log=log, pool="prefork")
    try:
        with broker_at(redis_server.url):
            run = training_run_create(field=genre)
        assert wait_for(lambda: run_status(run) != "queued", seconds=90, process=worker, log=log)
        redis_server.stop()  # while the run trains
        # Down until the worker has noticed and failed to reconnect at least once (rather than
        # a fixed 3 s): the outage is met, whatever the machine's speed.
        assert wait_for(
            lambda: "Cannot connect to" in log.read_text(), seconds=60, process=worker, log=log
        ), log.read_text()
        redis_server.start()
        finished = wait_for(
            lambda: run_status(run) in ("succeeded", "failed"), seconds=120, process=worker, log=log
        )
        assert finished, log.read_text()
        # Reconnected and still consuming: the re-prediction the promotion asked for arrives.
        assert wait_for(
            lambda: "repredict_field" in log.read_text() and "Connected" in log.read_text(),
            seconds=60,
            process=worker,
            log=log,
        )
        assert worker.poll() is None, log.read_text()
    finally:
        stop_process(worker)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.message
    text = log.read_text()
    assert "Connection to broker lost" in text  # the outage happened under the worker
    for symptom in ("Unrecoverable error", "Error on restarting Gossip", "AttributeError"):
        assert symptom not in text, text


@pytest.mark.django_db(transaction=True)
def test_a_batch_held_by_a_killed_worker_is_done_by_the_next_within_a_minute(
    active_model, redis_server, data_dir, tmp_path
):
    field = active_model.field
    ids = records_to_predict(sized(120, 2000))
    log = tmp_path / "worker.log"
    worker = start_worker(
        redis_server.url, data_dir, log=log, pool="prefork", environment=SHORT_VISIBILITY
    )
    try:
        assert wait_for(lambda: "ready" in log.read_text(), seconds=90, process=worker, log=log)
        with controller() as conn:
            # Hold the predictions table so that the batch stops at its first write: it is in
            # flight when the worker is killed, however fast the machine (a quiet one finished
            # the batch before a kill half a second after it was received).
            conn.execute("LOCK TABLE catalogue_prediction IN SHARE ROW EXCLUSIVE MODE")
            with broker_at(redis_server.url):
                dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, ids)  # one big batch
            assert wait_for(
                lambda: waiting_on_a_lock(conn) == 1, seconds=120, process=worker, log=log
            ), log.read_text()
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool child, mid-batch
            worker.wait()
            conn.rollback()  # the lock goes
    finally:
        stop_process(worker)
    killed = time.monotonic()
    unacked = redis_server.client().hlen(settings.REDIS_KEY_PREFIX + "unacked")
    assert unacked == 1, "the batch was not in flight when the worker was killed"
    assert not Prediction.objects.filter(field=field).exists()

    worker = start_worker(  # its restart
        redis_server.url, data_dir, log=log, pool="prefork", environment=SHORT_VISIBILITY
    )
    try:
        # Back in the queue once older than the visibility timeout, then taken again.
        redelivered = wait_for(
            lambda: log.read_text().count("received") >= 2,
            seconds=VISIBILITY_TIMEOUT + 60,
            process=worker,
            log=log,
        )
        resumed_after = time.monotonic() - killed
        done = wait_for(
            lambda: Prediction.objects.filter(field=field).count() == len(ids),
            seconds=300,
            process=worker,
            log=log,
        )
    finally:
        stop_process(worker)
    assert redelivered and done, log.read_text()
    assert resumed_after < 60, f"resumed {resumed_after:.0f} s after the kill"
    report(
        f"Killed worker: a {len(ids)}-record batch, the worker killed mid-batch, taken again "
        f"{resumed_after:.0f} s after the kill (visibility {VISIBILITY_TIMEOUT} s); "
        f"{len(ids)} predictions, one per record"
    )
    # Exactly one prediction per record: the second delivery created nothing twice.
    assert Prediction.objects.filter(field=field).values("record").distinct().count() == len(ids)
