"""Moving a record to another collection, with what its predictions mean there.

Where a prediction belongs depends on its record's collection: whether the field applies
there, whether the collection is sensitive, and the collection's calibration. A move therefore
re-routes the record's predictions field by field, in the move's transaction: where the field
does not apply they leave the queue and the values models applied are withdrawn (as when a
field stops applying to a collection); where it applies, the waiting and model-applied ones are
read with the new collection's calibration and routed by its rules (as a re-route after a
policy change), their values applied or withdrawn with them; a record the field applies to with
no prediction from the active model is sent to be predicted. A spot check waiting in a
sensitive collection has its value withdrawn and keeps waiting, with the collection's reason
(its audit outcome is still the person's decision); elsewhere a waiting spot check stays as it
is, and one the new rules apply again waits as a spot check again. Decided predictions and
flagged items (already with a person) are left as they are, and so is every value from a
person or the source catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.contrib.auth.models import User
from django.db import transaction

from catalogue.counts import waiting_forget
from catalogue.field_records import field_applies_to
from catalogue.models import Collection, Field, Prediction, Record
from catalogue.services.applicability import predictions_withdraw
from catalogue.services.calibration import calibrators_for
from catalogue.services.predictions import (
    predicting_field_ids,
    predictions_enqueue,
    records_to_predict,
)
from catalogue.services.recalibration import predictions_recalibrate_batch
from catalogue.services.rerouting import (
    live_predictions,
    sensitive_spot_checks_withdraw,
    spot_checks_resume,
)
from catalogue.services.routing import route_prediction, sensitive_labels
from catalogue.services.values import values_apply_predictions, values_withdraw_predictions

# Why a model value was withdrawn (or a suggestion left the queue): its record was moved.
MOVED = "record-moved"
APPLIED, QUEUED = Prediction.Status.APPLIED, Prediction.Status.QUEUED


@dataclass
class MoveResult:
    applied: int = 0
    queued: int = 0
    withdrawn: int = 0
    predicting: list[int] = dataclass_field(default_factory=list)  # ids of fields enqueued


def record_move(*, record: Record, collection: Collection, moved_by: User | None) -> MoveResult:
    """Move ``record`` into ``collection`` and re-route its live predictions for every field
    under the new collection's rules, in one transaction. Moving it where it is does nothing.

    Values a model applied (spot-checked ones included) are withdrawn where the new collection
    wants a person (sensitive) or the field does not apply there, each withdrawal naming the
    move and ``moved_by`` in the record's history; values from a person or the source catalogue
    are never touched.
    """
    result = MoveResult()
    with transaction.atomic():
        locked = Record.objects.select_for_update().get(pk=record.pk)
        if locked.collection_id == collection.id:
            return result
        # The database triggers carry the predictions' collection_id along.
        Record.objects.filter(pk=record.pk).update(collection=collection)
        record.collection = collection
        predicting = set(predicting_field_ids())
        for field in Field.objects.select_related("policy").order_by("id"):
            mine = Prediction.objects.filter(field=field, record_id=record.pk)
            if not field_applies_to(field=field, collection_id=collection.id):
                gone = predictions_withdraw(
                    field=field, predictions=mine, reason=MOVED, user=moved_by
                )
                result.withdrawn += gone.withdrawn
                continue
            _reroute(field=field, record=record, result=result, user=moved_by)
            if field.id in predicting and records_to_predict(field=field, record_ids=[record.pk]):
                predictions_enqueue(field_id=field.id, record_ids=[record.pk])
                result.predicting.append(field.id)
    waiting_forget()
    return result


def _reroute(*, field: Field, record: Record, result: MoveResult, user: User | None) -> None:
    """Read the record's live predictions with its new collection's calibration and send each
    where the field's policy says for that collection (a waiting spot check only when the
    collection is sensitive: its value is withdrawn, and it keeps waiting)."""
    if record.collection.is_sensitive:
        result.queued += sensitive_spot_checks_withdraw(
            field=field, reason=MOVED, user=user, record_id=record.pk
        )
    live = live_predictions(field=field, collection_id=record.collection_id).filter(
        record_id=record.pk
    )
    if not live.exists():
        return
    calibrator = calibrators_for(field=field, collection_ids=[record.collection_id])[
        record.collection_id
    ]
    predictions_recalibrate_batch(
        moving=live.filter(raw_confidence__isnull=False), calibrator=calibrator
    )
    sensitive = sensitive_labels(field=field)
    for prediction in live.select_for_update(of=("self",)).order_by("id"):
        prediction.record = record
        where = route_prediction(policy=field.policy, prediction=prediction, sensitive=sensitive)
        if (prediction.status, prediction.routed_by) == where:
            continue
        was = prediction.status
        prediction.status, prediction.routed_by = where
        prediction.save(update_fields=["status", "routed_by"])
        if was == QUEUED and where.status == APPLIED:
            result.applied += values_apply_predictions(predictions=[prediction])
            spot_checks_resume(predictions=Prediction.objects.filter(pk=prediction.pk))
        elif was == APPLIED and where.status == QUEUED:
            result.queued += 1
            values_withdraw_predictions(
                field_id=field.id, prediction_ids=[prediction.id], reason=MOVED, user=user
            )
