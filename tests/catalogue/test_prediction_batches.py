"""Prediction works batch by batch: a fixed number of queries whatever the batch's size, with
the same values, provenance and supersession as one record at a time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import (
    CollectionCalibration,
    FieldValue,
    Label,
    ModelVersion,
    MonitoringPolicy,
    Prediction,
    Record,
)
from catalogue.services.policy import policy_update
from catalogue.services.predictions import predictions_create, predictions_enqueue_field
from catalogue.services.values import value_set, values_apply_predictions
from glamml.ml.collection_calibration import count_evidence
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
    # 40 rows fit in one statement on SQLite too (Django sends at most 999 parameters, and a
    # prediction row has about twenty); PostgreSQL takes a thousand at a time.
    small, large = queries(field, records(4)), queries(field, records(40))
    assert large == small
    statuses = Prediction.objects.values_list("status", flat=True)
    assert set(statuses) == {Prediction.Status.APPLIED} and len(statuses) == 48


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


MIXED_TITLES = [
    *TITLES,
    "Historia de la literatura española desde sus orígenes",
    "Die Leiden des jungen Werthers",
    "Il nome della rosa",
    "1848",  # no letters: an abstention, never applied
    "Poems",
    "Nederlandsche spraakkunst voor de scholen",
]


def expected_rows(field, version, records, *, rate, force_review=False, threshold=None):
    """What one record at a time makes of each record: the per-record rules the batch follows
    (under the field's policy, or its threshold mode at ``threshold``)."""
    from catalogue.machine import model_load
    from catalogue.services.calibration import calibrators_for
    from catalogue.services.inference import predict_records_top_k
    from catalogue.services.predictions import audit_rank, margin_of
    from catalogue.services.routing import (
        FLAG,
        SPOT_CHECK,
        never_applied,
        route,
        sensitive_labels,
    )

    top = predict_records_top_k(model=model_load(version=version), field=field, records=records)
    calibrators = calibrators_for(field=field, collection_ids={r.collection_id for r in records})
    rows = {}
    for record, raw in zip(records, top, strict=True):
        alternatives = calibrators[record.collection_id].calibrate_alternatives(raw)
        label, confidence = alternatives[0]
        status, routed_by = route(
            mode=field.policy.mode if threshold is None else "threshold",
            threshold=field.policy.threshold if threshold is None else threshold,
            confidence=confidence,
            collection_sensitive=record.collection.is_sensitive,
            label_sensitive=label in sensitive_labels(field=field),
            not_a_language=never_applied(field=field, label=label),
        )
        if force_review:
            status, routed_by = Prediction.Status.QUEUED, FLAG
        rank = audit_rank(record.id, version.id)
        spot_check = status == Prediction.Status.APPLIED and not force_review and rank < rate
        rows[record.id] = {
            "label": label,
            "confidence": confidence,
            "raw_confidence": raw[0][1],
            "alternatives": [[code, round(p, 6)] for code, p in alternatives],
            "status": Prediction.Status.QUEUED if spot_check else status,
            "routed_by": SPOT_CHECK if spot_check else routed_by,
            "margin": margin_of(alternatives),
            "audit_rank": rank,
            "flagged": force_review,
            # The value an applied prediction wrote names the rule that applied it.
            "value": routed_by if status == Prediction.Status.APPLIED else None,
        }
    return rows


def threshold_and_audit_rate(field, version, records):
    """A record whose calibrated confidence becomes the threshold (at it, it is applied), and an
    audit rate that spot-checks another applied record but not that one. Audit ranks follow
    record and version ids, which depend on the tests that ran before: chosen, not assumed."""
    first = records[0].id
    before = expected_rows(field, version, records, rate=0.0)
    for at in (i for i, row in before.items() if row["routed_by"] == "threshold" and i > first):
        rows = expected_rows(field, version, records, rate=0.0, threshold=before[at]["confidence"])
        rank = rows[at]["audit_rank"]
        if any(r["value"] and r["audit_rank"] < rank for i, r in rows.items() if i != at):
            return at, before[at]["confidence"], rank  # a rank below the rate is spot-checked
    raise AssertionError("no applied record to spot-check below any threshold record's rank")


@pytest.mark.django_db
@pytest.mark.parametrize("force_review", [False, True])
def test_a_batch_stores_what_the_rules_say_for_each_record(
    field, active_model, admin_user, settings, force_review
):
    """The batch calibrates, routes and builds its rows on arrays, without a model object per
    record; what it stores is what routing, calibration, margin and audit rank give one record
    at a time, bit for bit (``==`` on every float)."""
    settings.GLAMML_NEW_COLLECTION_RATIO = 0.9  # calibration moves every confidence
    Label.objects.update_or_create(
        field=field, code="ita", defaults={"name": "Italian", "is_sensitive": True}
    )
    open_, sensitive, proven = (
        CollectionFactory(),
        CollectionFactory(is_sensitive=True),
        CollectionFactory(),
    )
    # A collection with evidence of its own: its low bands wrong, its top bands right more
    # often than the model promised (a ratio over 1, so the cap at 1.0 counts).
    decided = count_evidence([(0.6, False)] * 30 + [(0.75, True), (0.72, False)] * 20)
    decided[4:] = [[100, 100, 80.0]] * (len(decided) - 4)
    CollectionCalibration.objects.create(field=field, collection=proven, decided=decided)
    ids = [
        RecordFactory(collection=collection, title=title).id
        for collection in (open_, sensitive, proven)
        for title in MIXED_TITLES
    ]
    records = list(Record.objects.filter(id__in=ids).select_related("collection").order_by("id"))
    at, threshold, rate = threshold_and_audit_rate(field, active_model, records)
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=threshold)
    MonitoringPolicy.objects.update_or_create(field=field, defaults={"audit_rate": rate})

    result = predictions_create(field=field, record_ids=ids, force_review=force_review)

    records = list(Record.objects.filter(id__in=ids).select_related("collection").order_by("id"))
    expected = expected_rows(field, active_model, records, rate=rate, force_review=force_review)
    stored = {
        p.record_id: {
            "label": p.label,
            "confidence": p.confidence,
            "raw_confidence": p.raw_confidence,
            "alternatives": p.alternatives,
            "status": p.status,
            "routed_by": p.routed_by,
            "margin": p.margin,
            "audit_rank": p.audit_rank,
            "flagged": p.flagged,
            "value": FieldValue.objects.filter(prediction=p, is_current=True)
            .values_list("policy", flat=True)
            .first(),
        }
        for p in Prediction.objects.filter(record_id__in=ids)
    }
    assert stored == expected
    if not force_review:
        assert expected[at]["confidence"] == field.policy.threshold and expected[at]["value"]
        assert any(row["confidence"] == 1.0 for row in expected.values())  # the cap
    # Every kind of route is in the batch, so each rule was exercised.
    routes = {row["routed_by"] for row in expected.values()}
    if force_review:
        assert routes == {"flag"}
    else:
        assert {"threshold", "sensitive-collection", "not-a-language", "spot-check"} <= routes
        assert any(
            r["label"] == "ita" and r["routed_by"] == "sensitive-label" for r in stored.values()
        )
    spot_checked = sum(1 for row in expected.values() if row["routed_by"] == "spot-check")
    assert (result.created, result.spot_checked) == (len(ids), spot_checked)
    values = FieldValue.objects.filter(record_id__in=ids, is_current=True)
    assert values.count() == sum(1 for row in expected.values() if row["value"])
    for value in values.select_related("prediction"):
        p = value.prediction
        assert (value.label, value.confidence) == (p.label, p.confidence)
        assert value.model_version_id == active_model.id and value.source == FieldValue.Source.MODEL
