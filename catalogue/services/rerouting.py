"""Re-routing after a policy change: a few UPDATEs on the predictions that move, in batches.

Where a live prediction belongs depends only on its label, its confidence, its collection and
the policy, so each rule of :func:`~catalogue.services.routing.route` becomes a condition in
SQL. Predictions already in the right place with the right reason are not touched; those in
the right place for another reason get the new reason in one UPDATE; those that move (the band
between the old and the new threshold) move a batch at a time, each batch one transaction:
locked, moved, and their values applied or withdrawn together.

A spot check waits for a person while its value stays applied, so the rules do not move it;
but in a sensitive collection no model value stands without a person, so there its value is
withdrawn and it waits with the sensitive-collection reason, its ``SpotCheck`` kept (the
person's decision is still the audit's outcome). Applied again later by the rules (the
collection no longer sensitive), it waits as a spot check again, its value applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet

from catalogue.models import Collection, DecisionPolicy, Field, FieldJob, Prediction
from catalogue.services.jobs import job_progress, job_run, job_start
from catalogue.services.routing import (
    NOT_A_LANGUAGE,
    SENSITIVE_COLLECTION,
    SENSITIVE_LABEL,
    SPOT_CHECK,
    Route,
    never_applied,
    sensitive_labels,
)
from catalogue.services.values import values_apply_predictions, values_withdraw_predictions

BATCH = 5000
POLICY_CHANGE = "policy-change"
QUEUED, APPLIED = Prediction.Status.QUEUED, Prediction.Status.APPLIED

# Called after each batch with (moved so far, to move in all).
Progress = Callable[[int, int], None]


@dataclass
class RerouteResult:
    applied: int = 0
    queued: int = 0
    unchanged: int = 0


def live_predictions(
    *, field: Field, collection_id: int | None = None, statuses: tuple[str, ...] = (QUEUED, APPLIED)
) -> QuerySet[Prediction]:
    """What a re-route may move: waiting or model-applied (or only ``statuses``), not flagged,
    not a spot check waiting as one (in one collection, when ``collection_id`` is given).

    A spot check withdrawn in a sensitive collection waits for that reason, so it is live:
    the rules decide where it goes when the collection stops being sensitive."""
    live = Prediction.objects.filter(field=field, status__in=statuses, flagged=False).exclude(
        routed_by=SPOT_CHECK
    )
    return live if collection_id is None else live.filter(collection_id=collection_id)


def sensitive_collections() -> list[int]:
    """The ids of the collections whose predictions always wait for a person."""
    return list(Collection.objects.filter(is_sensitive=True).values_list("id", flat=True))


def sensitive_spot_checks_withdraw(
    *,
    field: Field,
    reason: str,
    user: User | None = None,
    collection_id: int | None = None,
    record_id: int | None = None,
) -> int:
    """Withdraw the values of the waiting spot checks in sensitive collections; how many.

    Each keeps waiting for a person (and keeps its ``SpotCheck``, so the decision is still the
    audit's outcome), now with the sensitive-collection reason; the record's history gives
    ``reason`` and ``user`` (who caused it, if one did). Decided and flagged items, and values
    from a person or the source catalogue, are not touched. A few statements a batch, on the
    few rows concerned; run twice, the second finds nothing.
    """
    sensitive = sensitive_collections()
    if not sensitive:
        return 0
    # The waiting items of the sensitive collections: a range of the queue's partial index.
    checks = Prediction.objects.filter(
        field=field,
        status=QUEUED,
        routed_by=SPOT_CHECK,
        flagged=False,
        collection_id__in=sensitive,
    )
    if collection_id is not None:
        checks = checks.filter(collection_id=collection_id)
    if record_id is not None:
        checks = checks.filter(record_id=record_id)
    withdrawn = 0
    while True:
        with transaction.atomic():
            ids = list(
                checks.order_by("id")
                .select_for_update(of=("self",))
                .values_list("id", flat=True)[:BATCH]
            )
            if not ids:
                return withdrawn
            Prediction.objects.filter(id__in=ids).update(routed_by=SENSITIVE_COLLECTION)
            values_withdraw_predictions(
                field_id=field.id, prediction_ids=ids, reason=reason, user=user
            )
        withdrawn += len(ids)


def spot_checks_resume(*, predictions: QuerySet[Prediction]) -> int:
    """Those of ``predictions`` a model applied again while their spot check waits (withdrawn
    in a sensitive collection, applied by the rules once it is not) wait again as spot checks,
    their value applied, as before the collection was made sensitive. One statement."""
    return predictions.filter(status=APPLIED, flagged=False, spot_check__isnull=False).update(
        status=QUEUED, routed_by=SPOT_CHECK
    )


def _rules(*, field: Field, live: QuerySet[Prediction]) -> list[tuple[Q, Route]]:
    """The routing rules as (condition, route), each condition excluding the earlier rules."""
    policy = field.policy
    never = [
        label
        for label in live.order_by().values_list("label", flat=True).distinct()
        if never_applied(field=field, label=label)
    ]
    rules = [
        (Q(label__in=never), Route(QUEUED, NOT_A_LANGUAGE)),
        # The collection the prediction carries (the database keeps it the record's): read
        # through the record, this rule walked every applied prediction and probed its record
        # (16 s at a million) even when no collection is sensitive.
        (Q(collection_id__in=sensitive_collections()), Route(QUEUED, SENSITIVE_COLLECTION)),
        (Q(label__in=sensitive_labels(field=field)), Route(QUEUED, SENSITIVE_LABEL)),
    ]
    if policy.mode == DecisionPolicy.Mode.THRESHOLD:
        rules.append((Q(confidence__gte=policy.threshold), Route(APPLIED, policy.mode)))
    # The last rule takes everything the others left (an empty Q matches every row).
    last = APPLIED if policy.mode == DecisionPolicy.Mode.AUTO else QUEUED
    rules.append((Q(), Route(last, policy.mode)))
    exclusive, earlier = [], Q()
    for condition, where in rules:
        exclusive.append((condition & ~earlier if earlier else condition, where))
        earlier = earlier | condition if earlier else condition
    return exclusive


def predictions_reroute(
    *, field: Field, progress: Progress | None = None, collection_id: int | None = None
) -> RerouteResult:
    """Send waiting and model-applied predictions where the current policy says (those of one
    collection when ``collection_id`` is given, after its calibration moved their confidence).

    Decided predictions (accepted, corrected, rejected) and flagged items are never touched,
    nor spot checks, except in a sensitive collection, where their values are withdrawn (see
    :func:`sensitive_spot_checks_withdraw`; counted as sent to review). Running it twice
    changes nothing the second time.
    """
    live = live_predictions(field=field, collection_id=collection_id)
    rules = _rules(field=field, live=live)

    def now(status: str) -> QuerySet[Prediction]:
        # One status, not "queued or applied, but not applied": PostgreSQL reads the
        # (field, status, confidence) index range of that status alone, where the two
        # conditions made it walk every applied prediction above the threshold (6 s a batch
        # at a million predictions).
        return live_predictions(field=field, collection_id=collection_id, statuses=(status,))

    moving = [
        (now(APPLIED if where.status == QUEUED else QUEUED).filter(condition), where)
        for condition, where in rules
    ]
    total = sum(group.count() for group, _ in moving)
    result = RerouteResult(unchanged=live.count() - total)
    for condition, where in rules:
        # Same place, new reason: the queue should say why an item is there now.
        now(where.status).filter(condition).exclude(routed_by=where.routed_by).update(
            routed_by=where.routed_by
        )
    if progress:
        progress(0, total)
    moved = 0
    for group, where in moving:
        while batch := _move_batch(field=field, group=group, where=where):
            moved += batch
            if where.status == APPLIED:
                result.applied += batch
            else:
                result.queued += batch
            if progress:
                progress(moved, total)
    result.queued += sensitive_spot_checks_withdraw(
        field=field, reason=POLICY_CHANGE, collection_id=collection_id
    )
    return result


def collection_sensitivity_changed(
    *, collection: Collection, changed_by: User | None
) -> list[FieldJob]:
    """Re-route every field after ``collection`` became sensitive or stopped being so.

    Made sensitive, the values a model applied there go back to a person and are withdrawn,
    spot-checked ones included (they keep waiting, now for the collection's sake); no longer
    sensitive, the policy may apply its waiting items again (a spot check applied again waits
    as a spot check). One background job per field, shown on the dashboard like a policy
    change's; call it in the transaction that saved the collection, so the jobs are sent only
    if the change is kept.
    """
    state = "made sensitive" if collection.is_sensitive else "no longer sensitive"
    jobs = []
    for field in Field.objects.filter(policy__isnull=False).order_by("id"):
        jobs.append(
            job_start(
                field=field,
                kind=FieldJob.Kind.REROUTE,
                started_by=changed_by,
                reason=f"after the collection {collection.name} was {state}",
            )
        )
    return jobs


def reroute_summary(result: RerouteResult) -> str:
    """How a re-route ended, in a sentence for the page."""
    moved = result.applied + result.queued
    if not moved:
        return (
            f"Nothing needed to move: the {result.unchanged} waiting or model-applied "
            "predictions were already where the policy says."
        )
    return (
        f"Moved {moved} prediction{'s' if moved != 1 else ''}: {result.applied} applied, "
        f"{result.queued} sent to review; {result.unchanged} were already in place."
    )


def reroute_job_run(*, field: Field, job_id: int) -> FieldJob | None:
    """Re-route as the job ``job_id``, counting on its row; None if the job is gone or done."""
    return job_run(
        job_id=job_id,
        work=lambda job: reroute_summary(
            predictions_reroute(field=field, progress=job_progress(job=job))
        ),
    )


@transaction.atomic
def _move_batch(*, field: Field, group: QuerySet[Prediction], where: Route) -> int:
    """Move one batch of ``group`` to ``where``, with its values; how many moved.

    The rows are locked first: a reviewer deciding one of them meanwhile waits, then finds it
    moved (and is told), as with any change made between showing and deciding an item.
    """
    rows = list(
        group.order_by("id")
        .select_for_update(of=("self",))
        .values_list("id", "record_id", "label", "confidence", "model_version_id")[:BATCH]
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    Prediction.objects.filter(id__in=ids).update(status=where.status, routed_by=where.routed_by)
    if where.status == APPLIED:
        values_apply_predictions(
            predictions=[
                Prediction(
                    id=pk,
                    record_id=record_id,
                    field_id=field.id,
                    label=label,
                    confidence=confidence,
                    model_version_id=version_id,
                    routed_by=where.routed_by,
                )
                for pk, record_id, label, confidence, version_id in rows
            ]
        )
        spot_checks_resume(predictions=Prediction.objects.filter(id__in=ids))
    else:
        values_withdraw_predictions(field_id=field.id, prediction_ids=ids, reason=POLICY_CHANGE)
    return len(rows)
