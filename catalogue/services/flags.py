"""Public "this is wrong" flags."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalogue.machine import ModelUnavailable
from catalogue.models import Field, FieldValue, Flag, Prediction, Record
from catalogue.services.labels import UnknownLabelError, label_normalise
from catalogue.services.predictions import predictions_create

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
    earlier decisions stay in the history.
    """
    since = timezone.now() - timedelta(hours=1)
    if (
        client_hash
        and Flag.objects.filter(client_hash=client_hash, created_at__gte=since).count()
        >= settings.GLAMML_FLAG_RATE_LIMIT
    ):
        raise FlagRateLimited(RATE_LIMITED)
    if proposed_label:
        try:
            proposed_label = label_normalise(field=field, value=proposed_label)
        except UnknownLabelError as exc:
            raise FlagError(str(exc)) from None
    current = FieldValue.objects.filter(record=record, field=field, is_current=True).first()
    with transaction.atomic():
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
            prediction = (
                Prediction.objects.filter(record=record, field=field)
                .order_by("-created_at", "-id")
                .first()
            )
        elif prediction.status != Prediction.Status.QUEUED or not prediction.flagged:
            prediction.status = Prediction.Status.QUEUED
            prediction.flagged = True
            prediction.routed_by = "flag"
            prediction.review_round += 1
            prediction.save(update_fields=["status", "flagged", "routed_by", "review_round"])
        return Flag.objects.create(
            record=record,
            field=field,
            prediction=prediction,
            flagged_label=current.label if current else "",
            proposed_label=proposed_label,
            comment=comment[:2000],
            client_hash=client_hash,
        )
