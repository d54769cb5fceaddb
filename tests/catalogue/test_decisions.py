from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalogue.field_records import settled_values
from catalogue.models import Decision, FieldValue, Prediction
from catalogue.services.decisions import (
    ALREADY_DECIDED,
    AlreadyDecided,
    DecisionError,
    decision_change,
    decision_make,
    decision_standing,
    decision_undo,
)
from catalogue.services.training.schedule import decisions_since_last_run
from catalogue.services.values import value_set
from tests.factories import CataloguerFactory, FieldValueFactory, PredictionFactory


@pytest.mark.django_db
def test_accepting_makes_the_suggestion_the_records_value_from_a_person(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source, value.action, value.user) == (
        "fra",
        "human",
        "accepted",
        cataloguer,
    )
    assert prediction.status == "accepted"


@pytest.mark.django_db
def test_correcting_takes_any_language_form_and_stores_iso_639_3(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="Italian")
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.action) == ("ita", "corrected")
    assert Decision.objects.get().label == "ita"


@pytest.mark.django_db
def test_correcting_to_an_unknown_label_is_refused_and_changes_nothing(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    with pytest.raises(DecisionError, match="xqzz"):
        decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="xqzz")
    prediction.refresh_from_db()
    assert prediction.status == "queued"
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_rejecting_a_waiting_suggestion_writes_no_value_but_keeps_the_rejected_label(
    field, cataloguer
):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="reject")
    assert not FieldValue.objects.filter(record=prediction.record).exists()
    assert (Decision.objects.get().action, Decision.objects.get().label) == ("reject", "fra")
    assert prediction.status == "rejected"


@pytest.mark.django_db
def test_rejecting_keeps_the_source_catalogues_value(field, cataloguer):
    prediction = PredictionFactory(label="ita")
    FieldValueFactory(record=prediction.record, label="ita", source="import")
    decision_make(prediction=prediction, reviewer=cataloguer, action="reject")
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source) == ("ita", "import")
    assert FieldValue.objects.filter(record=prediction.record).count() == 1
    assert Decision.objects.get().label == "ita"


@pytest.mark.django_db
def test_rejecting_a_value_the_model_applied_brings_back_the_value_from_before(field, cataloguer):
    prediction = PredictionFactory(label="fra", status="applied", routed_by="spot-check")
    record = prediction.record
    value_set(record=record, field=field, label="ita", source="import")
    value_set(record=record, field=field, label="", source="human", action="rejected")
    value_set(record=record, field=field, label="fra", source="model", prediction=prediction)
    Prediction.objects.filter(pk=prediction.pk).update(status="queued")
    prediction.refresh_from_db()

    decision_make(prediction=prediction, reviewer=cataloguer, action="reject")

    value = FieldValue.objects.get(record=record, is_current=True)
    assert (value.label, value.source) == ("ita", "import")
    assert FieldValue.objects.filter(record=record).count() == 4


@pytest.mark.django_db
def test_rejecting_a_model_value_with_nothing_before_it_empties_it_on_a_persons_authority(
    field, cataloguer
):
    prediction = PredictionFactory(label="fra")
    value_set(record=prediction.record, field=field, label="fra", source="model")
    decision_make(prediction=prediction, reviewer=cataloguer, action="reject")
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source, value.action, value.user) == (
        "",
        "human",
        "rejected",
        cataloguer,
    )


