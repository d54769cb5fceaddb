"""Each collection's calibration follows its own evidence: imported values and decisions."""

from __future__ import annotations

import pytest

from catalogue.models import CollectionCalibration, FieldValue, Prediction
from catalogue.services.decisions import decision_make
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create
from catalogue.services.values import value_set
from tests.factories import CollectionFactory, RecordFactory, spot_checks_off


@pytest.fixture(autouse=True)
def conservative_start(settings, field):
    settings.GLAMML_NEW_COLLECTION_RATIO = 0.9
    # Which applied values a spot check draws back to the queue depends on a hash of the
    # record id; these tests assert where routing alone puts each prediction.
    spot_checks_off(field)


FRENCH = [
    "Histoire de la littérature française depuis les origines jusqu'à nos jours",
    "Mémoires sur la Révolution française et les guerres de l'Empire",
    "Voyage pittoresque dans les provinces méridionales de la France",
    "Essai sur les mœurs et l'esprit des nations",
    "Recherches sur les ossemens fossiles de quadrupèdes",
    "Dictionnaire historique et critique des villes de France",
    "Traité élémentaire de chimie présenté dans un ordre nouveau",
    "Lettres écrites de la montagne par un citoyen de Genève",
    "Nouvelle description de la ville de Paris et de ses environs",
    "Souvenirs d'un voyage en Orient pendant les années de guerre",
    "Cours complet d'agriculture théorique et pratique pour les fermes",
    "Éloge historique des membres de l'Académie des sciences",
]


def _records(collection, titles):
    records = [RecordFactory(collection=collection, title=t) for t in titles]
    return records, [r.id for r in records]


def _confidence(field, collection, title=FRENCH[0]):
    record = RecordFactory(collection=collection, title=title)
    predictions_create(field=field, record_ids=[record.id])
    return Prediction.objects.get(record=record)


@pytest.mark.django_db
def test_a_new_collection_starts_conservative(field, active_model, admin_user):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    _, ids = _records(CollectionFactory(), FRENCH)
    predictions_create(field=field, record_ids=ids)
    for prediction in Prediction.objects.filter(record_id__in=ids):
        assert prediction.raw_confidence > 0.95
        assert prediction.confidence == pytest.approx(0.9 * prediction.raw_confidence)
        assert prediction.status == "queued"


@pytest.mark.django_db
def test_corrections_in_one_collection_change_its_calibration_and_no_other(
    field, active_model, admin_user, cataloguer
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    trusted, doubted, untouched = CollectionFactory(), CollectionFactory(), CollectionFactory()
    for collection in (trusted, doubted, untouched):
        predictions_create(field=field, record_ids=_records(collection, FRENCH)[1])
    # The same kind of title reads the same in every collection before any decision.
    before = {c.pk: _confidence(field, c).confidence for c in (trusted, doubted, untouched)}
    assert len(set(before.values())) == 1

    for prediction in Prediction.objects.filter(record__collection=trusted, status="queued"):
        decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    for prediction in Prediction.objects.filter(record__collection=doubted, status="queued"):
        decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="ita")

    rows = {row.collection_id: row for row in CollectionCalibration.objects.filter(field=field)}
    assert (rows[trusted.pk].n_accepted, rows[trusted.pk].n_corrected) == (13, 0)
    assert (rows[doubted.pk].n_accepted, rows[doubted.pk].n_corrected) == (0, 13)
    assert rows[untouched.pk].n_evidence == 0  # measured for imports (none), never decided

    # Another record with a title like those decided (one in the same band of raw confidence).
    after = {c.pk: _confidence(field, c) for c in (trusted, doubted, untouched)}
    confidence = {pk: p.confidence for pk, p in after.items()}
    assert confidence[trusted.pk] > 0.9 > before[trusted.pk] > confidence[doubted.pk]
    assert confidence[untouched.pk] == pytest.approx(before[untouched.pk])
    statuses = [after[c.pk].status for c in (trusted, doubted, untouched)]
    assert statuses == ["applied", "queued", "queued"]


