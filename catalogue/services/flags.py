"""Public "this is wrong" flags."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.db import transaction

from catalogue.counts import waiting_forget
from catalogue.machine import ModelUnavailable
from catalogue.models import Field, FieldValue, Flag, Prediction, Record
from catalogue.services.labels import UnknownLabelError, label_normalise
from catalogue.services.predictions import predictions_create
from catalogue.services.ratelimit import rate_limit_take

RATE_LIMITED = "Too many reports from your address in the last hour; please try again later."


class FlagError(Exception):
    pass


class FlagRateLimited(FlagError):
    pass


def flag_create(
    *,
    record: Record,
    field: Field,
    client_hash: str,
    proposed_label: str = "",
    comment: str = "",
) -> Flag:
    """Record a public flag and put the record's value for ``field`` back in the review queue.

    The value itself stays on the record (marked as under review) until a cataloguer decides;
    earlier decisions stay in the history. At most ``GLAMML_FLAG_RATE_LIMIT`` flags an hour
    are taken from one address, also when they arrive at the same moment.
    """
    with transaction.atomic():
        if client_hash and not rate_limit_take(
            scope="flag", client_hash=client_hash, limit=settings.GLAMML_FLAG_RATE_LIMIT
        ):
            raise FlagRateLimited(RATE_LIMITED)
        if proposed_label:
            try:
                proposed_label = label_normalise(field=field, value=proposed_label)
            except UnknownLabelError as exc:
                raise FlagError(str(exc)) from None
        current = FieldValue.objects.filter(record=record, field=field, is_current=True).first()
        flag = Flag.objects.create(
            record=record,
            field=field,
            prediction=_reopen(record=record, field=field),
            flagged_label=current.label if current else "",
            proposed_label=proposed_label,
            comment=comment[:2000],
            client_hash=client_hash,
        )
    waiting_forget()
    return flag


def _reopen(*, record: Record, field: Field) -> Prediction | None:
    """The record's live prediction for ``field``, queued again with priority."""
    prediction = (
        Prediction.objects.select_for_update()
        .filter(record=record, field=field)
        .exclude(status=Prediction.Status.SUPERSEDED)
        .order_by("-created_at", "-id")
        .first()
    )
    if prediction is None:
        # Nothing predicted yet (say, an imported value): ask the model now, into the queue.
        # With no usable model yet, the flag alone still reaches a cataloguer's triage.
        with contextlib.suppress(ModelUnavailable):
            predictions_create(
                field=field, record_ids=[record.id], force_review=True, include_settled=True
            )
        return (
            Prediction.objects.filter(record=record, field=field)
            .order_by("-created_at", "-id")
            .first()
        )
    if prediction.status != Prediction.Status.QUEUED or not prediction.flagged:
        prediction.status = Prediction.Status.QUEUED
        prediction.flagged = True
        prediction.routed_by = "flag"
        prediction.review_round += 1
        prediction.save(update_fields=["status", "flagged", "routed_by", "review_round"])
    return prediction
