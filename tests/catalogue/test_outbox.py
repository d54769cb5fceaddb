"""A broker outage loses nothing: follow-up work waits in the outbox (Postgres) and is sent when
the broker is back. Against a real Redis server that the tests stop and start again."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalogue import dispatch
from catalogue.models import Decision, FieldValue, OutboxTask, Prediction, Record, TrainingRun
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create
from catalogue.services.training.schedule import NEVER_STARTED, training_runs_reap
from review.views.dashboard import RUN_DEFERRED
from tests.factories import (
    CollectionFactory,
    LabelFactory,
    PredictionFactory,
    RecordFactory,
    spot_checks_off,
)
from tests.processes import broker_at, redis_server, sized, start_worker, stop_process

__all__ = ["redis_server"]  # a fixture

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
]


def queued_messages(server, queue="inference"):
    """The tasks waiting in a Redis queue: (name, args) each."""
    messages = [
        json.loads(m) for m in server.client().lrange(settings.REDIS_KEY_PREFIX + queue, 0, -1)
    ]
    return [(m["headers"]["task"], json.loads(base64.b64decode(m["body"]))[0]) for m in messages]


@pytest.mark.django_db(transaction=True)
def test_a_task_named_during_an_outage_waits_in_the_outbox_and_is_sent_when_redis_is_back(
    field, redis_server
):
    redis_server.stop()
    with broker_at(redis_server.url), dispatch.watch() as follow_ups:
        dispatch.enqueue(dispatch.REROUTE_FIELD, field.id)  # no error: the outbox holds it
    assert (follow_ups.sent, follow_ups.deferred) == (0, 1)
    row = OutboxTask.objects.get()
    assert (row.name, row.args, row.sent_at) == (dispatch.REROUTE_FIELD, [field.id], None)
    assert row.attempts == 1 and "Error" in row.last_error

    with broker_at(redis_server.url):
        assert dispatch.outbox_send(grace=timedelta(0)) == 0  # still down: nothing sent
        redis_server.start()
        assert dispatch.outbox_send(grace=timedelta(0)) == 1
        assert dispatch.outbox_send(grace=timedelta(0)) == 0  # sent once, not again
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 3
    assert queued_messages(redis_server) == [(dispatch.REROUTE_FIELD, [field.id])]


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_a_row_its_own_commit_is_still_sending(field, redis_server):
    redis_server.stop()
    with broker_at(redis_server.url):
        dispatch.enqueue(dispatch.REROUTE_FIELD, field.id)
        redis_server.start()
        assert dispatch.outbox_send() == 0  # younger than the grace period
        OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=1))
        assert dispatch.outbox_send() == 1


@pytest.mark.django_db(transaction=True)
def test_a_policy_saved_during_an_outage_is_saved_and_the_admin_is_told(
    field, admin_user, client, redis_server
):
    client.force_login(admin_user)
    redis_server.stop()
    data = {
        f"{field.key}-mode": "review",
        f"{field.key}-threshold": "0.8",
        f"{field.key}-retrain_after_decisions": "50",
    }
    with broker_at(redis_server.url):
        response = client.post(
            reverse("review:policy_update", args=[field.key]), data, headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    assert dispatch.DEFERRED in response.content.decode()
    field.policy.refresh_from_db()
    assert (field.policy.mode, field.policy.threshold) == ("review", 0.8)
    assert OutboxTask.objects.get(sent_at__isnull=True).name == dispatch.REROUTE_FIELD


@pytest.mark.django_db(transaction=True)
def test_a_training_request_during_an_outage_stays_queued_and_is_sent_later(
    field, admin_user, client, redis_server
):
    client.force_login(admin_user)
    redis_server.stop()
    with broker_at(redis_server.url):
        response = client.post(reverse("review:training_run_create", args=[field.key]))
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
        assert RUN_DEFERRED.format(field=field.name.lower()) in page
        run = TrainingRun.objects.get()
        assert run.status == TrainingRun.Status.QUEUED
        # Its task waits in the outbox: the reaper neither sends it again nor fails it.
        later = timezone.now() + timedelta(minutes=30)
        assert training_runs_reap(now=later) == 0
        redis_server.start()
        assert dispatch.outbox_send(grace=timedelta(0)) == 1
    assert queued_messages(redis_server, "training") == [(dispatch.TRAIN_FIELD, [run.id])]


@pytest.mark.django_db(transaction=True)
def test_a_run_queued_too_long_is_sent_again_then_failed_with_a_reason(field, redis_server):
    resend = timedelta(seconds=settings.GLAMML_QUEUED_RUN_RESEND_SECONDS)
    limit = timedelta(seconds=settings.GLAMML_QUEUED_RUN_LIMIT_SECONDS)
    run = TrainingRun.objects.create(field=field)  # its message was lost with the broker
    with broker_at(redis_server.url):
        assert training_runs_reap() == 0  # young: left alone
        TrainingRun.objects.update(created_at=timezone.now() - 2 * resend)
        assert training_runs_reap() == 1  # sent again
        assert training_runs_reap() == 0  # just sent: not twice
        assert queued_messages(redis_server, "training") == [(dispatch.TRAIN_FIELD, [run.id])]
        TrainingRun.objects.update(created_at=timezone.now() - 2 * limit)
        assert training_runs_reap() == 1
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.message.startswith(NEVER_STARTED.split("{")[0])
    assert "6 hours" in run.message


@pytest.mark.django_db(transaction=True)
def test_reviewing_during_an_outage_saves_every_decision_and_its_follow_up_waits(
    field, cataloguer, client, redis_server
):
    LabelFactory(field=field, code="fra")
    LabelFactory(field=field, code="ita")
    collection = CollectionFactory()
    predictions = [
        PredictionFactory(record=RecordFactory(collection=collection)) for _ in range(sized(3, 30))
    ]
    actions = [
        {"action": "accept"},
        {"action": "correct", "label": "ita"},
        {"action": "reject"},
    ]
    client.force_login(cataloguer)
    redis_server.stop()
    with broker_at(redis_server.url):
        for i, prediction in enumerate(predictions):
            response = client.post(
                reverse("review:decide", args=[prediction.code]),
                {**actions[i % 3], "review_round": prediction.review_round},
            )
            assert response.status_code == 302, response.content.decode()
        # Every decision and its value saved; the re-reading of the collection's waiting
        # confidences that each decision asks for waits in the outbox.
        assert Decision.objects.filter(reviewer=cataloguer).count() == len(predictions)
        assert FieldValue.objects.filter(source="human", is_current=True).count() == sum(
            1 for i in range(len(predictions)) if i % 3 != 2
        )
        waiting = OutboxTask.objects.filter(sent_at__isnull=True)
        assert set(waiting.values_list("name", flat=True)) == {dispatch.RECALIBRATE_COLLECTION}
        assert waiting.count() == len(predictions)
        redis_server.start()
        assert dispatch.outbox_send(grace=timedelta(0)) == len(predictions)
        assert dispatch.outbox_send(grace=timedelta(0)) == 0  # once, not again
    assert queued_messages(redis_server) == [
        (dispatch.RECALIBRATE_COLLECTION, [field.id, collection.id])
    ] * len(predictions)


@pytest.mark.django_db(transaction=True)
def test_an_import_during_an_outage_stores_its_records_and_says_the_predictions_wait(
    active_model, redis_server, tmp_path, capsys
):
    path = tmp_path / "records.csv"
    path.write_text(
        "identifier,title\n" + "".join(f"o{i},{t}\n" for i, t in enumerate(TITLES)),
        encoding="utf-8",
    )
    redis_server.stop()
    with broker_at(redis_server.url):
        call_command("import_records", str(path), collection="outage", verbosity=0)
    out = capsys.readouterr().out
    assert "outage: 2 records created" in out
    assert "1 prediction batches wait in the outbox" in out
    assert Record.objects.filter(collection__slug="outage").count() == 2
    assert OutboxTask.objects.get(sent_at__isnull=True).name == dispatch.PREDICT_RECORDS


@pytest.mark.django_db(transaction=True)
def test_after_an_outage_a_worker_does_the_waiting_work_exactly_once(
    active_model, redis_server, data_dir, tmp_path
):
    field = active_model.field
    collection = CollectionFactory()
    records = [RecordFactory(collection=collection, title=t) for t in TITLES]
    spot_checks_off(field)
    policy_update(policy=field.policy, changed_by=None, mode="auto")
    predictions_create(field=field, record_ids=[r.id for r in records])
    redis_server.stop()
    with broker_at(redis_server.url):
        policy_update(policy=field.policy, changed_by=None, mode="review")
        fresh = RecordFactory(collection=collection, title=TITLES[0])
        dispatch.enqueue(dispatch.PREDICT_RECORDS, field.id, [fresh.id])
        assert OutboxTask.objects.filter(sent_at__isnull=True).count() == 2
        redis_server.start()
        worker = start_worker(redis_server.url, data_dir, log=tmp_path / "worker.log")
        try:
            assert dispatch.outbox_send(grace=timedelta(0)) == 2
            assert dispatch.outbox_send(grace=timedelta(0)) == 0
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _settled(field, fresh):
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(0.5)
        finally:
            stop_process(worker)
    assert _settled(field, fresh), (tmp_path / "worker.log").read_text()
    predictions = Prediction.objects.filter(field=field)
    assert predictions.count() == 3  # one per record: none twice
    assert set(predictions.values_list("routed_by", flat=True)) == {"review"}


def _settled(field, fresh) -> bool:
    predictions = Prediction.objects.filter(field=field)
    return (
        predictions.filter(record=fresh).exists()
        and not predictions.exclude(status="queued").exists()
    )


@pytest.mark.django_db(transaction=True)
def test_many_tasks_named_at_once_are_all_sent_in_order_or_all_wait_in_the_outbox(
    field, redis_server, monkeypatch
):
    # Read back from the outbox two at a time: the order holds across the chunks.
    monkeypatch.setattr(dispatch, "DELIVER_CHUNK", 2)
    calls = [(field.id, [i, i + 1], None, 0) for i in range(0, 6, 2)]
    with broker_at(redis_server.url), dispatch.watch() as follow_ups:
        dispatch.enqueue_many(dispatch.PREDICT_RECORDS, calls)
    assert (follow_ups.sent, follow_ups.deferred) == (3, 0)
    # Redis pushes each message at the list's head: the oldest is last.
    assert queued_messages(redis_server)[::-1] == [
        (dispatch.PREDICT_RECORDS, list(c)) for c in calls
    ]
    sent = OutboxTask.objects.order_by("id")
    assert [row.args[1] for row in sent] == [[0, 1], [2, 3], [4, 5]]
    assert all(row.sent_at is not None and row.attempts == 1 for row in sent)

    OutboxTask.objects.all().delete()
    redis_server.client().flushdb()
    redis_server.stop()
    with broker_at(redis_server.url), dispatch.watch() as follow_ups:
        dispatch.enqueue_many(dispatch.PREDICT_RECORDS, calls)  # no error: the outbox holds them
    assert (follow_ups.sent, follow_ups.deferred) == (0, 3)
    waiting = OutboxTask.objects.order_by("id")
    assert all(row.sent_at is None and "Error" in row.last_error for row in waiting)
    with broker_at(redis_server.url):
        redis_server.start()
        assert dispatch.outbox_send(grace=timedelta(0)) == 3
    assert [args[1] for _, args in queued_messages(redis_server)[::-1]] == [[0, 1], [2, 3], [4, 5]]
