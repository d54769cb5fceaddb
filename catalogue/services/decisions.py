"""A cataloguer's decision on a waiting prediction: accept, correct or reject; undo or change it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalogue.counts import waiting_adjust
from catalogue.models import Decision, FieldValue, Flag, Prediction
from catalogue.services.calibration import calibration_refit_decisions
from catalogue.services.labels import UnknownLabelError, label_normalise, labels_ensure
from catalogue.services.values import value_put_back, value_reject_prediction, value_set

ALREADY_DECIDED = (
    "This suggestion was decided or changed after you opened it; your decision was not saved."
)
LABEL_REQUIRED = "Choose the correct label to correct a suggestion."
NOTHING_TO_UNDO = (
    "This decision was changed or undone since you saw it; nothing was undone. "
    "Open the item to see where it stands."
)
UNKNOWN_ACTION = "Unknown action {action!r}: use accept, correct or reject."


class DecisionError(Exception):
    pass


class AlreadyDecided(DecisionError):
    pass


_STATUS_FOR_ACTION = {
    Decision.Action.ACCEPT: Prediction.Status.ACCEPTED,
    Decision.Action.CORRECT: Prediction.Status.CORRECTED,
    Decision.Action.REJECT: Prediction.Status.REJECTED,
}
_VALUE_ACTION = {
    Decision.Action.ACCEPT: FieldValue.Action.ACCEPTED,
    Decision.Action.CORRECT: FieldValue.Action.CORRECTED,
}


def _write_value(
    *, prediction: Prediction, reviewer: User, kind: Decision.Action, label: str
) -> None:
    """The record's value after a decision: the decided label, or back to the one before."""
    if kind == Decision.Action.REJECT:
        value_reject_prediction(prediction=prediction, reviewer=reviewer)
        return
    value_set(
        record=prediction.record,
        field=prediction.field,
        label=label,
        source=FieldValue.Source.HUMAN,
        action=_VALUE_ACTION[kind],
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=prediction.confidence,
        user=reviewer,
    )


def decision_make(
    *,
    prediction: Prediction,
    reviewer: User,
    action: str,
    label: str = "",
    review_round: int | None = None,
    refit: bool = True,
) -> Decision:
    """Record a decision and make it the record's value (source: human).

    A rejection says only "this suggestion is wrong": the record keeps (or gets back) the value
    it had before the model, and the rejected label is kept on the decision as evidence.

    ``review_round`` is the round the reviewer saw; if the item was decided (or re-queued by a
    flag) since, the decision is refused with ``AlreadyDecided`` and nothing changes.

    ``refit`` false leaves the collection's calibration to the caller (a bulk decision refits
    once at the end rather than once per item).
    """
    try:
        kind = Decision.Action(action)
    except ValueError:
        raise DecisionError(UNKNOWN_ACTION.format(action=action)) from None
    label = _decided_label(prediction=prediction, action=kind, label=label)
    seen_round = prediction.review_round if review_round is None else review_round
    try:
        with transaction.atomic():
            # The conditional update is the claim: of two reviewers, exactly one matches a row.
            claimed = Prediction.objects.filter(
                pk=prediction.pk, status=Prediction.Status.QUEUED, review_round=seen_round
            ).update(status=_STATUS_FOR_ACTION[kind], flagged=False)
            if not claimed:
                raise AlreadyDecided(ALREADY_DECIDED)
            decision = Decision.objects.create(
                prediction=prediction,
                review_round=seen_round,
                reviewer=reviewer,
                action=kind,
                label=label if kind != Decision.Action.REJECT else prediction.label,
                value_before=_current_value(prediction),
            )
            _write_value(prediction=prediction, reviewer=reviewer, kind=kind, label=label)
            Flag.objects.filter(
                record_id=prediction.record_id,
                field_id=prediction.field_id,
                status=Flag.Status.OPEN,
            ).update(status=Flag.Status.RESOLVED)
            # The decision is evidence on what the confidence means in this collection.
            if refit:
                calibration_refit_decisions(
                    field=prediction.field, collection_id=prediction.record.collection_id
                )
    except IntegrityError:
        raise AlreadyDecided(ALREADY_DECIDED) from None
    _waiting_moved(prediction, by=-1)
    prediction.refresh_from_db()
    return decision


def _waiting_moved(prediction: Prediction, *, by: int) -> None:
    waiting_adjust(
        field_id=prediction.field_id, collection_id=prediction.record.collection_id, by=by
    )


def _decided_label(*, prediction: Prediction, action: Decision.Action, label: str) -> str:
    """The label the decision gives the record: the suggestion, the correction, or none
    (a rejection leaves the value to ``value_reject_prediction``)."""
    if action == Decision.Action.ACCEPT:
        return prediction.label
    if action == Decision.Action.REJECT:
        return ""
    if not label:
        raise DecisionError(LABEL_REQUIRED)
    try:
        label = label_normalise(field=prediction.field, value=label)
    except UnknownLabelError as exc:
        raise DecisionError(str(exc)) from None
    labels_ensure(field=prediction.field, codes={label})
    return label


def _current_value(prediction: Prediction) -> FieldValue | None:
    return FieldValue.objects.filter(
        record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
    ).first()


def decision_standing(*, prediction: Prediction) -> Decision | None:
    """The decision that stands on a decided prediction (None while it waits)."""
    if prediction.status not in Prediction.DECIDED:
        return None
    return (
        Decision.objects.filter(
            prediction=prediction, review_round=prediction.review_round, withdrawn_at__isnull=True
        )
        .select_related("reviewer")
        .first()
    )


def decision_undo(*, prediction: Prediction, reviewer: User, review_round: int) -> Decision:
    """Take back the decision made in ``review_round``: the item waits again, in a new round.

    The decision stays in the history, marked withdrawn, and the record's value goes back to
    what it was just before the decision (a new value row, so the history shows the undo).
    Refused with ``AlreadyDecided`` if the decision was changed or undone since; run twice,
    the second call is refused and changes nothing.
    """
    with transaction.atomic():
        decision = (
            Decision.objects.select_for_update()
            .filter(prediction=prediction, review_round=review_round, withdrawn_at__isnull=True)
            .first()
        )
        claimed = decision is not None and (
            Prediction.objects.filter(
                pk=prediction.pk,
                status=_STATUS_FOR_ACTION[Decision.Action(decision.action)],
                review_round=review_round,
            ).update(status=Prediction.Status.QUEUED, review_round=F("review_round") + 1)
        )
        if decision is None or not claimed:
            raise AlreadyDecided(NOTHING_TO_UNDO)
        decision.withdrawn_at = timezone.now()
        decision.withdrawn_by = reviewer
        decision.save(update_fields=["withdrawn_at", "withdrawn_by"])
        value_put_back(prediction=prediction, before=decision.value_before, reviewer=reviewer)
        calibration_refit_decisions(
            field=prediction.field, collection_id=prediction.record.collection_id
        )
    _waiting_moved(prediction, by=1)
    prediction.refresh_from_db()
    return decision


def decision_change(
    *, prediction: Prediction, reviewer: User, action: str, label: str = "", review_round: int
) -> Decision:
    """Replace the decision made in ``review_round`` with a new one, in one transaction.

    The old decision is withdrawn (kept in the history); the new one is made in the next round
    and is what training and monitoring count. Refused, changing nothing, like ``decision_undo``
    or ``decision_make``.
    """
    with transaction.atomic():
        decision_undo(prediction=prediction, reviewer=reviewer, review_round=review_round)
        return decision_make(
            prediction=prediction,
            reviewer=reviewer,
            action=action,
            label=label,
            review_round=review_round + 1,
        )
