"""One cataloguer's decision on many waiting items at once: accept them all, or correct them all.

Each item is decided exactly as one decision would be (``decision_make``): its own claim, its
own ``Decision`` row and value in the history, committed item by item, so what was decided
stays decided if the request dies halfway. Training and monitoring cannot tell them apart from
single decisions. An item someone else decided meanwhile is left alone and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User

from catalogue.models import Decision, Prediction
from catalogue.services.calibration import calibration_refit_decisions
from catalogue.services.decisions import AlreadyDecided, DecisionError, decision_make

# A confirmation page lists every item it will decide, and the request decides them while the
# person waits: 50 take about a second (docs/benchmarks.md, bench/bulk_decisions.py).
BULK_LIMIT = 50
BULK_ACTIONS = (Decision.Action.ACCEPT, Decision.Action.CORRECT)

BULK_ACTION_UNKNOWN = "A bulk decision accepts or corrects; {action!r} is neither."
BULK_TOO_MANY = "At most {limit} items at once; {n} were sent."
BULK_ONE_FIELD = "Correcting in bulk needs items of one field: choose the field first."
BULK_NOTHING = "No items were sent: nothing was decided."


@dataclass(frozen=True)
class BulkResult:
    decisions: list[Decision]
    skipped: int  # decided, undone or re-queued by someone else since the person saw them


def decisions_bulk(
    *,
    items: Sequence[tuple[Prediction, int]],
    reviewer: User,
    action: str,
    label: str = "",
) -> BulkResult:
    """Accept (or correct to ``label``) each ``(prediction, review_round seen)`` in ``items``.

    Refused with ``DecisionError`` before anything is decided for an unknown action, too many
    items, a correction across fields or to a label the field does not have. Run twice, the
    second run skips every item (they are no longer in the round the person saw).
    """
    if action not in BULK_ACTIONS:
        raise DecisionError(BULK_ACTION_UNKNOWN.format(action=action))
    if not items:
        raise DecisionError(BULK_NOTHING)
    if len(items) > BULK_LIMIT:
        raise DecisionError(BULK_TOO_MANY.format(limit=BULK_LIMIT, n=len(items)))
    if action == Decision.Action.CORRECT and len({p.field_id for p, _ in items}) > 1:
        raise DecisionError(BULK_ONE_FIELD)
    decided: list[Decision] = []
    skipped = 0
    for prediction, review_round in items:
        try:
            decided.append(
                decision_make(
                    prediction=prediction,
                    reviewer=reviewer,
                    action=action,
                    label=label,
                    review_round=review_round,
                    refit=False,
                )
            )
        except AlreadyDecided:
            skipped += 1
        # A label the field lacks is refused by the first item, before any is decided: the
        # items share one field, so the label reads the same for each.
    for field, collection_id in {(p.field, p.record.collection_id) for p, _ in items}:
        calibration_refit_decisions(field=field, collection_id=collection_id)
    return BulkResult(decisions=decided, skipped=skipped)