@pytest.mark.django_db
def test_imported_values_the_model_was_not_trained_on_are_evidence(field, active_model):
    collection = CollectionFactory()
    records, _ = _records(collection, FRENCH)
    for record in records:
        value_set(record=record, field=field, label="fra", source="import")
    prediction = _confidence(field, collection)
    row = CollectionCalibration.objects.get(field=field, collection=collection)
    assert (row.n_imported, row.imported_version_id) == (len(FRENCH), active_model.pk)
    assert prediction.confidence > 0.9 * prediction.raw_confidence


@pytest.mark.django_db
def test_a_waiting_prediction_recalibration_lifts_over_the_threshold_is_applied(
    field, active_model, admin_user, cataloguer, django_capture_on_commit_callbacks
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    collection, other = CollectionFactory(), CollectionFactory()
    # One title, so every raw confidence falls in the same band of the calibration.
    _, ids = _records(collection, [FRENCH[0]] * 14)
    _, other_ids = _records(other, [FRENCH[0]] * 2)
    predictions_create(field=field, record_ids=ids + other_ids)
    waiting = list(Prediction.objects.filter(record_id__in=ids).order_by("id"))
    assert {p.status for p in waiting} == {"queued"}
    start = waiting[0].confidence
    assert start < 0.9 < waiting[0].raw_confidence

    decided, left = waiting[:10], waiting[10:]
    with django_capture_on_commit_callbacks(execute=True):
        decision_make(prediction=decided[0], reviewer=cataloguer, action="correct", label="ita")
        for prediction in decided[1:]:
            decision_make(prediction=prediction, reviewer=cataloguer, action="accept")
    # Nine right of ten is not yet enough evidence to pass 0.9.
    for prediction in left:
        prediction.refresh_from_db()
        assert (prediction.status, prediction.confidence < 0.9) == ("queued", True)
    with django_capture_on_commit_callbacks(execute=True):
        for prediction in left[:3]:
            decision_make(prediction=prediction, reviewer=cataloguer, action="accept")

    last = Prediction.objects.get(pk=left[3].pk)
    assert last.status == "applied" and last.confidence >= 0.9
    assert last.alternatives[0] == [last.label, pytest.approx(last.confidence, abs=1e-6)]
    assert FieldValue.objects.get(record_id=last.record_id, is_current=True).source == "model"
    # Decided predictions keep the status and confidence they were decided at.
    for prediction, status in zip(decided, ["corrected"] + ["accepted"] * 9, strict=True):
        prediction.refresh_from_db()
        assert (prediction.status, prediction.confidence) == (status, start)
    # Another collection's waiting predictions are read with its own (unchanged) evidence.
    assert set(
        Prediction.objects.filter(record_id__in=other_ids).values_list("status", "confidence")
    ) == {("queued", start)}


@pytest.mark.django_db
def test_corrections_send_an_applied_prediction_back_to_the_queue(
    field, active_model, admin_user, cataloguer, django_capture_on_commit_callbacks, settings
):
    settings.GLAMML_NEW_COLLECTION_RATIO = 1.0
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    collection = CollectionFactory()
    _, ids = _records(collection, [FRENCH[0]] * 6)
    predictions_create(field=field, record_ids=ids)
    applied = list(Prediction.objects.filter(record_id__in=ids).order_by("id"))
    assert {p.status for p in applied} == {"applied"}
    # Three are put back in the queue by hand so a cataloguer can correct them; their
    # corrections pull the band down, and the three still applied follow it to the queue.
    for prediction in applied[:3]:
        Prediction.objects.filter(pk=prediction.pk).update(status="queued")
        prediction.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        for prediction in applied[:3]:
            decision_make(prediction=prediction, reviewer=cataloguer, action="correct", label="ita")
    for prediction in applied[3:]:
        prediction.refresh_from_db()
        assert prediction.status == "queued" and prediction.confidence < 0.9
        value = FieldValue.objects.get(record_id=prediction.record_id, is_current=True)
        assert value.action == "withdrawn"
