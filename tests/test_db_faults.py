"""Processes that outlive their database connections: PostgreSQL ends them (a restart, a
failover, ``pg_terminate_backend``) or goes down for a while, and the web server and the workers
carry on, nobody restarting them.

Real processes against this test's PostgreSQL database: gunicorn as deployed, Celery workers
with the options of docker-compose.yml, a redis-server of the test's own. A database outage is
played by a relay in front of the server (``tests.processes.DatabaseOutage``): the server is
shared by other test runs, so the test cuts and refuses the connections instead of restarting it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from catalogue import dispatch
from catalogue.models import Decision, FieldValue, Prediction
from tests.factories import CollectionFactory, LabelFactory, PredictionFactory
from tests.processes import (
    ROOT,
    DatabaseOutage,
    broker_at,
    controller,
    database_url,
    free_port,
    gunicorn,
    records_to_predict,
    redis_server,
    sized,
    start_worker,
    stop_process,
    wait_for,
    waiting_on_a_lock,
)

__all__ = ["redis_server"]  # a fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def own_backend() -> int:
    """The process id of the test's own database connection's backend."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return int(pid)


def end_other_backends(conn: psycopg.Connection) -> int:
    """End every connection to this database but the controller's and the test's own, as a
    server restart would; returns how many were ended."""
    row = conn.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
        [own_backend()],
    ).fetchone()
    return int(row[0]) if row else 0


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """gunicorn with one sync worker that keeps its connection (as in production)."""
    log = tmp_path / "gunicorn.log"
    environment = {"CONN_MAX_AGE": "600", "GLAMML_DATA_DIR": str(tmp_path / "data")}
    with gunicorn(log, workers=1, environment=environment) as (url, server):
        yield url, server, log


def test_the_web_server_answers_after_postgresql_ended_its_connection(web):
    base, server, log = web
    CollectionFactory(name="Letters")
    assert wait_for(lambda: status_of(base + "/") == 200, seconds=60, process=server, log=log)

    with controller() as conn:
        ended = end_other_backends(conn)

    assert ended >= 1  # the server's kept connection was there, and is gone
    # The health check finds the dead connection before the page uses it, and reconnects:
    # no 500 for the first visitor after a database restart.
    assert status_of(base + "/") == 200, log.read_text()
    assert "Letters" in urllib.request.urlopen(base + "/", timeout=30).read().decode()


@contextmanager
def a_batch_held_at_its_first_write(
    redis_server, field, ids, worker: subprocess.Popen[bytes], log: Path
) -> Iterator[psycopg.Connection]:
    """Send the batch while the test holds the predictions table, so that it waits at its first
    write (mid-batch, whatever the machine's speed); the lock goes when the block ends."""
    with controller() as conn:
        conn.execute("LOCK TABLE catalogue_prediction IN SHARE ROW EXCLUSIVE MODE")
        with broker_at(redis_server.url):
            dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, ids)
        assert wait_for(
            lambda: waiting_on_a_lock(conn) == 1, seconds=120, process=worker, log=log
        ), log.read_text()
        yield conn
        conn.rollback()


def the_batch_is_written(worker: subprocess.Popen[bytes], log: Path, field, ids) -> None:
    """The worker writes a prediction for every record of the batch, and is still up."""
    done = wait_for(
        lambda: Prediction.objects.filter(field=field).count() >= len(ids),
        seconds=180,
        process=worker,
        log=log,
    )
    assert done, log.read_text()
    assert worker.poll() is None


def assert_one_prediction_per_record(field, ids) -> None:
    assert Prediction.objects.filter(field=field).count() == len(ids)
    assert Prediction.objects.filter(field=field).values("record").distinct().count() == len(ids)


