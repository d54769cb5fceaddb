"""Where a field applies, suggestions that agree with the record, and "not applicable"."""

from __future__ import annotations

import pytest

from catalogue.field_records import records_for_field
from catalogue.models import FieldJob, FieldValue, PolicyChange, Prediction
from catalogue.services.applicability import (
    NOT_MARKED,
    NOT_WAITING,
    ApplicabilityError,
    field_set_collections,
    prediction_mark_not_applicable,
    prediction_unmark_not_applicable,
)
from catalogue.services.imports import records_import
from catalogue.services.predictions import predictions_create
from catalogue.services.training.examples import training_examples
from tests.factories import (
    CollectionFactory,
    FieldValueFactory,
    PredictionFactory,
    RecordFactory,
    applied_prediction,
)


@pytest.fixture
def books(db):
    return CollectionFactory(slug="books", name="Books")


@pytest.fixture
def art(db):
    return CollectionFactory(slug="art", name="Artworks")


def test_narrowing_a_field_takes_the_other_collections_off_the_queue(field, books, art, admin_user):
    inside = PredictionFactory(record=RecordFactory(collection=books))
    waiting = PredictionFactory(record=RecordFactory(collection=art), label="arn")
    applied = applied_prediction(record=RecordFactory(collection=art), label="eng")
    catalogued = RecordFactory(collection=art)
    FieldValueFactory(record=catalogued, label="eng", source=FieldValue.Source.IMPORT)

    result = field_set_collections(field=field, collections=[books], changed_by=admin_user)

    assert (result.withdrawn, result.applied_withdrawn) == (2, 1)
    for prediction, status in (
        (inside, "queued"),
        (waiting, "superseded"),
        (applied, "superseded"),
    ):
        prediction.refresh_from_db()
        assert prediction.status == status
    withdrawn = FieldValue.objects.get(record=applied.record, is_current=True)
    assert (withdrawn.label, withdrawn.action, withdrawn.policy) == (
        "",
        "withdrawn",
        "not-applicable",
    )
    kept = FieldValue.objects.get(record=catalogued, is_current=True)
    assert (kept.label, kept.source) == ("eng", FieldValue.Source.IMPORT)
    change = PolicyChange.objects.get(attribute="collections")
    assert (change.old_value, change.new_value, change.changed_by) == (
        "every collection",
        "Books",
        admin_user,
    )
    assert set(records_for_field(field=field)) == {inside.record}


def test_nothing_is_predicted_outside_the_fields_collections(active_model, books, art):
    field = active_model.field
    outside = RecordFactory(collection=art, title="Monkey Puzzle")
    field_set_collections(field=field, collections=[books], changed_by=None)

    result = predictions_create(field=field, record_ids=[outside.id])

    assert result.created == 0
    assert not Prediction.objects.filter(record=outside).exists()


def test_adding_a_collection_back_sends_its_records_for_prediction(
    active_model, books, art, django_capture_on_commit_callbacks
):
    field = active_model.field
    field_set_collections(field=field, collections=[books], changed_by=None)
    record = RecordFactory(collection=art, title="Der Mensch ist frei geboren und überall")

    with django_capture_on_commit_callbacks(execute=True):
        result = field_set_collections(field=field, collections=[books, art], changed_by=None)

    assert result.enqueued == 1
    assert Prediction.objects.filter(record=record, field=field).exists()
    # As a job the dashboard follows, counted by its batches.
    job = FieldJob.objects.get(field=field)
    assert (job.kind, job.status, job.reason) == (
        "repredict",
        "succeeded",
        f"now applies to {art.name}",
    )
    assert job.done == job.total >= 1


def test_saving_the_same_collections_changes_nothing(field, books):
    field_set_collections(field=field, collections=[books], changed_by=None)

    field_set_collections(field=field, collections=[books], changed_by=None)

    assert PolicyChange.objects.filter(attribute="collections").count() == 1


# -- suggestions that agree with the record's value ----------------------------------------------


