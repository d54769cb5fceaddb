"""Alerts: a figure of a snapshot crossed its line. Raised once per line per window, kept once
acknowledged (with who and when), optionally e-mailed, and able to start retraining."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalogue import dispatch
from catalogue.models import Alert, Field, MonitoringPolicy, Snapshot, TrainingRun
from catalogue.services.monitoring.policy import email_recipients, monitoring_policy_get
from catalogue.services.monitoring.snapshots import SCORES, snapshot_days, snapshots_take
from catalogue.services.monitoring.spotchecks import spot_checks_select
from catalogue.services.training.runs import training_run_create

ALREADY_ACKNOWLEDGED = "This alert was acknowledged by {who} at {when}."
RUN_IN_PROGRESS = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)


@dataclass(frozen=True)
class Crossing:
    kind: str
    details: dict[str, Any]
    message: str


def _scope(snapshot: Snapshot) -> str:
    field = snapshot.field.name
    return f"{field} in {snapshot.collection.name}" if snapshot.collection else f"{field} overall"


def _window(snapshot: Snapshot) -> str:
    start, end = (snapshot.drift.get("window") or [snapshot.day, snapshot.day])[:2]
    return f"{start} to {end}"


def drift_crossing(snapshot: Snapshot) -> Crossing | None:
    scores = (snapshot.drift or {}).get("scores") or {}
    crossed = {name: score for name, score in scores.items() if score.get("crossed")}
    if not crossed:
        return None
    parts = [
        f"{SCORES[name].lower()}: {score['distance']:.2f} (line {score['line']:.2f}, "
        f"{score['n']} records against {score['n_reference']})"
        for name, score in crossed.items()
    ]
    for name, where in (
        ("unseen", "the held-out records"),
        ("unseen_previous", "the window before"),
    ):
        unseen = crossed.get(name) or {}
        if unseen.get("live_mean") is not None and unseen.get("reference_mean") is not None:
            parts.append(
                f"on average {unseen['live_mean']:.0%} of a record's trigrams are new to the "
                f"model, against {unseen['reference_mean']:.0%} on {where}"
            )
    message = (
        f"Drift in {_scope(snapshot)}, {_window(snapshot)}. Jensen–Shannon distance of "
        + "; ".join(parts)
        + "."
    )
    return Crossing(kind=Alert.Kind.DRIFT, details=crossed, message=message)


def precision_crossing(snapshot: Snapshot) -> Crossing | None:
    precision = (snapshot.drift or {}).get("precision") or {}
    if not precision.get("below_expected"):
        return None
    message = (
        f"Live precision of {_scope(snapshot)}: {precision['successes']} of {precision['n']} "
        f"spot checks confirmed ({precision['estimate']:.0%}; 95% Wilson interval "
        f"{precision['low']:.0%}–{precision['high']:.0%}), below the {precision['expected']:.0%} "
        "measured on held-out records at the policy's threshold."
    )
    return Crossing(kind=Alert.Kind.PRECISION, details={"precision": precision}, message=message)


def flags_crossing(snapshot: Snapshot, policy: MonitoringPolicy) -> Crossing | None:
    line = policy.flags_per_thousand
    drift = snapshot.drift or {}
    records, flags = drift.get("records") or 0, drift.get("flags") or 0
    if line is None or not records:
        return None
    rate = 1000 * flags / records
    if rate <= line:
        return None
    message = (
        f"Public flags on {_scope(snapshot)}, {_window(snapshot)}: {flags} for {records} records "
        f"({rate:.1f} per 1,000), above the line of {line:g} per 1,000."
    )
    details = {"flags": {"flags": flags, "records": records, "rate": rate, "line": line}}
    return Crossing(kind=Alert.Kind.FLAGS, details=details, message=message)


def crossings(snapshot: Snapshot, policy: MonitoringPolicy) -> list[Crossing]:
    found = [drift_crossing(snapshot), flags_crossing(snapshot, policy)]
    if policy.precision_alerts:
        found.append(precision_crossing(snapshot))
    return [c for c in found if c is not None]


def alerts_raise(*, field: Field, days: Iterable[date]) -> list[Alert]:
    """Raise an alert for every line the field's snapshots of ``days`` crossed.

    One alert per field, collection and kind per window: a shift that lasts is one alert, not
    one a day; once the window has moved past it, a shift still there is raised again.
    """
    policy = monitoring_policy_get(field=field)
    snapshots = (
        Snapshot.objects.filter(field=field, day__in=list(days))
        .select_related("field", "collection")
        .order_by("day", "collection_id")
    )
    raised = []
    for snapshot in snapshots:
        for crossing in crossings(snapshot, policy):
            alert = _raise(snapshot=snapshot, crossing=crossing, policy=policy)
            if alert is not None:
                raised.append(alert)
    return raised


def _raise(*, snapshot: Snapshot, crossing: Crossing, policy: MonitoringPolicy) -> Alert | None:
    window_start = snapshot.day - timedelta(days=policy.window_days - 1)
    with transaction.atomic():
        if Alert.objects.filter(
            field=snapshot.field,
            collection=snapshot.collection,
            kind=crossing.kind,
            day__gte=window_start,
            day__lte=snapshot.day + timedelta(days=policy.window_days - 1),
        ).exists():
            return None
        alert = Alert.objects.create(
            field=snapshot.field,
            collection=snapshot.collection,
            kind=crossing.kind,
            day=snapshot.day,
            window_start=window_start,
            message=crossing.message,
            details=crossing.details,
        )
        if email_recipients(policy):
            dispatch.enqueue(dispatch.SEND_ALERT_EMAIL, alert.pk)
        if (
            policy.on_alert == MonitoringPolicy.OnAlert.RETRAIN
            and crossing.kind != Alert.Kind.FLAGS
        ):
            alert_retrain(alert=alert, started_by=None)
    return alert


def alert_retrain(*, alert: Alert, started_by: User | None) -> TrainingRun:
    """Retrain the alert's field because of it; the run says which alert asked.

    A run already queued or running for the field is used instead of starting a second.
    """
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.training_run is not None and locked.training_run.status in RUN_IN_PROGRESS:
            return locked.training_run
        run = TrainingRun.objects.filter(
            field_id=locked.field_id, status__in=RUN_IN_PROGRESS
        ).first()
        if run is None:
            run = training_run_create(
                field=locked.field,
                started_by=started_by,
                trigger=TrainingRun.Trigger.MONITORING,
                reason=f"{locked.get_kind_display()} alert of {locked.day}: {locked.message}",
            )
        locked.training_run = run
        locked.save(update_fields=["training_run"])
    alert.training_run = run
    return run


class AlertAlreadyAcknowledged(Exception):
    pass


def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    """Mark the alert seen by ``user`` now; it stays in the list of acknowledged alerts."""
    claimed = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=user, acknowledged_at=timezone.now()
    )
    alert.refresh_from_db()
    if not claimed:
        raise AlertAlreadyAcknowledged(
            ALREADY_ACKNOWLEDGED.format(
                who=alert.acknowledged_by or "someone",
                when=timezone.localtime(alert.acknowledged_at).strftime("%Y-%m-%d %H:%M"),
            )
        )
    return alert


def alert_email_send(*, alert: Alert) -> bool:
    """E-mail the field's recipients once; False when there is no one to tell or it was sent.

    The claim and the sending share a transaction: a failed send leaves the alert unsent, so a
    retry sends it.
    """
    recipients = email_recipients(monitoring_policy_get(field=alert.field))
    if not recipients:
        return False
    with transaction.atomic():
        claimed = Alert.objects.filter(pk=alert.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            return False
        link = settings.GLAMML_SITE_URL + reverse("review:monitoring_alert", args=[alert.code])
        send_mail(
            subject=f"[glamml] {alert.get_kind_display()} alert: {alert.field.name}",
            message=f"{alert.message}\n\nThe records behind it, and to acknowledge it: {link}\n",
            from_email=None,
            recipient_list=recipients,
        )
    return True


@dataclass
class MonitoringRun:
    spot_checked: int
    snapshots: int
    alerts: list[Alert]


def monitoring_run(*, field: Field, today: date | None = None) -> MonitoringRun:
    """What the periodic task does for a field: draw spot checks among values applied since the
    last run, take the snapshots, raise alerts."""
    today = today or timezone.localdate()
    policy = monitoring_policy_get(field=field)
    days = snapshot_days(field=field, today=today, window_days=policy.window_days)
    spot_checked = spot_checks_select(field=field)
    written = snapshots_take(field=field, today=today)
    return MonitoringRun(
        spot_checked=spot_checked,
        snapshots=len(written),
        alerts=alerts_raise(field=field, days=days),
    )
