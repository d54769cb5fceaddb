"""Where a field applies, and the suggestions that are not a question for anyone.

A field applies to the collections an admin chooses (none chosen: every collection). Nothing is
predicted, queued or shown for a field where it does not apply. Within those collections a
cataloguer may still say that the field does not apply to one record ("not applicable"): the
item is kept, never asked again, and is not a training label. A suggestion that agrees with the
value the record already has (the source catalogue's or a person's) is not queued either: it is
kept as agreeing, which is evidence, not a question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet

from catalogue.counts import waiting_forget
from catalogue.models import (
    Collection,
    Field,
    FieldJob,
    FieldValue,
    Flag,
    PolicyChange,
    Prediction,
)
from catalogue.services.jobs import job_start
from catalogue.services.predictions import records_to_predict
from catalogue.services.values import value_put_back, value_set, values_withdraw_predictions

EVERY_COLLECTION = "every collection"
NOT_WAITING = (
    "This suggestion was decided or changed after you opened it; nothing was marked. "
    "Open the item to see where it stands."
)
NOT_MARKED = "This item is not marked “not applicable” any more; nothing was changed."
# Why a model value was withdrawn: the field no longer applies to the record's collection.
OUTSIDE = "not-applicable"


class ApplicabilityError(Exception):
    pass


@dataclass
class ApplicabilityResult:
    withdrawn: int = 0
    applied_withdrawn: int = 0
    enqueued: int = 0


def _described(collections: Iterable[Collection]) -> str:
    names = sorted(c.name for c in collections)
    return ", ".join(names) if names else EVERY_COLLECTION


def field_set_collections(
    *, field: Field, collections: list[Collection], changed_by: User | None
) -> ApplicabilityResult:
    """Make ``field`` apply to ``collections`` only (an empty list: to every collection).

    Suggestions outside them leave the queue and the values models applied there are withdrawn
    (superseded, so making the field apply there again brings them back through a prediction
    run); values from the catalogue or a person are never touched. Records of collections
    the field newly applies to are predicted by a background job the dashboard shows. The
    change is logged with the policy.
    """
    before = list(field.collections.all())
    result = ApplicabilityResult()
    if {c.id for c in before} == {c.id for c in collections}:
        return result
    with transaction.atomic():
        field.collections.set(collections)
        PolicyChange.objects.create(
            policy=field.policy,
            changed_by=changed_by,
            attribute="collections",
            old_value=_described(before),
            new_value=_described(collections),
        )
        if collections:
            result = _withdraw_outside(field=field, inside=[c.id for c in collections])
    waiting_forget()
    before_ids, after_ids = {c.id for c in before}, {c.id for c in collections}
    if not after_ids:  # to every collection: the ones it did not apply to are new
        all_ids = set(Collection.objects.values_list("id", flat=True))
        gained = all_ids - before_ids
    else:  # from every collection to some gains nothing
        gained = after_ids - before_ids if before_ids else set()
    result.enqueued = sum(
        len(records_to_predict(field=field, collection_id=collection_id))
        for collection_id in gained
    )
    if result.enqueued:
        # One job the dashboard follows: it predicts every record the active model has not
        # seen, these collections' among them.
        added = Collection.objects.filter(id__in=gained)
        with transaction.atomic():
            job_start(
                field=field,
                kind=FieldJob.Kind.REPREDICT,
                started_by=changed_by,
                reason=f"now applies to {_described(added)}",
            )
    return result


def _withdraw_outside(*, field: Field, inside: list[int]) -> ApplicabilityResult:
    outside = Prediction.objects.filter(field=field).exclude(record__collection_id__in=inside)
    return predictions_withdraw(field=field, predictions=outside, reason=OUTSIDE)


def predictions_withdraw(
    *, field: Field, predictions: QuerySet[Prediction], reason: str, user: User | None = None
) -> ApplicabilityResult:
    """Take ``predictions`` (of ``field``) off the queue for good and withdraw the values they
    applied, giving ``reason`` (and ``user``, who caused it) in the record's history.

    Waiting, flagged and model-applied ones are superseded; decided ones are not touched.
    """
    applied = list(
        predictions.filter(status=Prediction.Status.APPLIED).values_list("id", flat=True)
    )
    result = ApplicabilityResult(
        applied_withdrawn=values_withdraw_predictions(
            field_id=field.id, prediction_ids=applied, reason=reason, user=user
        )
    )
    result.withdrawn = predictions.filter(
        status__in=(Prediction.Status.QUEUED, Prediction.Status.APPLIED)
    ).update(status=Prediction.Status.SUPERSEDED, routed_by=reason, flagged=False)
    return result


def predictions_settle_agreeing(*, field: Field) -> int:
    """Take off the queue the suggestions that agree with their record's settled value.

    A settled value is a current, non-empty value from the source catalogue or a person. A
    flagged item stays: a visitor asked a person to look. Returns how many were settled.
    """
    agrees = FieldValue.objects.filter(
        record_id=OuterRef("record_id"),
        field_id=field.id,
        is_current=True,
        source__in=(FieldValue.Source.IMPORT, FieldValue.Source.HUMAN),
        label=OuterRef("label"),
    )
    settled = Prediction.objects.filter(
        Exists(agrees), field=field, status=Prediction.Status.QUEUED, flagged=False
    ).update(status=Prediction.Status.AGREED, routed_by="agrees")
    if settled:
        waiting_forget()
    return settled


def prediction_mark_not_applicable(
    *, prediction: Prediction, reviewer: User, review_round: int
) -> Prediction:
    """A cataloguer says ``prediction.field`` does not apply to this record.

    The item leaves the queue for good (later model versions do not ask again) and is not a
    training label. A value from the catalogue or a person stays; anything else becomes an
    empty "not applicable" value in the cataloguer's name. Refused (``ApplicabilityError``)
    if the item was decided or re-queued since ``review_round``.
    """
    with transaction.atomic():
        claimed = Prediction.objects.filter(
            pk=prediction.pk, status=Prediction.Status.QUEUED, review_round=review_round
        ).update(status=Prediction.Status.NOT_APPLICABLE, flagged=False)
        if not claimed:
            raise ApplicabilityError(NOT_WAITING)
        current = _current(prediction)
        if current is None or not current.label or current.source == FieldValue.Source.MODEL:
            value_set(
                record=prediction.record,
                field=prediction.field,
                label="",
                source=FieldValue.Source.HUMAN,
                action=FieldValue.Action.NOT_APPLICABLE,
                prediction=prediction,
                user=reviewer,
            )
        Flag.objects.filter(
            record_id=prediction.record_id, field_id=prediction.field_id, status=Flag.Status.OPEN
        ).update(status=Flag.Status.RESOLVED)
    waiting_forget()
    prediction.refresh_from_db()
    return prediction


def prediction_unmark_not_applicable(*, prediction: Prediction, reviewer: User) -> Prediction:
    """Send an item marked "not applicable" back to the queue, with the value it had before."""
    with transaction.atomic():
        claimed = Prediction.objects.filter(
            pk=prediction.pk, status=Prediction.Status.NOT_APPLICABLE
        ).update(status=Prediction.Status.QUEUED, review_round=F("review_round") + 1)
        if not claimed:
            raise ApplicabilityError(NOT_MARKED)
        current = _current(prediction)
        if current is not None and current.action == FieldValue.Action.NOT_APPLICABLE:
            earlier = (
                FieldValue.objects.filter(
                    record_id=prediction.record_id, field_id=prediction.field_id
                )
                .exclude(pk=current.pk)
                .order_by("-created_at", "-id")
                .first()
            )
            value_put_back(prediction=prediction, before=earlier, reviewer=reviewer)
    waiting_forget()
    prediction.refresh_from_db()
    return prediction


def _current(prediction: Prediction) -> FieldValue | None:
    return FieldValue.objects.filter(
        record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
    ).first()
