"""Predictions: read them, decide them (cataloguers), and predict text without storing it."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field as PydanticField

from catalogue.access import get_prediction_for_visitor, get_record_for_visitor
from catalogue.api.schemas import (
    MAX_OFFSET,
    DecisionIn,
    DecisionOut,
    Error,
    PredictIn,
    PredictionOut,
    PredictionPage,
    PredictOut,
    Slug,
    refuse_unknown_query,
)
from catalogue.machine import ModelUnavailable
from catalogue.models import Field, Prediction
from catalogue.roles import is_cataloguer
from catalogue.services.decisions import AlreadyDecided, DecisionError, decision_make
from catalogue.services.instant import texts_predict

router = Router(tags=["predictions"])
NOT_A_CATALOGUER = "Only cataloguers may read the review queue and decide predictions."
NO_SUCH_FIELD = "No field {key!r}; the fields are {known}."


class QueueQuery(Schema):
    field: Slug | None = PydanticField(default=None, description="A field's key.")
    status: Prediction.Status = Prediction.Status.QUEUED
    limit: int = PydanticField(default=100, ge=1, le=500)
    offset: int = PydanticField(default=0, ge=0, le=MAX_OFFSET)


def prediction_out(p: Prediction) -> dict[str, object]:
    return {
        "code": p.code,
        "record": p.record.code,
        "field": p.field.key,
        "label": p.label,
        "confidence": p.confidence,
        "alternatives": [{"label": label, "confidence": c} for label, c in p.alternatives],
        "status": p.status,
        "routed_by": p.routed_by,
        "model_version": p.model_version.version,
        "review_round": p.review_round,
        "flagged": p.flagged,
        "created_at": p.created_at,
    }


def _require_cataloguer(request: HttpRequest) -> None:
    if not is_cataloguer(request.user):
        raise PermissionDenied(NOT_A_CATALOGUER)


@router.get(
    "/records/{code}/predictions",
    summary="List a record's predictions",
    response={200: list[PredictionOut], 401: Error, 404: Error, 422: Error},
)
def record_predictions(request: HttpRequest, code: UUID) -> list[dict[str, object]]:
    """Every prediction made for a record, newest first: all of them for cataloguers, for
    others those of fields whose policy shows predictions to the public."""
    record = get_record_for_visitor(request, code)
    predictions = Prediction.objects.filter(record=record).select_related("field", "model_version")
    if not is_cataloguer(request.user):
        predictions = predictions.filter(field__policy__show_public=True)
    out = []
    for p in predictions.order_by("-created_at", "-id"):
        p.record = record
        out.append(prediction_out(p))
    return out


@router.get(
    "/predictions",
    summary="List predictions by status",
    response={200: PredictionPage, 401: Error, 403: Error, 422: Error},
)
def predictions_list(request: HttpRequest, query: Query[QueueQuery]) -> dict[str, object]:
    """Predictions by status (default: waiting for review), least confident first (cataloguers)."""
    _require_cataloguer(request)
    refuse_unknown_query(request, QueueQuery)
    predictions = Prediction.objects.filter(status=query.status)
    if query.field is not None:
        predictions = predictions.filter(field__key=query.field)
    page = predictions.select_related("record", "field", "model_version").order_by(
        "confidence", "id"
    )[query.offset : query.offset + query.limit]
    return {"count": predictions.count(), "items": [prediction_out(p) for p in page]}


@router.get(
    "/predictions/{code}",
    summary="Read one prediction",
    response={200: PredictionOut, 401: Error, 404: Error, 422: Error},
)
def prediction_detail(request: HttpRequest, code: UUID) -> dict[str, object]:
    """One prediction: its label, confidence, alternatives and where it was routed."""
    return prediction_out(get_prediction_for_visitor(request, code))


@router.post(
    "/predictions/{code}/decision",
    summary="Decide a prediction",
    response={
        200: DecisionOut,
        400: Error,
        401: Error,
        403: Error,
        404: Error,
        409: Error,
        422: Error,
    },
)
def decision_submit(
    request: HttpRequest, code: UUID, payload: DecisionIn
) -> Status[dict[str, object]] | dict[str, object]:
    """Accept, correct or reject a waiting prediction (cataloguers), as in the review queue."""
    _require_cataloguer(request)
    prediction = get_prediction_for_visitor(request, code)
    try:
        decision = decision_make(
            prediction=prediction,
            reviewer=request.user,  # type: ignore[arg-type]  # signed in: auth ran first
            action=payload.action,
            label=payload.label,
            review_round=payload.review_round,
        )
    except AlreadyDecided as exc:
        return Status(409, {"detail": str(exc)})
    except DecisionError as exc:
        return Status(400, {"detail": str(exc)})
    return {
        "code": decision.code,
        "prediction": prediction.code,
        "action": decision.action,
        "label": decision.label,
        "status": prediction.status,
        "reviewer": request.user.get_username(),
        "created_at": decision.created_at,
    }


@router.post(
    "/predict",
    summary="Predict labels for texts (nothing stored)",
    response={200: PredictOut, 400: Error, 401: Error, 404: Error, 409: Error, 422: Error},
)
def predict(
    request: HttpRequest, payload: PredictIn
) -> Status[dict[str, object]] | dict[str, object]:
    """The field's active model on your texts, at once; nothing is stored."""
    try:
        field = Field.objects.get(key=payload.field)
    except Field.DoesNotExist:
        known = ", ".join(Field.objects.order_by("key").values_list("key", flat=True)) or "none"
        raise Http404(NO_SUCH_FIELD.format(key=payload.field, known=known)) from None
    try:
        result = texts_predict(field=field, texts=payload.texts, k=payload.k)
    except ModelUnavailable as exc:
        return Status(409, {"detail": str(exc)})
    return {
        "field": field.key,
        "model_version": result.version,
        "predictions": [
            [{"label": g.label, "name": g.name, "confidence": g.confidence} for g in guesses]
            for guesses in result.guesses
        ],
    }
