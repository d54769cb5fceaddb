"""A field's monitoring figures, the same for the monitoring page and ``manage.py monitor``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Min, QuerySet
from django.utils import timezone

from catalogue.models import (
    Alert,
    Collection,
    Decision,
    DecisionPolicy,
    DriftReference,
    Field,
    ModelVersion,
    MonitoringPolicy,
    Snapshot,
)
from catalogue.services.monitoring.policy import monitoring_policy_get
from catalogue.services.monitoring.snapshots import (
    AGAINST_PREVIOUS,
    AGAINST_REFERENCE,
    FIGURES,
    PREVIOUS,
    SCORE_NAMES,
    SCORES,
    score_against,
    window_total,
)
from catalogue.services.monitoring.spotchecks import LivePrecision, live_precision
from glamml.ml.drift import Proportion, band_names, wilson_interval

HISTORY_DAYS = 30
TOP_LABELS = 5
OTHER = "other"
DRIFT_AGAINST = {
    AGAINST_REFERENCE: "Against the training data",
    AGAINST_PREVIOUS: "Against the previous window",
}


@dataclass(frozen=True)
class LabelShare:
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class LabelColumn:
    """One bar of the label chart: a day, or the reference the days are compared with."""

    name: str
    total: int
    shares: list[LabelShare]


@dataclass(frozen=True)
class BandRow:
    band: str
    live: int
    live_share: float
    reference: int | None
    reference_share: float | None


@dataclass(frozen=True)
class ReliabilityRow:
    band: str
    decided: int
    accepted: int
    corrected: int
    rejected: int
    confidence: float  # mean confidence of the decided predictions
    acceptance: Proportion


@dataclass(frozen=True)
class DriftPoint:
    day: date
    distance: float | None
    crossed: bool


@dataclass(frozen=True)
class DriftSeries:
    score: str
    title: str
    name: str
    line: float
    points: list[DriftPoint]
    against: str  # AGAINST_REFERENCE or AGAINST_PREVIOUS

    @property
    def heading(self) -> str:
        """The figure's short name: its chart's title says what it is compared with."""
        return FIGURES[self.score.removesuffix(PREVIOUS)][0]

    @property
    def latest(self) -> DriftPoint | None:
        measured = [p for p in self.points if p.distance is not None]
        return measured[-1] if measured else None


@dataclass(frozen=True)
class DriftGroup:
    against: str
    title: str
    series: list[DriftSeries]
    rows: list[tuple[date, list[DriftPoint]]]  # the chart's numbers: per day, each score's point


@dataclass(frozen=True)
class PrecisionPoint:
    day: date
    share: Proportion | None
    expected: float | None


@dataclass(frozen=True)
class DayRow:
    day: date
    predicted: int
    applied_by_model: int
    sent_to_people: int
    mean_confidence: float | None
    decisions: int
    corrections: int
    corrections_unknown: int  # corrections to a label the model cannot predict
    spot_checks: int
    flags: int
    records: int

    @property
    def share_to_people(self) -> float | None:
        decided = self.applied_by_model + self.sent_to_people
        return self.sent_to_people / decided if decided else None

    @property
    def flags_per_thousand(self) -> float | None:
        return 1000 * self.flags / self.records if self.records else None


@dataclass
class MonitoringReport:
    field: Field
    collection: Collection | None
    policy: MonitoringPolicy
    decision_policy: DecisionPolicy
    active_version: ModelVersion | None
    since: date | None  # when the first snapshot was taken
    latest: Snapshot | None
    days: list[DayRow]
    labels: list[LabelColumn]
    label_names: list[str]
    confidence: list[BandRow]
    reliability: list[ReliabilityRow]
    drift: list[DriftSeries]
    precision: LivePrecision | None
    precision_history: list[PrecisionPoint]
    open_alerts: list[Alert]
    recent_alerts: list[Alert]
    collections: list[Collection]
    reference: DriftReference | None

    @property
    def watched(self) -> bool:
        return self.since is not None

    @property
    def drift_groups(self) -> list[DriftGroup]:
        """One chart and table per comparison: with the reference, with the previous window."""
        groups = []
        for against, title in DRIFT_AGAINST.items():
            series = [s for s in self.drift if s.against == against]
            if series:
                days = [p.day for p in series[0].points]
                rows = [(day, [s.points[i] for s in series]) for i, day in enumerate(days)]
                groups.append(DriftGroup(against=against, title=title, series=series, rows=rows))
        return groups


def _snapshots(field: Field, collection: Collection | None, first: date) -> QuerySet[Snapshot]:
    rows = Snapshot.objects.filter(field=field, day__gte=first)
    if collection is None:
        return rows.filter(collection__isnull=True).order_by("day")
    return rows.filter(collection=collection).order_by("day")


def _day_row(snapshot: Snapshot) -> DayRow:
    s = snapshot.stats
    decisions = sum(sum(counts) for counts in (s.get("decisions") or {}).values())
    return DayRow(
        day=snapshot.day,
        predicted=s.get("predicted", 0),
        applied_by_model=s.get("applied_by_model", 0),
        sent_to_people=s.get("sent_to_people", 0),
        mean_confidence=(s["confidence_sum"] / s["predicted"]) if s.get("predicted") else None,
        decisions=decisions,
        corrections=s.get("corrections", 0),
        corrections_unknown=s.get("corrections_unknown", 0),
        spot_checks=(s.get("spot_checks") or {}).get("selected", 0),
        flags=s.get("flags", 0),
        records=s.get("records", 0),
    )


def _label_columns(
    snapshots: list[Snapshot], reference: DriftReference | None
) -> tuple[list[LabelColumn], list[str]]:
    """Shares of the most predicted labels per day (the rest as "other"), reference first."""
    totals: dict[str, int] = {}
    for snapshot in snapshots:
        for label, n in (snapshot.stats.get("labels") or {}).items():
            totals[label] = totals.get(label, 0) + n
    top = sorted(totals, key=lambda label: (-totals[label], label))[:TOP_LABELS]
    names = top + ([OTHER] if len(totals) > len(top) else [])

    def column(name: str, counts: dict[str, int]) -> LabelColumn:
        total = sum(counts.values())
        shares = []
        for label in names:
            n = (
                sum(v for k, v in counts.items() if k not in top)
                if label == OTHER
                else counts.get(label, 0)
            )
            shares.append(LabelShare(label=label, count=n, share=n / total if total else 0.0))
        return LabelColumn(name=name, total=total, shares=shares)

    columns = []
    if reference is not None and reference.profile.get("labels"):
        columns.append(column("reference", reference.profile["labels"]))
    columns += [column(s.day.isoformat(), s.stats.get("labels") or {}) for s in snapshots]
    return columns, names


def _confidence_rows(window: dict[str, Any], reference: DriftReference | None) -> list[BandRow]:
    # The model's own confidence (before each collection's calibration), like the reference's.
    live = window.get("model_confidence") or []
    ref = (reference.profile.get("confidence") if reference is not None else None) or []
    live_total, ref_total = sum(live), sum(ref)
    rows = []
    for i, name in enumerate(band_names()):
        n = live[i] if i < len(live) else 0
        r = ref[i] if i < len(ref) else None
        rows.append(
            BandRow(
                band=name,
                live=n,
                live_share=n / live_total if live_total else 0.0,
                reference=r,
                reference_share=(r / ref_total) if r is not None and ref_total else None,
            )
        )
    return rows


def _reliability_rows(window: dict[str, Any]) -> list[ReliabilityRow]:
    decisions = window.get("decisions") or {}
    sums = window.get("decided_confidence_sum") or []
    rows = []

    def count(action: str, band: int) -> int:
        row = decisions.get(action) or []
        return int(row[band]) if band < len(row) else 0

    for i, name in enumerate(band_names()):
        accepted = count(Decision.Action.ACCEPT, i)
        corrected = count(Decision.Action.CORRECT, i)
        rejected = count(Decision.Action.REJECT, i)
        decided = accepted + corrected + rejected
        if not decided:
            continue
        rows.append(
            ReliabilityRow(
                band=name,
                decided=decided,
                accepted=accepted,
                corrected=corrected,
                rejected=rejected,
                confidence=sums[i] / decided,
                acceptance=wilson_interval(accepted, decided),
            )
        )
    return rows


def _drift_series(snapshots: list[Snapshot], line: float) -> list[DriftSeries]:
    series = []
    for score, title in SCORES.items():
        points = []
        for snapshot in snapshots:
            value = ((snapshot.drift or {}).get("scores") or {}).get(score)
            points.append(
                DriftPoint(
                    day=snapshot.day,
                    distance=value["distance"] if value else None,
                    crossed=bool(value and value.get("crossed")),
                )
            )
        if any(p.distance is not None for p in points):
            series.append(
                DriftSeries(
                    score=score,
                    title=title,
                    name=SCORE_NAMES[score],
                    line=line,
                    points=points,
                    against=score_against(score),
                )
            )
    return series


def _precision_history(snapshots: list[Snapshot]) -> list[PrecisionPoint]:
    points = []
    for snapshot in snapshots:
        precision = (snapshot.drift or {}).get("precision") or {}
        share = None
        if precision.get("n"):
            share = Proportion(
                successes=precision["successes"],
                n=precision["n"],
                low=precision["low"],
                high=precision["high"],
            )
        points.append(
            PrecisionPoint(day=snapshot.day, share=share, expected=precision.get("expected"))
        )
    return points


def monitoring_report(
    *, field: Field, collection: Collection | None = None, today: date | None = None
) -> MonitoringReport:
    """Everything the monitoring page shows for a field (or one of its collections)."""
    today = today or timezone.localdate()
    policy = monitoring_policy_get(field=field)
    version = ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE).first()
    first_taken = Snapshot.objects.filter(field=field).aggregate(first=Min("taken_at"))["first"]
    snapshots = list(_snapshots(field, collection, today - timedelta(days=HISTORY_DAYS - 1)))
    latest = snapshots[-1] if snapshots else None
    window_start = today - timedelta(days=policy.window_days - 1)
    window = window_total(s.stats for s in snapshots if s.day >= window_start)
    reference = None
    if version is not None:
        references = {r.collection_id: r for r in version.drift_references.all()}
        wanted = (latest.drift.get("reference") or {}) if latest else {}
        reference = references.get(wanted.get("collection")) or references.get(None)
    labels, label_names = _label_columns(snapshots, reference)
    alerts = Alert.objects.filter(field=field).select_related(
        "collection", "acknowledged_by", "training_run"
    )
    if collection is not None:
        alerts = alerts.filter(collection=collection)
    precision = None
    if version is not None:
        precision = live_precision(field=field, model_version=version)
    collection_ids = (
        Snapshot.objects.filter(field=field, collection__isnull=False)
        .values_list("collection_id", flat=True)
        .distinct()
    )
    return MonitoringReport(
        field=field,
        collection=collection,
        policy=policy,
        decision_policy=field.policy,
        active_version=version,
        since=timezone.localdate(first_taken) if first_taken else None,
        latest=latest,
        days=[_day_row(s) for s in snapshots],
        labels=labels,
        label_names=label_names,
        confidence=_confidence_rows(window, reference),
        reliability=_reliability_rows(window),
        drift=_drift_series(snapshots, policy.drift_threshold),
        precision=precision,
        precision_history=_precision_history(snapshots),
        open_alerts=list(alerts.filter(acknowledged_at__isnull=True)),
        recent_alerts=list(alerts.filter(acknowledged_at__isnull=False)[:20]),
        collections=list(Collection.objects.filter(id__in=collection_ids).order_by("name")),
        reference=reference,
    )


def monitoring_card_facts(*, version: ModelVersion) -> dict[str, Any]:
    """What a version's model card says about monitoring, as of now (see glamml.ml.cards)."""
    field = version.field
    policy = monitoring_policy_get(field=field)
    live = version.status == ModelVersion.Status.ACTIVE
    snapshots = Snapshot.objects.filter(field=field, collection__isnull=True, model_version=version)
    first_taken = snapshots.aggregate(first=Min("taken_at"))["first"]
    latest = snapshots.order_by("-day").first()
    precision = live_precision(field=field, model_version=version)
    scores = ((latest.drift or {}).get("scores") or {}) if latest else {}
    return {
        "live": live,
        "watched_since": timezone.localdate(first_taken).isoformat() if first_taken else None,
        "latest_day": latest.day.isoformat() if latest else None,
        "audit_rate": policy.audit_rate,
        "window_days": policy.window_days,
        "drift_threshold": policy.drift_threshold,
        "min_records": policy.min_records,
        "precision": (
            {
                **precision.overall.as_dict(),
                "expected": precision.expected,
                "below_expected": precision.below_expected,
            }
            if precision.overall.n
            else None
        ),
        "drift": [
            {
                "title": SCORES.get(name, name),
                "distance": score["distance"],
                "line": score["line"],
                "crossed": score["crossed"],
            }
            for name, score in scores.items()
        ],
        "open_alerts": (
            Alert.objects.filter(field=field, acknowledged_at__isnull=True).count() if live else 0
        ),
    }
