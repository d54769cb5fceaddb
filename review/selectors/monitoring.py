"""Reads for the monitoring screens: the fields watched, and the records behind an alert."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from catalogue.models import Alert, Field, Flag, Prediction, Snapshot, SpotCheck
from catalogue.services.monitoring.snapshots import SCORE_NAMES, day_bounds
from catalogue.services.monitoring.spotchecks import (
    CheckOutcome,
    live_precision_by_field,
    spot_check_outcomes,
)
from glamml.ml.drift import Proportion
from review.selectors.common import VERSION_DOCUMENTS


@dataclass(frozen=True)
class WatchedField:
    field: Field
    latest: Snapshot | None
    open_alerts: int
    live_precision: Proportion | None

    @property
    def worst_drift(self) -> tuple[str, float] | None:
        scores = ((self.latest.drift or {}).get("scores") or {}) if self.latest else {}
        if not scores:
            return None
        name = max(scores, key=lambda s: scores[s]["distance"])
        return SCORE_NAMES.get(name, name), scores[name]["distance"]


def watched_fields() -> list[WatchedField]:
    """Every field with a policy, its latest snapshot, open alerts and live precision."""
    fields = list(
        Field.objects.filter(policy__isnull=False)
        .annotate(open_alerts=Count("alerts", filter=Q(alerts__acknowledged_at__isnull=True)))
        .order_by("name")
    )
    last_day = Snapshot.objects.filter(field=OuterRef("field"), collection__isnull=True)
    latest = {
        s.field_id: s
        for s in Snapshot.objects.filter(
            field__in=fields,
            collection__isnull=True,
            day=Subquery(last_day.order_by("-day").values("day")[:1]),
        )
    }
    precision = live_precision_by_field()
    return [
        WatchedField(
            field=f,
            latest=latest.get(f.id),
            open_alerts=f.open_alerts,
            live_precision=precision.get(f.id),
        )
        for f in fields
    ]


def open_alerts() -> list[Alert]:
    """Alerts nobody has acknowledged yet, newest first (the dashboard's banner)."""
    return list(
        Alert.objects.filter(acknowledged_at__isnull=True).select_related("field", "collection")
    )


def alert_predictions(*, alert: Alert) -> QuerySet[Prediction]:
    """The predictions a drift alert's window covers: the records behind the shift."""
    start, _ = day_bounds(alert.window_start)
    _, end = day_bounds(alert.day)
    predictions = Prediction.objects.filter(
        field=alert.field, created_at__gte=start, created_at__lt=end
    )
    if alert.collection_id is not None:
        predictions = predictions.filter(record__collection_id=alert.collection_id)
    return (
        predictions.select_related("record__collection", "model_version")
        .defer(*VERSION_DOCUMENTS)
        .order_by("audit_rank", "id")
    )


@dataclass(frozen=True)
class UnconfirmedCheck:
    check: SpotCheck
    outcome: CheckOutcome


def alert_spot_checks(*, alert: Alert) -> list[UnconfirmedCheck]:
    """The spot checks a person did not confirm: the values behind a precision alert."""
    checks = SpotCheck.objects.filter(field=alert.field)
    if alert.collection_id is not None:
        checks = checks.filter(collection_id=alert.collection_id)
    _, end = day_bounds(alert.day)
    unconfirmed = {
        o.check_id: o
        for o in spot_check_outcomes(checks)
        if o.outcome is not None and not o.confirmed and o.decided_at and o.decided_at < end
    }
    rows = SpotCheck.objects.filter(id__in=unconfirmed).select_related(
        "prediction__record__collection", "model_version"
    )
    found = [UnconfirmedCheck(check=c, outcome=unconfirmed[c.id]) for c in rows]
    return sorted(found, key=lambda u: (u.outcome.decided_at, u.check.id), reverse=True)


def alert_flags(*, alert: Alert) -> QuerySet[Flag]:
    """The public flags in an alert's window."""
    start, _ = day_bounds(alert.window_start)
    _, end = day_bounds(alert.day)
    flags = Flag.objects.filter(field=alert.field, created_at__gte=start, created_at__lt=end)
    if alert.collection_id is not None:
        flags = flags.filter(record__collection_id=alert.collection_id)
    return flags.select_related("record__collection").order_by("-created_at", "-id")
