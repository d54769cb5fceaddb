"""A record moved to another collection: its predictions are routed by the new collection's rules."""

from __future__ import annotations

import pytest

from catalogue.models import FieldValue, Prediction, Record, SpotCheck
from catalogue.selectors import provenance
from catalogue.services.applicability import field_set_collections
from catalogue.services.decisions import decision_make
from catalogue.services.monitoring.spotchecks import spot_check_outcomes
from catalogue.services.moves import MOVED, record_move
from catalogue.services.policy import policy_update
from tests.factories import (
    CollectionFactory,
    FieldValueFactory,
    PredictionFactory,
    RecordFactory,
    applied_prediction,
    spot_checked_prediction,
)


def current(prediction: Prediction) -> FieldValue:
    return FieldValue.objects.get(record=prediction.record, field=prediction.field, is_current=True)


@pytest.mark.django_db
def test_an_auto_applied_value_moved_into_a_sensitive_collection_goes_back_to_a_person(
    field, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    record = RecordFactory(collection=CollectionFactory())
    applied = applied_prediction(record=record, routed_by="auto", confidence=0.99)
    stays = applied_prediction(routed_by="auto", confidence=0.99)  # another record, not moved
    sensitive = CollectionFactory(is_sensitive=True)

    result = record_move(record=record, collection=sensitive, moved_by=admin_user)

    assert (result.queued, result.withdrawn) == (1, 0)
    applied.refresh_from_db()
    assert (applied.status, applied.routed_by) == ("queued", "sensitive-collection")
    assert applied.collection_id == sensitive.id
    withdrawn = current(applied)
    # The record is as it was before the model wrote (no value), the model's value is history.
    assert (withdrawn.label, withdrawn.action, withdrawn.policy) == ("", "withdrawn", MOVED)
    assert provenance(withdrawn, field=field, show_users=True).endswith(
        f"when the record moved to another collection by {admin_user.get_username()}"
    )
    assert "by" not in provenance(withdrawn, field=field).split("collection")[-1]
    assert FieldValue.objects.get(prediction=applied, action="").is_current is False
    assert Record.objects.get(pk=record.pk).collection_id == sensitive.id
    stays.refresh_from_db()
    assert stays.status == "applied" and current(stays).label == stays.label
    # Moving it back applies it again under the open collection's rules.
    record_move(record=record, collection=CollectionFactory(), moved_by=admin_user)
    applied.refresh_from_db()
    assert (applied.status, current(applied).label) == ("applied", applied.label)


@pytest.mark.django_db
def test_a_persons_value_is_untouched_by_a_move(field, admin_user, cataloguer):
    record = RecordFactory()
    accepted = PredictionFactory(record=record, status="accepted", routed_by="threshold")
    FieldValueFactory(
        record=record, label="fra", source="human", action="accepted", prediction=accepted
    )
    FieldValueFactory(record=RecordFactory(), label="ger", source="human")
    sensitive = CollectionFactory(is_sensitive=True)
    elsewhere = CollectionFactory()
    field_set_collections(field=field, collections=[elsewhere], changed_by=admin_user)

    for collection in (sensitive, elsewhere, CollectionFactory()):
        record_move(record=record, collection=collection, moved_by=admin_user)
        accepted.refresh_from_db()
        assert accepted.status == "accepted"
        value = current(accepted)
        assert (value.label, value.source, value.action) == ("fra", "human", "accepted")


@pytest.mark.django_db
def test_a_move_where_the_field_does_not_apply_takes_the_item_off_the_queue(field, admin_user):
    books, art = CollectionFactory(), CollectionFactory()
    field_set_collections(field=field, collections=[books], changed_by=admin_user)
    waiting = PredictionFactory(record=RecordFactory(collection=books), status="queued")
    applied = applied_prediction(record=RecordFactory(collection=books))

    assert record_move(record=waiting.record, collection=art, moved_by=admin_user).withdrawn == 1
    record_move(record=applied.record, collection=art, moved_by=admin_user)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.routed_by) == ("superseded", MOVED)
    applied.refresh_from_db()
    assert applied.status == "superseded"
    assert (current(applied).label, current(applied).action) == ("", "withdrawn")
    assert not Prediction.objects.filter(status__in=("queued", "applied")).exists()


@pytest.mark.django_db
def test_a_record_moved_where_the_field_applies_is_predicted(
    field, active_model, admin_user, django_capture_on_commit_callbacks
):
    books, art = CollectionFactory(), CollectionFactory()
    field_set_collections(field=field, collections=[books], changed_by=admin_user)
    record = RecordFactory(collection=art, title="Histoire de la machine à vapeur en France")

    with django_capture_on_commit_callbacks(execute=True):
        result = record_move(record=record, collection=books, moved_by=admin_user)

    assert result.predicting == [field.id]
    prediction = Prediction.objects.get(record=record)
    assert prediction.collection_id == books.id


