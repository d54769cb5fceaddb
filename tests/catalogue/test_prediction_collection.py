"""Each prediction carries its record's collection (what the queue of one collection reads),
whoever inserts it and wherever the record goes."""

from __future__ import annotations

import pytest

from catalogue.models import Prediction
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
