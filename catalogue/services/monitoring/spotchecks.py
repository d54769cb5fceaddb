"""Spot checks: a stable random share of the values a model applied goes to a person.

The value stays applied meanwhile; the prediction waits in the queue as a "spot check" and is
decided there like any other item. In a sensitive collection (made so, or the record moved into
one) its value is withdrawn and it waits with the sensitive-collection reason
(``catalogue.services.rerouting.sensitive_spot_checks_withdraw``); the ``SpotCheck`` is kept,
so the person's decision is still the outcome and the sample is not thinned by the change.

Because the sample is random (the prediction's fixed ``audit_rank`` below the field's audit
rate), the share of spot checks people confirm is an unbiased estimate of the precision of
automatic application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalogue.models import (
    Collection,
    Decision,
    DecisionPolicy,
    Field,
    ModelVersion,
    Prediction,
    Record,
    SpotCheck,
)
from catalogue.pgarrays import bigint_array
from catalogue.services.monitoring.policy import monitoring_policy_get
from catalogue.services.routing import SPOT_CHECK
from glamml.ml.drift import (
    Proportion,
    band_index,
    band_names,
    precision_at_threshold,
    wilson_interval,
)


def spot_checks_select(
    *,
    field: Field,
    prediction_ids: Iterable[int] | None = None,
    audit_ranks: Mapping[int, float] | None = None,
) -> int:
    """Send the applied predictions whose audit rank is below the audit rate to the queue.

    A separate step after routing, one set-based update per batch (the ``prediction_ids`` it
    created), or over the whole field when no batch is given (the periodic sweep, which also
    catches values applied by a re-route or a rollback). Running it twice selects nothing new:
    a selected prediction is no longer ``applied`` and has its spot check.
    """
    rate = monitoring_policy_get(field=field).audit_rate
    if rate <= 0:
        return 0
    if prediction_ids is not None and audit_ranks is not None:
        # A batch knows its predictions' audit ranks: only the few under the rate (2% by
        # default) go to the statement, which reads each by primary key whatever its plan.
        prediction_ids = [i for i in prediction_ids if audit_ranks[i] < rate]
        if not prediction_ids:
            return 0
    ids = None if prediction_ids is None else list(prediction_ids)
    select = _select_pg if connection.vendor == "postgresql" else _select_orm
    return select(field=field, rate=rate, prediction_ids=ids)


def _select_orm(*, field: Field, rate: float, prediction_ids: list[int] | None) -> int:
    """:func:`spot_checks_select` elsewhere (SQLite, the demo): the rows locked, then queued."""
    candidates = Prediction.objects.filter(
        field=field,
        status=Prediction.Status.APPLIED,
        flagged=False,
        audit_rank__lt=rate,
        spot_check__isnull=True,
    )
    if prediction_ids is not None:
        candidates = candidates.filter(id__in=prediction_ids)
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(of=("self",)).values_list(
                "id", "record__collection_id", "model_version_id", "confidence", "review_round"
            )
        )
        if not rows:
            return 0
        Prediction.objects.filter(
            id__in=[row[0] for row in rows], status=Prediction.Status.APPLIED
        ).update(status=Prediction.Status.QUEUED, routed_by=SPOT_CHECK)
        SpotCheck.objects.bulk_create(
            [
                SpotCheck(
                    prediction_id=prediction_id,
                    field=field,
                    collection_id=collection_id,
                    model_version_id=version_id,
                    confidence=confidence,
                    review_round=review_round,
                )
                for prediction_id, collection_id, version_id, confidence, review_round in rows
            ],
            ignore_conflicts=True,
        )
    return len(rows)


def _select_pg(*, field: Field, rate: float, prediction_ids: list[int] | None) -> int:
    """:func:`spot_checks_select` as one statement: the update claims the rows it queues (a
    row another transaction changed meanwhile is checked again, as ``select_for_update`` did)
    and hands them to the insert of their spot checks.

    A batch's rows are found by primary key: planned from stale statistics, as when a large
    catalogue is first predicted, the field's condition led to reading every applied prediction
    of the field.
    """
    prediction, record = Prediction._meta.db_table, Record._meta.db_table
    # A batch's own predictions need no field condition: left out, the primary key is the
    # only index the planner can use for them.
    rows = "p.field_id = %(field)s" if prediction_ids is None else "p.id = ANY(%(ids)s::bigint[])"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH picked AS (
                UPDATE {prediction} AS p SET status = %(queued)s, routed_by = %(by)s
                WHERE {rows} AND p.status = %(applied)s AND NOT p.flagged
                  AND p.audit_rank < %(rate)s
                  AND NOT EXISTS (
                    SELECT 1 FROM {SpotCheck._meta.db_table} AS s WHERE s.prediction_id = p.id)
                RETURNING p.id, p.record_id, p.model_version_id, p.confidence, p.review_round
            ), checks AS (
                INSERT INTO {SpotCheck._meta.db_table} (
                    prediction_id, field_id, collection_id, model_version_id, confidence,
                    review_round, created_at)
                SELECT picked.id, %(field)s, r.collection_id, picked.model_version_id,
                       picked.confidence, picked.review_round, %(now)s
                FROM picked JOIN {record} AS r ON r.id = picked.record_id
                ON CONFLICT DO NOTHING
            )
            SELECT count(*) FROM picked
            """,
            {
                "queued": Prediction.Status.QUEUED.value,
                "applied": Prediction.Status.APPLIED.value,
                "by": SPOT_CHECK,
                "field": field.id,
                "rate": rate,
                "ids": None if prediction_ids is None else bigint_array(prediction_ids),
                "now": timezone.now(),
            },
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class CheckOutcome:
    """A spot check with what the person who looked at it decided (None while it waits)."""

    check_id: int
    field_id: int
    collection_id: int
    model_version_id: int
    confidence: float
    outcome: str | None  # accept, correct or reject
    decided_at: datetime | None

    @property
    def confirmed(self) -> bool:
        return self.outcome == Decision.Action.ACCEPT