def test_an_imported_value_that_agrees_takes_the_suggestion_off_the_queue(field, books, tmp_path):
    agree = PredictionFactory(record=RecordFactory(collection=books, identifier="b1"), label="ita")
    disagree = PredictionFactory(
        record=RecordFactory(collection=books, identifier="b2"), label="spa"
    )
    flagged = PredictionFactory(
        record=RecordFactory(collection=books, identifier="b3"), label="ita", flagged=True
    )
    path = tmp_path / "books.csv"
    path.write_text("identifier,title,language\nb1,Il nome,ita\nb2,La rosa,ita\nb3,Il,ita\n")

    result = records_import(path=path, collection=books, mapping={"language": "language"})

    assert result.agreeing == 1
    statuses = {
        p.record.identifier: Prediction.objects.get(pk=p.pk).status
        for p in (agree, disagree, flagged)
    }
    assert statuses == {"b1": "agreed", "b2": "queued", "b3": "queued"}
    # The disagreeing item keeps the catalogue's value for the cataloguer to weigh.
    current = FieldValue.objects.get(record=disagree.record, is_current=True)
    assert (current.label, current.source) == ("ita", FieldValue.Source.IMPORT)


# -- not applicable ------------------------------------------------------------------------------


def test_a_cataloguer_marks_an_item_not_applicable(field, cataloguer):
    waiting = PredictionFactory(label="arn")

    prediction_mark_not_applicable(prediction=waiting, reviewer=cataloguer, review_round=0)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.flagged) == (Prediction.Status.NOT_APPLICABLE, False)
    value = FieldValue.objects.get(record=waiting.record, is_current=True)
    assert (value.label, value.source, value.action, value.user) == (
        "",
        FieldValue.Source.HUMAN,
        FieldValue.Action.NOT_APPLICABLE,
        cataloguer,
    )
    assert waiting.record not in records_for_field(field=field)
    assert waiting.record_id not in {e.key for e in training_examples(field=field)}


def test_a_record_marked_not_applicable_is_never_asked_again(active_model, cataloguer):
    waiting = PredictionFactory(field=active_model.field, model_version=active_model)
    prediction_mark_not_applicable(prediction=waiting, reviewer=cataloguer, review_round=0)

    result = predictions_create(field=active_model.field, record_ids=[waiting.record_id])

    assert result.created == 0
    assert Prediction.objects.filter(record=waiting.record).count() == 1


def test_not_applicable_keeps_a_catalogue_value(field, cataloguer):
    waiting = PredictionFactory(label="spa")
    FieldValueFactory(record=waiting.record, label="ita", source=FieldValue.Source.IMPORT)

    prediction_mark_not_applicable(prediction=waiting, reviewer=cataloguer, review_round=0)

    current = FieldValue.objects.get(record=waiting.record, is_current=True)
    assert (current.label, current.source) == ("ita", FieldValue.Source.IMPORT)


def test_a_stale_round_is_refused_and_changes_nothing(field, cataloguer):
    waiting = PredictionFactory(review_round=2)

    with pytest.raises(ApplicabilityError, match=NOT_WAITING):
        prediction_mark_not_applicable(prediction=waiting, reviewer=cataloguer, review_round=1)

    waiting.refresh_from_db()
    assert waiting.status == Prediction.Status.QUEUED
    assert not FieldValue.objects.exists()


def test_sending_it_back_to_the_queue_restores_the_value_before(field, cataloguer):
    waiting = applied_prediction(label="eng")
    Prediction.objects.filter(pk=waiting.pk).update(status=Prediction.Status.QUEUED)
    prediction_mark_not_applicable(prediction=waiting, reviewer=cataloguer, review_round=0)

    prediction_unmark_not_applicable(prediction=waiting, reviewer=cataloguer)

    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_round) == (Prediction.Status.QUEUED, 1)
    current = FieldValue.objects.get(record=waiting.record, is_current=True)
    assert (current.label, current.source) == ("eng", FieldValue.Source.MODEL)
    assert waiting.record in records_for_field(field=field)
    with pytest.raises(ApplicabilityError, match=NOT_MARKED):
        prediction_unmark_not_applicable(prediction=waiting, reviewer=cataloguer)
