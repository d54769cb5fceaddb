"""Public "this is right": a visitor confirms the value or suggestion a record page shows.

A confirmation is weak evidence. It is stored and shown to cataloguers beside the item, but it
never changes a value, never takes an item out of the queue, never overrides a cataloguer and
is not a training label on its own. It is rate-limited like a flag, by the same limiter.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from catalogue.models import Confirmation, Field, FieldValue, Prediction, Record
from catalogue.services.flags import RATE_LIMITED, FlagRateLimited
from catalogue.services.ratelimit import rate_limit_take

NOTHING_TO_CONFIRM = "There is no value here to confirm yet."
VALUE_CHANGED = (
    "The value changed since you opened this page, so nothing was recorded; "
    "reload the page to see the value it has now."
)


class ConfirmationError(Exception):
    pass


@dataclass(frozen=True)
class Shown:
    """The value a record page shows a visitor for one field, which "this is right" confirms."""

    label: str
    source: str
    prediction: Prediction | None


def shown_value(*, record: Record, field: Field, show_model: bool) -> Shown | None:
    """The current value, or else the waiting suggestion when the public may see the model's."""
    current = (
        FieldValue.objects.filter(record=record, field=field, is_current=True)
        .select_related("prediction")
        .first()
    )
    if current is not None and current.label:
        if current.source != FieldValue.Source.MODEL:
            return Shown(current.label, current.source, None)
        if show_model:
            return Shown(current.label, current.source, current.prediction)
        return None
    if not show_model:
        return None
    waiting = (
        Prediction.objects.filter(record=record, field=field, status=Prediction.Status.QUEUED)
        .order_by("created_at", "id")
        .first()
    )
    if waiting is None:
        return None
    return Shown(waiting.label, FieldValue.Source.MODEL, waiting)


def confirmation_create(
    *, record: Record, field: Field, label: str, client_hash: str, show_model: bool
) -> Confirmation:
    """Record that a visitor says the value ``label`` shown for ``field`` is right.

    ``label`` is what the visitor saw: if the page's value has changed since, nothing is
    recorded (``VALUE_CHANGED``). An address may confirm as often as it may flag
    (``GLAMML_FLAG_RATE_LIMIT`` an hour; ``FlagRateLimited`` past it), with the flags' limiter.
    """
    with transaction.atomic():
        shown = shown_value(record=record, field=field, show_model=show_model)
        if shown is None:
            raise ConfirmationError(NOTHING_TO_CONFIRM)
        if label != shown.label:
            raise ConfirmationError(VALUE_CHANGED)
        if client_hash and not rate_limit_take(
            scope="confirm", client_hash=client_hash, limit=settings.GLAMML_FLAG_RATE_LIMIT
        ):
            raise FlagRateLimited(RATE_LIMITED)
        return Confirmation.objects.create(
            record=record,
            field=field,
            prediction=shown.prediction,
            label=shown.label,
            source=shown.source,
            client_hash=client_hash,
        )
