"""Prediction works batch by batch: a fixed number of queries whatever the batch's size, with
the same values, provenance and supersession as one record at a time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import FieldValue, ModelVersion, MonitoringPolicy, Prediction, Record
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create, predictions_enqueue_field
from catalogue.services.values import value_set, values_apply_predictions
from tests.factories import CollectionFactory, RecordFactory

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
    "Storia della letteratura italiana dalle origini ai nostri giorni",
    "A Treatise on the Steam Engine, with its application to navigation",
]


def records(n: int, collection=None) -> list[int]:
    collection = collection or CollectionFactory()
    return [RecordFactory(collection=collection, title=TITLES[i % 4]).id for i in range(n)]


def queries(field, ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as captured:
        predictions_create(field=field, record_ids=ids)
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_batch(field, active_model, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.5)
    # Spot checks take a few statements more in a batch that draws any: none here.
    MonitoringPolicy.objects.update_or_create(field=field, defaults={"audit_rate": 0.0})
    queries(field, records(4))  # the first batch also adds the labels to the vocabulary
    # 60 rows fit in one statement on SQLite too (at most 999 parameters); PostgreSQL takes
    # a thousand at a time.
    small, large = queries(field, records(4)), queries(field, records(60))
    assert large == small
    statuses = Prediction.objects.values_list("status", flat=True)
    assert set(statuses) == {Prediction.Status.APPLIED} and len(statuses) == 68


@pytest.mark.django_db
def test_a_batch_writes_values_with_their_provenance(field, active_model, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.5)
    ids = records(4)
    result = predictions_create(field=field, record_ids=ids)
    assert (result.created, result.applied, result.queued) == (4, 4, 0)
    values = FieldValue.objects.filter(record_id__in=ids).select_related("prediction")
    assert sorted(v.label for v in values) == ["deu", "eng", "fra", "ita"]
    for value in values:
        assert value.source == FieldValue.Source.MODEL and value.is_current
        assert value.prediction.record_id == value.record_id
        assert value.model_version_id == active_model.id and value.policy == "threshold"
        assert value.confidence == pytest.approx(value.prediction.confidence)


@pytest.mark.django_db
def test_a_new_version_supersedes_the_old_suggestions_and_replaces_their_values(
    field, active_model, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.5)
    ids = records(3)
    predictions_create(field=field, record_ids=ids)
    newer = ModelVersion.objects.create(
        field=field,
        version=2,
        status=ModelVersion.Status.CANDIDATE,
        artefact=active_model.artefact,
        checksum=active_model.checksum,
        format_version=active_model.format_version,
        training_fingerprint="1" * 64,
    )
    result = predictions_create(field=field, record_ids=ids, model_version=newer)
    assert result.created == 3
    old = Prediction.objects.filter(model_version=active_model)
    assert set(old.values_list("status", flat=True)) == {Prediction.Status.SUPERSEDED}
    current = FieldValue.objects.filter(record_id__in=ids, is_current=True)
    assert set(current.values_list("model_version_id", flat=True)) == {newer.id}
    assert FieldValue.objects.filter(record_id__in=ids, is_current=False).count() == 3


@pytest.mark.django_db
def test_only_records_that_need_a_prediction_are_enqueued(
    field, active_model, django_capture_on_commit_callbacks
):
    settled, predicted, rolled_back, fresh = records(4)
    value_set(record=Record.objects.get(pk=settled), field=field, label="deu", source="import")
    predictions_create(field=field, record_ids=[predicted, rolled_back])
    Prediction.objects.filter(record_id=rolled_back).update(status=Prediction.Status.SUPERSEDED)
    with django_capture_on_commit_callbacks(execute=True):
        enqueued = predictions_enqueue_field(field=field)
    # A superseded prediction of the active version is revived (a rollback), not made again.
    assert enqueued == 2
    assert Prediction.objects.get(record_id=fresh).model_version == active_model
    assert Prediction.objects.get(record_id=rolled_back).status != Prediction.Status.SUPERSEDED
    assert not Prediction.objects.filter(record_id=settled).exists()


@pytest.mark.django_db
def test_a_batch_of_values_keeps_settled_and_own_values_and_replaces_the_others(
    field, active_model, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.5)
    MonitoringPolicy.objects.update_or_create(field=field, defaults={"audit_rate": 0.0})
    person, own, other, empty = ids = records(4)
    predictions_create(field=field, record_ids=ids)
    value_set(record=Record.objects.get(pk=person), field=field, label="lat", source="human")
    value_set(record=Record.objects.get(pk=other), field=field, label="lat", source="model")
    FieldValue.objects.filter(record_id=empty).delete()
    predictions = list(Prediction.objects.filter(record_id__in=ids))

    assert values_apply_predictions(predictions=predictions) == 2
    current = {v.record_id: v for v in FieldValue.objects.filter(field=field, is_current=True)}
    assert (current[person].label, current[person].source) == ("lat", "human")
    by_record = {p.record_id: p for p in predictions}
    for record_id in (own, other, empty):
        assert current[record_id].prediction_id == by_record[record_id].id
        assert current[record_id].label == by_record[record_id].label
    assert FieldValue.objects.filter(record_id=own).count() == 1  # not written twice
    assert FieldValue.objects.get(record_id=other, label="lat").is_current is False
    # Twice is the same as once.
    assert values_apply_predictions(predictions=predictions) == 0
