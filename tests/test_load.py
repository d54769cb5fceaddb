"""A bounded load on loopback, as deployed: gunicorn in production settings (sync workers,
``DEBUG`` off, kept connections with health checks, static files collected with their manifest
and served by WhiteNoise) on PostgreSQL, with a Redis of its own as broker and cache, and
locust's users from ``bench/load_mixed_locust.py``: visitors browsing, searching and flagging,
cataloguers reviewing, an admin saving a policy, all at once.

No request may fail (a 5xx, or a status the page should not give), the server may log no
traceback, and everything the server answered as saved (each decision, each flag) must be in
the database afterwards. Small in the test suite (6 users for 10 s on 60 real British Library
records); ``GLAMML_RELIABILITY=full`` (``scripts/reliability.sh``) runs 12 users for 60 s on
1,300 records and reports p50 / p95 / p99 per page (:func:`tests.processes.report`).
"""

from __future__ import annotations

import csv

import pytest
from django.conf import settings
from django.utils import timezone

from bench import load_mixed
from catalogue.models import Prediction, Record
from catalogue.services.imports import records_import
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create
from tests.conftest import GENRE_SAMPLE
from tests.factories import CollectionFactory
from tests.processes import gunicorn, image_static_files, redis_server, report, sized

__all__ = ["image_static_files", "redis_server"]  # fixtures

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

RECORDS = sized(60, 1300)
USERS = sized(6, 12)
# Long enough for a cataloguer to reach the queue and decide while the rest of the suite loads
# the machine: at 6 s, CI runs at load 8-12 on 2 cores ended before either cataloguer had.
SECONDS = sized(10, 60)


def catalogue_with_waiting_items(field, tmp_path) -> int:
    """Real records, half with the catalogue's language (for the public to flag), half waiting
    for a cataloguer with the model's suggestion; how many wait."""
    with GENRE_SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:RECORDS]
    path = tmp_path / "records.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["identifier", "title", "description", "language"])
        writer.writeheader()
        for i, row in enumerate(rows):
            language = row["language"] if i % 2 else ""
            writer.writerow({**{k: row[k] for k in writer.fieldnames[:3]}, "language": language})
    policy_update(policy=field.policy, changed_by=None, mode="review")  # every suggestion waits
    collection = CollectionFactory(slug="bl", name="British Library")
    records_import(path=path, collection=collection, mapping={"language": "language"})
    waiting = Record.objects.filter(collection=collection).exclude(values__field=field)
    predictions_create(field=field, record_ids=list(waiting.values_list("id", flat=True)))
    return Prediction.objects.filter(status=Prediction.Status.QUEUED).count()


def test_under_a_mixed_load_no_request_fails_and_nothing_saved_is_lost(
    active_model, redis_server, image_static_files, tmp_path
):
    assert catalogue_with_waiting_items(active_model.field, tmp_path) >= RECORDS // 4
    plan = load_mixed.plan_make()
    log = tmp_path / "gunicorn.log"
    environment = {
        "GLAMML_ENV": "production",  # its settings: CONN_MAX_AGE=60, health checks, WhiteNoise
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions plan_make made
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # no TLS proxy in front of it here
        "STATIC_ROOT": str(image_static_files),  # collected as the image collects them
        "GLAMML_TRUSTED_PROXIES": "1",  # flags from many addresses, through one proxy
        "REDIS_URL": redis_server.url,
        "GLAMML_DATA_DIR": str(tmp_path / "data"),
    }
    started = timezone.now()
    with gunicorn(log, workers=2, environment=environment) as (url, server):
        rows, tally = load_mixed.run_locust(url, plan, USERS, SECONDS, tmp_path)
        assert server.poll() is None, log.read_text()

    from scale import machine  # bench/, on the path once load_mixed is imported

    saved = ", ".join(f"{len(codes)} {what}" for what, codes in tally.items())
    report(
        f"Load: {RECORDS} records, {USERS} users for {SECONDS} s; {machine()}",
        *load_mixed.table(rows),
        f"answered as saved: {saved}",
    )
    assert load_mixed.failures(rows) == 0, "\n".join(load_mixed.table(rows))
    assert "Traceback" not in log.read_text(), log.read_text()
    assert tally["decided"], "no cataloguer decided anything: the load did not reach the queue"
    assert load_mixed.lost(tally, since=started) == []