@pytest.mark.django_db
def test_a_move_through_the_admin_reroutes_the_record(client, field, admin_user):
    books, art = CollectionFactory(), CollectionFactory()
    field_set_collections(field=field, collections=[books], changed_by=admin_user)
    record = RecordFactory(collection=books, identifier="b-1", title="Old title")
    waiting = PredictionFactory(record=record, status="queued")
    client.force_login(admin_user)

    response = client.post(
        f"/admin/catalogue/record/{record.pk}/change/",
        {
            "collection": art.pk,
            "identifier": "b-1",
            "title": "New title",
            "description": "",
            "extra": "{}",
        },
    )

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.collection_id, record.title) == (art.id, "New title")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.routed_by) == ("superseded", MOVED)


@pytest.mark.django_db
def test_a_moved_record_is_read_with_its_new_collections_calibration(field, admin_user, settings):
    settings.GLAMML_NEW_COLLECTION_RATIO = 0.9
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    applied = applied_prediction(confidence=0.99, raw_confidence=0.99, routed_by="threshold")

    # A collection with no evidence reads 0.99 as 0.891: under the threshold, so to a person.
    record_move(record=applied.record, collection=CollectionFactory(), moved_by=admin_user)

    applied.refresh_from_db()
    assert applied.confidence == pytest.approx(0.891)
    assert (applied.status, applied.routed_by) == ("queued", "threshold")
    assert (current(applied).label, current(applied).policy) == ("", MOVED)


@pytest.mark.django_db
def test_a_spot_checked_value_moved_into_a_sensitive_collection_is_withdrawn_and_still_waits(
    field, admin_user, cataloguer
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    record = RecordFactory(collection=CollectionFactory())
    checked = spot_checked_prediction(record=record, confidence=0.99)
    sensitive = CollectionFactory(is_sensitive=True)

    result = record_move(record=record, collection=sensitive, moved_by=admin_user)

    assert result.queued == 1
    checked.refresh_from_db()
    assert (checked.status, checked.routed_by) == ("queued", "sensitive-collection")
    withdrawn = current(checked)
    assert (withdrawn.label, withdrawn.action, withdrawn.policy) == ("", "withdrawn", MOVED)
    assert provenance(withdrawn, field=field, show_users=True).endswith(
        f"when the record moved to another collection by {admin_user.get_username()}"
    )
    assert SpotCheck.objects.filter(prediction=checked).exists()

    decision_make(prediction=checked, reviewer=cataloguer, action="accept")

    value = current(checked)
    assert (value.label, value.source, value.action) == (checked.label, "human", "accepted")
    (outcome,) = spot_check_outcomes(SpotCheck.objects.filter(prediction=checked))
    assert outcome.outcome == "accept"


@pytest.mark.django_db
def test_a_decided_spot_check_and_a_persons_value_are_untouched_by_a_sensitive_move(
    field, admin_user, cataloguer
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    record = RecordFactory(collection=CollectionFactory())
    decided = spot_checked_prediction(record=record, confidence=0.99)
    decision_make(prediction=decided, reviewer=cataloguer, action="correct", label="deu")
    other = RecordFactory(collection=CollectionFactory())
    persons = spot_checked_prediction(record=other, confidence=0.99)
    FieldValue.objects.filter(record=other).update(is_current=False)
    FieldValueFactory(record=other, label="ita", source="human")
    sensitive = CollectionFactory(is_sensitive=True)

    record_move(record=record, collection=sensitive, moved_by=admin_user)
    record_move(record=other, collection=sensitive, moved_by=admin_user)

    decided.refresh_from_db()
    assert decided.status == "corrected"
    assert (current(decided).label, current(decided).source) == ("deu", "human")
    persons.refresh_from_db()
    assert (persons.status, persons.routed_by) == ("queued", "sensitive-collection")
    assert (current(persons).label, current(persons).source) == ("ita", "human")


@pytest.mark.django_db
def test_a_spot_check_moved_out_of_a_sensitive_collection_is_applied_again_and_waits_as_one(
    field, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="auto")
    record = RecordFactory(collection=CollectionFactory())
    checked = spot_checked_prediction(record=record, confidence=0.99)
    record_move(record=record, collection=CollectionFactory(is_sensitive=True), moved_by=None)
    open_ = CollectionFactory()

    result = record_move(record=record, collection=open_, moved_by=admin_user)

    assert result.applied == 1
    checked.refresh_from_db()
    assert (checked.status, checked.routed_by) == ("queued", "spot-check")
    assert (current(checked).label, current(checked).source) == (checked.label, "model")
