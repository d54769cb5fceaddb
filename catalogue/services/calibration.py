"""Per-collection calibration: each collection's evidence on what a field's confidence means.

Evidence comes from two places and is refitted as it arrives:

- **Imported values.** When a model version first predicts in a collection, it is also run on
  up to :data:`IMPORTED_SAMPLE` of the collection's imported values that it was not trained on
  (records on the training side of the field's split are left out), and each answer is
  compared with the catalogue's value.
- **Decisions.** Every accept (right), correct or reject (wrong) refits the decided evidence of
  the record's collection, and of no other; once it commits, the collection's waiting
  predictions are read again with the new calibration and re-routed
  (:mod:`catalogue.services.recalibration`).

A collection without evidence is read conservatively (see
:mod:`glamml.ml.collection_calibration`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from catalogue import dispatch
from catalogue.machine import Model
from catalogue.models import (
    CollectionCalibration,
    Field,
    FieldValue,
    ModelVersion,
    Prediction,
    SplitAssignment,
)
from catalogue.services.inference import predict_records
from glamml.ml.collection_calibration import (
    CollectionCalibrator,
    add_bands,
    count_evidence,
    empty_bands,
)
from glamml.ml.languages import is_training_language

# Imported values a model version is measured on per collection: enough for the top bands to
# say something, few enough to run inside a prediction batch.
IMPORTED_SAMPLE = 300


def calibrator_of(row: CollectionCalibration | None) -> CollectionCalibrator:
    prior = settings.GLAMML_NEW_COLLECTION_RATIO
    if row is None:
        return CollectionCalibrator.conservative(prior)
    return CollectionCalibrator(add_bands(row.imported or empty_bands(), row.decided or []), prior)


def calibrators_for(
    *, field: Field, collection_ids: Iterable[int]
) -> dict[int, CollectionCalibrator]:
    """Each collection's calibrator; a collection with no row yet is read conservatively."""
    ids = set(collection_ids)
    rows = {
        row.collection_id: row
        for row in CollectionCalibration.objects.filter(field=field, collection_id__in=ids)
    }
    return {cid: calibrator_of(rows.get(cid)) for cid in ids}


def calibrators_for_version(
    *, field: Field, version: ModelVersion, model: Model, collection_ids: Iterable[int]
) -> dict[int, CollectionCalibrator]:
    """Calibrators for a prediction batch, measuring ``version`` on imported values first
    wherever it has not been measured yet."""
    ids = set(collection_ids)
    measured = set(
        CollectionCalibration.objects.filter(
            field=field, collection_id__in=ids, imported_version=version
        ).values_list("collection_id", flat=True)
    )
    for collection_id in sorted(ids - measured):
        calibration_refit_imported(
            field=field, collection_id=collection_id, version=version, model=model
        )
    return calibrators_for(field=field, collection_ids=ids)


def _usable_truth(field: Field, label: str) -> bool:
    return bool(label) and (field.kind != Field.Kind.LANGUAGE or is_training_language(label))


def calibration_refit_imported(
    *, field: Field, collection_id: int, version: ModelVersion, model: Model
) -> CollectionCalibration:
    """Measure ``version`` on the collection's imported values it was not trained on."""
    trained_on = SplitAssignment.objects.filter(
        field=field, side=SplitAssignment.Side.TRAIN
    ).values("record_id")
    values = list(
        FieldValue.objects.filter(
            field=field,
            is_current=True,
            source=FieldValue.Source.IMPORT,
            record__collection_id=collection_id,
        )
        .exclude(record_id__in=trained_on)
        .select_related("record")
        .order_by("record_id")[: IMPORTED_SAMPLE * 2]
    )
    values = [v for v in values if _usable_truth(field, v.label)][:IMPORTED_SAMPLE]
    answers = predict_records(model=model, field=field, records=[v.record for v in values])
    bands = count_evidence(
        (confidence, label == value.label)
        for value, (label, confidence) in zip(values, answers, strict=True)
    )
    with transaction.atomic():
        row, _ = CollectionCalibration.objects.select_for_update().get_or_create(
            field=field, collection_id=collection_id
        )
        row.imported, row.imported_version, row.n_imported = bands, version, len(values)
        row.save(update_fields=["imported", "imported_version", "n_imported", "updated_at"])
    return row


def calibration_refit_decisions(*, field: Field, collection_id: int) -> CollectionCalibration:
    """Refit the collection's decided evidence from every decided prediction in it."""
    decided = Prediction.objects.filter(
        field=field, record__collection_id=collection_id, status__in=Prediction.DECIDED
    ).values_list("raw_confidence", "confidence", "status")
    evidence = [
        (raw if raw is not None else confidence, status == Prediction.Status.ACCEPTED)
        for raw, confidence, status in decided
    ]
    accepted = sum(1 for _, right in evidence if right)
    with transaction.atomic():
        row, _ = CollectionCalibration.objects.select_for_update().get_or_create(
            field=field, collection_id=collection_id
        )
        row.decided = count_evidence(evidence)
        row.n_accepted, row.n_corrected = accepted, len(evidence) - accepted
        row.save(update_fields=["decided", "n_accepted", "n_corrected", "updated_at"])
        # The collection's waiting confidences now mean something else: read them again.
        dispatch.enqueue(dispatch.RECALIBRATE_COLLECTION, field.id, collection_id)
    return row