def spot_check_outcomes(checks: QuerySet[SpotCheck]) -> list[CheckOutcome]:
    """Each spot check with the first decision on its prediction from the check's round on.

    A flag that sends the item back later does not change what the check found. Two queries,
    whatever the number of checks.
    """
    rows = list(
        checks.values_list(
            "id",
            "prediction_id",
            "field_id",
            "collection_id",
            "model_version_id",
            "confidence",
            "review_round",
        )
    )
    decisions: dict[int, list[tuple[int, str, datetime]]] = {}
    for prediction_id, review_round, action, created_at in (
        Decision.objects.filter(
            prediction_id__in=checks.values("prediction_id"), withdrawn_at__isnull=True
        )
        .order_by("created_at", "id")
        .values_list("prediction_id", "review_round", "action", "created_at")
    ):
        decisions.setdefault(prediction_id, []).append((review_round, action, created_at))
    outcomes = []
    for check_id, prediction_id, field_id, collection_id, version_id, confidence, round_ in rows:
        first = next(
            ((a, at) for r, a, at in decisions.get(prediction_id, []) if r >= round_), None
        )
        outcomes.append(
            CheckOutcome(
                check_id=check_id,
                field_id=field_id,
                collection_id=collection_id,
                model_version_id=version_id,
                confidence=confidence,
                outcome=first[0] if first else None,
                decided_at=first[1] if first else None,
            )
        )
    return outcomes


@dataclass
class LivePrecision:
    """Spot-check precision of what a model version applied, against the held-out estimate."""

    model_version: ModelVersion | None
    overall: Proportion
    expected: float | None  # held-out precision at the policy's threshold
    pending: int  # selected, not yet decided
    by_collection: list[tuple[Collection, Proportion]] = dataclass_field(default_factory=list)
    by_band: list[tuple[str, Proportion]] = dataclass_field(default_factory=list)

    @property
    def below_expected(self) -> bool:
        """The whole interval lies below what the threshold was chosen for."""
        return self.expected is not None and self.overall.excludes_above(self.expected)


def expected_precision(*, version: ModelVersion, policy: DecisionPolicy) -> float | None:
    """Held-out precision of what the policy applies: all of it in ``auto`` mode."""
    if policy.mode == DecisionPolicy.Mode.REVIEW:
        return None
    curve = (version.metrics or {}).get("precision_coverage") or []
    threshold = policy.threshold if policy.mode == DecisionPolicy.Mode.THRESHOLD else 0.0
    precision, _ = precision_at_threshold(curve, threshold)
    return None if precision is None else float(precision)


def live_precision(
    *,
    field: Field,
    model_version: ModelVersion | None,
    until: datetime | None = None,
) -> LivePrecision:
    """Confirmed share of the version's decided spot checks, overall, per collection and band.

    ``until`` counts only decisions made before it (the figure as a past snapshot saw it).
    """
    checks = SpotCheck.objects.filter(field=field)
    if model_version is not None:
        checks = checks.filter(model_version=model_version)
    outcomes = spot_check_outcomes(checks)
    decided = [
        (o.collection_id, o.confidence, o.confirmed)
        for o in outcomes
        if o.decided_at is not None and (until is None or o.decided_at < until)
    ]
    pending = len(outcomes) - len(decided)
    collections = Collection.objects.in_bulk({c for c, _, _ in decided})
    by_collection = [
        (collections[collection_id], _share(d for d in decided if d[0] == collection_id))
        for collection_id in sorted(collections, key=lambda pk: collections[pk].name)
    ]
    by_band = [
        (name, _share(d for d in decided if band_index(d[1]) == index))
        for index, name in enumerate(band_names())
    ]
    expected = None
    if model_version is not None:
        expected = expected_precision(version=model_version, policy=field.policy)
    return LivePrecision(
        model_version=model_version,
        overall=_share(decided),
        expected=expected,
        pending=pending,
        by_collection=by_collection,
        by_band=[(name, p) for name, p in by_band if p.n],
    )


def _share(decided: Iterable[tuple[int, float, bool]]) -> Proportion:
    outcomes = [right for _, _, right in decided]
    return wilson_interval(sum(outcomes), len(outcomes))


def live_precision_by_field() -> dict[int, Proportion]:
    """Spot-check precision of each field's active version, in one query (for the dashboard)."""
    checks = SpotCheck.objects.filter(model_version__status=ModelVersion.Status.ACTIVE)
    confirmed: dict[int, list[bool]] = {}
    for o in spot_check_outcomes(checks):
        if o.outcome is not None:
            confirmed.setdefault(o.field_id, []).append(o.confirmed)
    return {field_id: wilson_interval(sum(c), len(c)) for field_id, c in confirmed.items()}
