"""Waiting predictions read again when their collection's calibration changes.

A decision refits its collection's calibration (:mod:`catalogue.services.calibration`), and
with it what every waiting raw confidence in that collection means: a prediction that waited
at 0.89 may now be worth 0.93 and pass the threshold, or an applied one fall below it. The
stored confidence of each live prediction (waiting or model-applied, never decided, flagged or
a spot check) is brought to the new calibration where it moved by more than
:data:`TOLERANCE` or crossed the threshold, and the collection is then re-routed with the SQL
of :mod:`catalogue.services.rerouting`, so those that cross move with their values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Abs, Least

from catalogue.models import Field, Prediction
from catalogue.services.calibration import calibrators_for
from catalogue.services.predictions import margin_of
from catalogue.services.rerouting import BATCH, live_predictions, predictions_reroute
from glamml.ml.collection_calibration import BAND_EDGES, CollectionCalibrator

# A stored confidence closer than this to what the collection's evidence now says is left as
# it is (unless it crossed the threshold): an early decision moves a band's ratio by about
# 0.005, later ones by far less, and rewriting every waiting row for each is work for nothing.
TOLERANCE = 0.001


@dataclass
class RecalibrateResult:
    recalibrated: int = 0
    applied: int = 0
    queued: int = 0


def _calibrated(calibrator: CollectionCalibrator) -> Case:
    """The calibrated confidence of a row's raw confidence, in SQL (band by band)."""
    whens = []
    for index, low in enumerate(BAND_EDGES):
        band = Q(raw_confidence__gte=low)
        if index + 1 < len(BAND_EDGES):
            band &= Q(raw_confidence__lt=BAND_EDGES[index + 1])
        ratio = Value(calibrator.ratio(index), output_field=FloatField())
        whens.append(When(band, then=Least(Value(1.0), F("raw_confidence") * ratio)))
    return Case(*whens, default=F("confidence"), output_field=FloatField())


def _moving(
    *, field: Field, collection_id: int, calibrator: CollectionCalibrator
) -> QuerySet[Prediction]:
    threshold = field.policy.threshold
    return (
        live_predictions(field=field, collection_id=collection_id)
        .filter(raw_confidence__isnull=False)
        .alias(new=_calibrated(calibrator))
        .alias(drift=Abs(F("confidence") - F("new")))
        .filter(
            Q(drift__gt=TOLERANCE)
            | Q(confidence__gte=threshold, new__lt=threshold)
            | Q(confidence__lt=threshold, new__gte=threshold)
        )
    )


@transaction.atomic
def predictions_recalibrate_batch(
    *, moving: QuerySet[Prediction], calibrator: CollectionCalibrator
) -> tuple[int, int] | None:
    """Recalibrate one batch; (how many, the last id), or None when none is left.

    The rows are locked and still live when read, so a decision made meanwhile is not
    overwritten: it waits for the batch, then finds the prediction as recalibrated.
    """
    rows = list(
        moving.order_by("id")
        .select_for_update(of=("self",))
        .only("id", "label", "raw_confidence", "alternatives", "confidence")[:BATCH]
    )
    if not rows:
        return None
    for prediction in rows:
        raw = float(prediction.raw_confidence or 0.0)
        alternatives = calibrator.recalibrate(raw, prediction.alternatives) or [
            (prediction.label, calibrator.calibrate(raw))
        ]
        prediction.confidence = alternatives[0][1]
        prediction.alternatives = [[code, round(p, 6)] for code, p in alternatives]
        prediction.margin = margin_of(alternatives)
    Prediction.objects.bulk_update(rows, ["confidence", "alternatives", "margin"])
    return len(rows), rows[-1].id


def predictions_recalibrate(*, field: Field, collection_id: int) -> RecalibrateResult:
    """Bring the collection's live predictions to its current calibration, then re-route them.

    Decided predictions are never touched. Running it twice changes nothing the second time.
    """
    calibrator = calibrators_for(field=field, collection_ids=[collection_id])[collection_id]
    moving = _moving(field=field, collection_id=collection_id, calibrator=calibrator)
    result, last = RecalibrateResult(), 0
    while batch := predictions_recalibrate_batch(
        moving=moving.filter(id__gt=last), calibrator=calibrator
    ):
        result.recalibrated += batch[0]
        last = batch[1]
    moved = predictions_reroute(field=field, collection_id=collection_id)
    result.applied, result.queued = moved.applied, moved.queued
    return result
