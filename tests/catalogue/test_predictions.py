from __future__ import annotations

import pytest

from catalogue.machine import ModelUnavailable, model_cache_clear
from catalogue.models import FieldValue, Prediction
from catalogue.services.inference import text_for_model
from catalogue.services.policy import policy_update
from catalogue.services.predictions import audit_rank, predictions_create
from catalogue.services.values import value_set
from catalogue.tasks import predict_pending, predict_records
from glamml.ml.text import record_text
from tests.factories import CollectionFactory, RecordFactory

TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
    "A Treatise on the Steam Engine, with its application to navigation and railways",
    "1234 5678",
]


@pytest.fixture
def records(db):
    collection = CollectionFactory()
    return [RecordFactory(collection=collection, title=t) for t in TITLES]


@pytest.mark.django_db
def test_it_predicts_language_with_confidence_and_alternatives(field, active_model, records):
    result = predictions_create(field=field, record_ids=[r.id for r in records])
    assert result.created == 4
    by_title = {p.record.title: p for p in Prediction.objects.select_related("record")}
    assert by_title[TITLES[0]].label == "deu"
    assert by_title[TITLES[1]].label == "fra"
    assert by_title[TITLES[2]].label == "eng"
    assert by_title[TITLES[3]].label == "und"
    german = by_title[TITLES[0]]
    assert 0 < german.confidence <= 1
    assert german.alternatives[0] == ["deu", pytest.approx(german.confidence, abs=1e-6)]
    assert len(german.alternatives) == 3


@pytest.mark.django_db
def test_running_the_same_batch_twice_creates_nothing_twice(field, active_model, records):
    ids = [r.id for r in records]
    predict_records(field.id, ids)
    values_before = FieldValue.objects.count()
    again = predict_records(field.id, ids)
    assert again["created"] == 0
    assert Prediction.objects.count() == 4
    assert FieldValue.objects.count() == values_before


@pytest.mark.django_db
def test_threshold_policy_applies_confident_and_queues_the_rest(
    field, active_model, records, admin_user
):
    policy_update(policy=field.policy, changed_by=admin_user, mode="threshold", threshold=0.9)
    predictions_create(field=field, record_ids=[r.id for r in records])
    for p in Prediction.objects.all():
        expected = "applied" if p.confidence >= 0.9 else "queued"
        # An applied value may be drawn for a spot check: it waits for a person, still applied.
        assert p.status == expected or (expected, p.routed_by) == ("applied", "spot-check")
        value = FieldValue.objects.filter(record=p.record, is_current=True).first()
        if expected == "applied":
            assert (value.label, value.source, value.model_version) == (
                p.label,
                "model",
                active_model,
            )
            assert value.confidence == p.confidence
        else:
            assert value is None


@pytest.mark.django_db
def test_records_with_a_catalogue_or_human_value_are_not_predicted(
    field, active_model, records, cataloguer
):
    value_set(record=records[0], field=field, label="deu", source="import")
    value_set(record=records[1], field=field, label="fra", source="human", user=cataloguer)
    result = predictions_create(field=field, record_ids=[r.id for r in records])
    assert result.created == 2
    assert result.skipped == 2


@pytest.mark.django_db
def test_the_periodic_task_finds_records_the_model_has_not_seen(
    field, active_model, records, django_capture_on_commit_callbacks
):
    # The batches it enqueues are sent when its transaction commits (at once in a worker).
    with django_capture_on_commit_callbacks(execute=True):
        assert predict_pending() == 4
    assert Prediction.objects.count() == 4
    assert predict_pending() == 0


@pytest.mark.django_db
def test_a_corrupt_artefact_is_treated_as_absent_with_a_clear_message(
    field, active_model, records, settings
):
    model_cache_clear()
    path = settings.GLAMML_MODEL_DIR / active_model.artefact
    path.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="Model 1 for field 'language' cannot be used"):
        predictions_create(field=field, record_ids=[records[0].id])
    assert not Prediction.objects.exists()
    model_cache_clear()


@pytest.mark.django_db
def test_the_app_reads_a_record_as_the_experiments_script_reads_its_row(genre):
    genre.text_source = ["title", "medium", "description"]
    record = RecordFactory(
        title="Portrait of a lady",
        description="",
        extra={"medium": "Oil paint on canvas", "title": "not this one"},
    )
    row = {"title": "Portrait of a lady", "description": "", "medium": "Oil paint on canvas"}
    assert text_for_model(record=record, field=genre) == "Portrait of a lady Oil paint on canvas"
    assert text_for_model(record=record, field=genre) == record_text(row, genre.text_source)


def test_the_audit_order_is_fixed_for_a_version_and_reshuffled_for_the_next():
    ranks_v1 = [audit_rank(record_id, 1) for record_id in range(200)]
    ranks_v2 = [audit_rank(record_id, 2) for record_id in range(200)]
    assert ranks_v1 == [audit_rank(record_id, 1) for record_id in range(200)]
    assert all(0.0 <= r < 1.0 for r in ranks_v1 + ranks_v2)
    assert 0.4 < sum(ranks_v1) / 200 < 0.6
    order_v1 = sorted(range(200), key=ranks_v1.__getitem__)
    order_v2 = sorted(range(200), key=ranks_v2.__getitem__)
    assert order_v1 != order_v2