@pytest.mark.django_db
def test_a_second_decision_is_refused_and_nothing_is_counted_twice(field, cataloguer):
    prediction = PredictionFactory()
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept", review_round=0)
    other = CataloguerFactory()
    stale = Prediction.objects.get(pk=prediction.pk)
    with pytest.raises(AlreadyDecided) as excinfo:
        decision_make(prediction=stale, reviewer=other, action="reject", review_round=0)
    assert str(excinfo.value) == ALREADY_DECIDED
    assert Decision.objects.count() == 1
    assert FieldValue.objects.filter(record=prediction.record).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_cataloguers_deciding_at_once_one_wins(field):
    prediction = PredictionFactory()
    reviewers = [CataloguerFactory(), CataloguerFactory()]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(reviewer, action):
        try:
            barrier.wait()
            decision_make(
                prediction=Prediction.objects.get(pk=prediction.pk),
                reviewer=reviewer,
                action=action,
                review_round=0,
            )
            outcomes.append("won")
        except AlreadyDecided:
            outcomes.append("told")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(reviewers[0], "accept")),
        threading.Thread(target=decide, args=(reviewers[1], "reject")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["told", "won"]
    assert Decision.objects.filter(prediction=prediction).count() == 1
    # An accept writes the person's value; a reject of a suggestion never applied writes none.
    winner = Decision.objects.get(prediction=prediction)
    written = FieldValue.objects.filter(record=prediction.record, source="human").count()
    assert written == (1 if winner.action == "accept" else 0)


@pytest.mark.django_db
def test_undoing_an_accept_puts_the_item_back_and_the_value_it_had_before(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    FieldValueFactory(record=prediction.record, label="ita", source="import")
    decision = decision_make(prediction=prediction, reviewer=cataloguer, action="accept")

    decision_undo(prediction=prediction, reviewer=cataloguer, review_round=0)

    assert (prediction.status, prediction.review_round) == ("queued", 1)
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source) == ("ita", "import")
    decision.refresh_from_db()
    assert decision.withdrawn_by == cataloguer and decision.withdrawn_at is not None
    # The decision and both value changes stay in the history.
    assert FieldValue.objects.filter(record=prediction.record).count() == 3


@pytest.mark.django_db
def test_undoing_a_decision_with_nothing_before_it_leaves_an_empty_value(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="ita")
    decision_undo(prediction=prediction, reviewer=cataloguer, review_round=0)
    value = FieldValue.objects.get(record=prediction.record, is_current=True)
    assert (value.label, value.source, value.action) == ("", "human", "undone")


@pytest.mark.django_db
def test_undo_twice_is_refused_and_changes_nothing(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    decision_undo(prediction=prediction, reviewer=cataloguer, review_round=0)
    with pytest.raises(AlreadyDecided, match="nothing was undone"):
        decision_undo(prediction=prediction, reviewer=cataloguer, review_round=0)
    assert FieldValue.objects.filter(record=prediction.record).count() == 2
    assert Prediction.objects.get(pk=prediction.pk).review_round == 1


@pytest.mark.django_db
def test_an_undone_item_is_decided_again_in_its_new_round(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    decision_undo(prediction=prediction, reviewer=cataloguer, review_round=0)
    decision_make(prediction=prediction, reviewer=cataloguer, action="reject", review_round=1)
    assert list(Decision.objects.order_by("id").values_list("action", "withdrawn_at")) == [
        ("accept", Decision.objects.get(action="accept").withdrawn_at),
        ("reject", None),
    ]
    assert settled_values(field=field).filter(record=prediction.record).count() == 0


@pytest.mark.django_db
def test_changing_a_decision_makes_a_new_one_that_training_uses(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    other = CataloguerFactory()

    new = decision_change(
        prediction=prediction, reviewer=other, action="correct", label="spa", review_round=0
    )

    assert (new.action, new.label, new.review_round, new.reviewer) == ("correct", "spa", 1, other)
    assert decision_standing(prediction=prediction) == new
    assert list(settled_values(field=field).values_list("label", "source")) == [("spa", "human")]
    assert Decision.objects.filter(withdrawn_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_change_that_cannot_be_made_leaves_the_old_decision_standing(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision = decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    with pytest.raises(DecisionError, match="xqzz"):
        decision_change(
            prediction=prediction,
            reviewer=cataloguer,
            action="correct",
            label="xqzz",
            review_round=0,
        )
    prediction.refresh_from_db()
    assert (prediction.status, prediction.review_round) == ("accepted", 0)
    assert decision_standing(prediction=prediction) == decision
    assert FieldValue.objects.get(record=prediction.record, is_current=True).label == "fra"


@pytest.mark.django_db
def test_retraining_counts_only_decisions_that_stand(field, cataloguer):
    prediction = PredictionFactory(label="fra")
    decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    decision_change(prediction=prediction, reviewer=cataloguer, action="reject", review_round=0)
    assert decisions_since_last_run(field=field) == 1
