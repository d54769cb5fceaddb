"""Each prediction carries its record's collection (what the queue of one collection reads),
whoever inserts it and wherever the record goes."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalogue.models import MonitoringPolicy, Prediction, Record
from catalogue.services.predictions import predictions_create
from tests.factories import CollectionFactory, PredictionFactory, RecordFactory


@pytest.mark.django_db
def test_a_prediction_made_by_the_model_carries_its_records_collection(field, active_model):
    one, other = CollectionFactory(), CollectionFactory()
    ids = [
        RecordFactory(collection=c, title="A history of the steam engine").id for c in (one, other)
    ]

    predictions_create(field=field, record_ids=ids)

    found = dict(Prediction.objects.values_list("record_id", "collection_id"))
    assert found == {ids[0]: one.id, ids[1]: other.id}


@pytest.mark.django_db
def test_a_record_moved_to_another_collection_takes_its_predictions_along(field):
    record = RecordFactory()
    prediction = PredictionFactory(record=record)
    elsewhere = CollectionFactory()

    record.collection = elsewhere
    record.save()

    prediction.refresh_from_db()
    assert prediction.collection_id == elsewhere.id
    # Saving a record that stays where it is leaves its predictions alone.
    record.title = "Renamed"
    record.save()
    prediction.refresh_from_db()
    assert prediction.collection_id == elsewhere.id


@pytest.mark.django_db
def test_a_record_moved_during_its_batch_is_left_for_a_prediction_in_its_new_collection(
    field, active_model, admin_user, monkeypatch
):
    """The batch reads a record in one collection, routes it there, and writes: a record moved
    meanwhile (here into a sensitive collection) must not get a prediction routed for the old
    one, applied without a human, filed under the old collection."""
    from catalogue.services import predictions as service
    from catalogue.services.policy import policy_update

    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    # No spot checks: one would send the record that stays to the queue (2% of record ids).
    MonitoringPolicy.objects.update_or_create(field=field, defaults={"audit_rate": 0.0})
    open_, sensitive = CollectionFactory(), CollectionFactory(is_sensitive=True)
    moved = RecordFactory(collection=open_, title="A history of the steam engine")
    stays = RecordFactory(collection=open_, title="A treatise on the steam engine")
    route = service.new_predictions

    def move_then_route(**kwargs):
        Record.objects.filter(id=moved.id).update(collection=sensitive)
        return route(**kwargs)

    monkeypatch.setattr(service, "new_predictions", move_then_route)
    result = predictions_create(field=field, record_ids=[moved.id, stays.id])

    assert not Prediction.objects.filter(record=moved).exists()
    assert result.created == 1 and result.skipped == 1
    assert Prediction.objects.get(record=stays).status == Prediction.Status.APPLIED
    # The follow-up (the pending sweep predicts what has no prediction) routes it where it is.
    monkeypatch.setattr(service, "new_predictions", route)
    predictions_create(field=field, record_ids=[moved.id])
    prediction = Prediction.objects.get(record=moved)
    assert (prediction.collection_id, prediction.status) == (
        sensitive.id,
        Prediction.Status.QUEUED,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_move_during_a_batchs_write_waits_for_it_and_takes_the_prediction_along(
    field, active_model, monkeypatch
):
    """The insert locks the records it checked: a move made before the batch commits waits,
    then its trigger moves the new prediction too (it could not see it uncommitted)."""
    from catalogue.services import predictions as service

    one, other = CollectionFactory(), CollectionFactory()
    record = RecordFactory(collection=one, title="A history of the steam engine")
    draw = service.spot_checks_select
    waited: list[bool] = []

    def move() -> None:
        try:
            Record.objects.filter(id=record.id).update(collection=other)
        finally:
            connection.close()

    mover = threading.Thread(target=move)

    def move_before_commit(**kwargs):
        mover.start()
        mover.join(timeout=1.0)
        waited.append(mover.is_alive())
        return draw(**kwargs)

    monkeypatch.setattr(service, "spot_checks_select", move_before_commit)
    predictions_create(field=field, record_ids=[record.id])
    mover.join()

    assert waited == [True]
    assert Prediction.objects.get(record=record).collection_id == other.id
