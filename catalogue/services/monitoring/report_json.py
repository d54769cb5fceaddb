"""The monitoring report for scripts (``manage.py monitor --json``): the page's figures as JSON."""

from __future__ import annotations

from typing import Any

from catalogue.models import Alert
from catalogue.services.monitoring.policy import SETTINGS
from catalogue.services.monitoring.report import DayRow, MonitoringReport
from catalogue.services.monitoring.spotchecks import LivePrecision
from glamml.ml.drift import Proportion


def _share(p: Proportion | None) -> dict[str, Any] | None:
    return p.as_dict() if p is not None else None


def _precision_as_json(precision: LivePrecision | None) -> dict[str, Any] | None:
    if precision is None:
        return None
    return {
        **(_share(precision.overall) or {}),
        "interval": "95% Wilson score",
        "held_out_at_threshold": precision.expected,
        "pending": precision.pending,
        "by_collection": {c.slug: _share(p) for c, p in precision.by_collection},
        "by_band": {band: _share(p) for band, p in precision.by_band},
    }


def _day_as_json(row: DayRow) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "predicted": row.predicted,
        "applied_by_model": row.applied_by_model,
        "sent_to_people": row.sent_to_people,
        "share_to_people": row.share_to_people,
        "mean_confidence": row.mean_confidence,
        "decisions": row.decisions,
        "corrections": row.corrections,
        "corrections_unknown": row.corrections_unknown,
        "spot_checks": row.spot_checks,
        "flags": row.flags,
        "flags_per_thousand": row.flags_per_thousand,
    }


def _alert_as_json(alert: Alert) -> dict[str, Any]:
    return {
        "code": str(alert.code),
        "kind": alert.kind,
        "collection": alert.collection.slug if alert.collection else None,
        "day": alert.day.isoformat(),
        "message": alert.message,
    }


def _drift_as_json(report: MonitoringReport) -> dict[str, Any]:
    """Each drift score's latest value and its days; ``against`` says what it is compared with."""
    return {
        series.score: {
            "title": series.title,
            "against": series.against,
            "distance": series.latest.distance if series.latest else None,
            "line": series.line,
            "crossed": series.latest.crossed if series.latest else False,
            "day": series.latest.day.isoformat() if series.latest else None,
            "by_day": [
                {"day": p.day.isoformat(), "distance": p.distance, "crossed": p.crossed}
                for p in series.points
            ],
        }
        for series in report.drift
    }


def report_as_json(report: MonitoringReport) -> dict[str, Any]:
    """The report for scripts (``manage.py monitor --json``)."""
    latest, policy = report.latest, report.policy
    return {
        "field": report.field.key,
        "collection": report.collection.slug if report.collection else None,
        "watched_since": report.since.isoformat() if report.since else None,
        "latest_snapshot": latest.day.isoformat() if latest else None,
        "active_version": report.active_version.version if report.active_version else None,
        "settings": {
            # Every setting but the alert address: the report is for scripts, not for mail.
            name: getattr(policy, name)
            for name in SETTINGS
            if name != "email_to"
        },
        "live_precision": _precision_as_json(report.precision),
        "drift": _drift_as_json(report),
        "confidence": [
            {
                "band": row.band,
                "live": row.live,
                "live_share": round(row.live_share, 4),
                "held_out": row.reference,
                "held_out_share": (
                    None if row.reference_share is None else round(row.reference_share, 4)
                ),
            }
            for row in report.confidence
        ],
        "days": [_day_as_json(row) for row in report.days],
        "labels": {
            column.name: {s.label: s.count for s in column.shares} for column in report.labels
        },
        "reliability": [
            {
                "band": row.band,
                "decided": row.decided,
                "accepted": row.accepted,
                "corrected": row.corrected,
                "rejected": row.rejected,
                "mean_confidence": round(row.confidence, 4),
                "acceptance": _share(row.acceptance),
            }
            for row in report.reliability
        ],
        "open_alerts": [_alert_as_json(alert) for alert in report.open_alerts],
    }