def test_a_worker_finishes_its_batch_once_after_postgresql_ended_it_mid_batch(
    active_model, redis_server, data_dir, tmp_path, monkeypatch
):
    field = active_model.field
    ids = records_to_predict(sized(60, 2000))
    monkeypatch.setenv("CONN_MAX_AGE", "600")  # the worker keeps its connection, as deployed
    log = tmp_path / "worker.log"
    worker = start_worker(redis_server.url, data_dir, log=log, pool="prefork")
    try:
        with a_batch_held_at_its_first_write(redis_server, field, ids, worker, log) as conn:
            assert end_other_backends(conn) >= 1  # its connection ended there: mid-batch
        the_batch_is_written(worker, log, field, ids)
    finally:
        stop_process(worker)
    text = log.read_text()
    assert "terminating connection" in text  # the batch met the outage, and was retried
    assert_one_prediction_per_record(field, ids)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_decision_cut_off_by_a_database_outage_says_so_and_saves_nothing(field, cataloguer, htmx):
    LabelFactory(field=field, code="fra", name="French")
    prediction = PredictionFactory(label="fra")
    client = Client()
    client.force_login(cataloguer)
    url = reverse("review:decide", args=[prediction.code])
    data = {"action": "accept", "review_round": prediction.review_round}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def decide() -> HttpResponse:
        try:
            return client.post(url, data, **headers)
        finally:
            connection.close()  # the request's own connection, in its own thread

    with controller() as conn, ThreadPoolExecutor(max_workers=1) as pool:
        # The decision stops at its first write of a Decision row, with the prediction already
        # claimed in its transaction; then the database goes away under it.
        conn.execute("LOCK TABLE catalogue_decision IN SHARE ROW EXCLUSIVE MODE")
        sent = pool.submit(decide)
        assert wait_for(lambda: waiting_on_a_lock(conn) == 1, seconds=60)
        assert end_other_backends(conn) == 1
        conn.rollback()
        response = sent.result(timeout=60)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "The database is not answering" in html
    assert "what you just sent was <strong>not saved</strong>" in html
    assert "Traceback" not in html
    if htmx:  # in place of the page's content, not the item's
        assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#main", "innerHTML")
        assert 'class="site"' not in html
    else:
        assert 'class="site"' in html  # the site's header and footer
    # Nothing half-written: the claim on the prediction went with the rest of the transaction.
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.QUEUED
    assert not Decision.objects.exists()
    assert not FieldValue.objects.filter(record=prediction.record, source="human").exists()
    # The database back, the same decision goes through.
    assert client.post(url, data).status_code == 302
    assert Decision.objects.get().action == "accept"


def test_the_development_server_keeps_no_connection_after_a_burst_of_requests(tmp_path):
    """Issue 11: the development server kept a connection per request thread for 60 s, and a
    burst of 100 requests used all of PostgreSQL's connections."""
    port = free_port()
    log = tmp_path / "runserver.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CONN_MAX_AGE")}
    env.update(
        GLAMML_ENV="development",
        DATABASE_URL=database_url(),
        GLAMML_DATA_DIR=str(tmp_path / "data"),
    )
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with log.open("ab") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(lambda: status_of(base) == 200, seconds=60, process=server, log=log)
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda _: status_of(base), range(40)))
        assert statuses == [200] * 40, log.read_text()

        with controller() as conn:

            def server_connections() -> int:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND pid <> %s",
                    [own_backend()],
                ).fetchone()
                return int(row[0]) if row else 0

            # Each request's connection closes when the request ends.
            assert wait_for(lambda: server_connections() == 0, seconds=10, process=server, log=log)
    finally:
        stop_process(server)


@pytest.fixture
def database_outage() -> Iterator[DatabaseOutage]:
    outage = DatabaseOutage()
    outage.start()
    yield outage
    outage.stop()


def test_while_postgresql_is_down_pages_answer_503_and_afterwards_200_without_a_restart(
    database_outage, tmp_path
):
    CollectionFactory(name="Letters")
    log = tmp_path / "gunicorn.log"
    environment = {
        "DATABASE_URL": database_outage.url,  # every connection through the outage's relay
        "CONN_MAX_AGE": "600",
        "GLAMML_DATA_DIR": str(tmp_path / "data"),
    }
    with gunicorn(log, workers=1, environment=environment) as (base, server):
        assert status_of(base + "/") == 200

        database_outage.stop()  # its kept connection cut, new ones refused
        try:
            with urllib.request.urlopen(base + "/", timeout=30):
                pytest.fail("answered while the database was down")
        except urllib.error.HTTPError as exc:
            down = exc
        assert down.code == 503
        assert down.headers["Retry-After"] == "30"
        assert "The database is not answering" in down.read().decode()

        database_outage.start()
        assert status_of(base + "/") == 200, log.read_text()
        assert "Letters" in urllib.request.urlopen(base + "/", timeout=30).read().decode()
        assert server.poll() is None
    assert "Traceback" not in log.read_text()


def test_a_worker_whose_database_goes_down_mid_batch_finishes_it_once_when_it_is_back(
    active_model, redis_server, data_dir, tmp_path, database_outage, monkeypatch
):
    field = active_model.field
    ids = records_to_predict(sized(60, 2000))
    monkeypatch.setenv("CONN_MAX_AGE", "600")
    log = tmp_path / "worker.log"
    worker = start_worker(
        redis_server.url,
        data_dir,
        log=log,
        pool="prefork",
        environment={"DATABASE_URL": database_outage.url},
    )
    try:
        with a_batch_held_at_its_first_write(redis_server, field, ids, worker, log):
            database_outage.stop()
        # Down: the batch failed, and its retry found the database refusing connections.
        assert wait_for(
            lambda: log.read_text().count("Retry in") >= 2, seconds=60, process=worker, log=log
        ), log.read_text()
        assert not Prediction.objects.filter(field=field).exists()
        database_outage.start()
        the_batch_is_written(worker, log, field, ids)
    finally:
        stop_process(worker)
    assert "Connection refused" in log.read_text()  # it met the server down, not only a cut
    assert_one_prediction_per_record(field, ids)
