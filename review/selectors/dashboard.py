"""Reads for the admin dashboard: policies, previews, training runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from catalogue.models import (
    DecisionPolicy,
    Field,
    FieldJob,
    Label,
    ModelVersion,
    PolicyChange,
    Prediction,
    TrainingRun,
)
from catalogue.services.jobs import jobs_reap
from catalogue.services.monitoring.spotchecks import live_precision_by_field
from glamml.ml.drift import Proportion
from review.selectors.calibration import CalibrationRow, calibrations_by_field, conservative_reads
from review.selectors.common import (
    DASHBOARD_CHANGES,
    DASHBOARD_RUNS,
    DASHBOARD_VERSIONS,
    VERSION_DOCUMENTS,
    percent,
)

# Under this many held-out records a precision is a rough guide (±10 points or worse).
FEW_HELD_OUT = 100

# --- the admin dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOutEstimate:
    """What the active model's held-out evaluation says about a threshold."""

    precision: float | None
    coverage: float
    # (target precision, threshold reaching it, share of items covered) per target.
    suggestions: list[tuple[float, float, float]]
    # How many held-out records the curve was measured on (None for versions that did not say),
    # and whether they were the report half (the other half chose the suggestions).
    records: int | None = None
    report_half: bool = False

    @property
    def precision_percent(self) -> int | None:
        return percent(self.precision)

    @property
    def covered_records(self) -> int | None:
        return None if self.records is None else round(self.coverage * self.records)

    @property
    def few_records(self) -> bool:
        """Too few to read a percentage closer than about ten points either way."""
        return self.records is not None and self.records < FEW_HELD_OUT

    @property
    def coverage_percent(self) -> int | None:
        return percent(self.coverage)


@dataclass(frozen=True)
class ThresholdPreview:
    """What the threshold rule would do with the field's waiting and model-applied predictions."""

    threshold: float
    would_apply: int
    would_queue: int
    held_by_safety: int
    estimate: HeldOutEstimate | None = None

    @property
    def total(self) -> int:
        return self.would_apply + self.would_queue + self.held_by_safety

    def _share(self, n: int) -> int:
        return round(100 * n / self.total) if self.total else 0

    @property
    def threshold_percent(self) -> int | None:
        return percent(self.threshold)

    @property
    def apply_share(self) -> int:
        return self._share(self.would_apply)

    @property
    def queue_share(self) -> int:
        return self._share(self.would_queue)

    @property
    def safety_share(self) -> int:
        return self._share(self.held_by_safety)


def held_out_estimate(*, metrics: dict[str, Any], threshold: float) -> HeldOutEstimate | None:
    """Precision and coverage at ``threshold`` from a version's precision/coverage curve.

    The curve runs from the highest threshold down; the last point still at or above
    ``threshold`` describes the items a model with that threshold would apply.
    """
    curve = metrics.get("precision_coverage") if isinstance(metrics, dict) else None
    if not curve:
        return None
    precision, coverage = None, 0.0
    for point in curve:
        if point.get("threshold", 0.0) >= threshold:
            precision, coverage = point.get("precision"), point.get("coverage", 0.0)
    suggestions = []
    # Suggested on the validation part; what each covers is read off the report part's curve.
    thresholds = metrics.get("threshold_at_precision") or {}
    for target, at in sorted(thresholds.items()):
        if at is not None:
            covered = max(
                (p.get("coverage", 0.0) for p in curve if p.get("threshold", 0.0) >= at),
                default=0.0,
            )
            suggestions.append((float(target), float(at), float(covered)))
    parts = metrics.get("threshold_parts") or {}
    report_half = bool(parts.get("validation")) and bool(parts.get("report"))
    records = parts.get("report") if report_half else metrics.get("n_test", metrics.get("n"))
    return HeldOutEstimate(
        precision=precision,
        coverage=coverage,
        suggestions=suggestions,
        records=int(records) if isinstance(records, int | float) else None,
        report_half=report_half,
    )


def threshold_previews(
    *, thresholds: dict[int, float], metrics: dict[int, dict[str, Any] | None] | None = None
) -> dict[int, ThresholdPreview]:
    """Count, from Prediction rows, where a threshold would send each field's live predictions
    (fields by id, each at its own threshold), in one aggregate query for them all.

    Live means waiting or applied by the model, not flagged: what a re-route may move. Items at
    or above the threshold in a sensitive collection or with a sensitive label stay with people.
    ``metrics`` (each field's active version's) adds the held-out precision expected there.
    """
    metrics = metrics or {}
    if not thresholds:
        return {}
    at_or_above, below, sensitive_label = Q(), Q(), Q()
    for field_id, threshold in thresholds.items():
        at_or_above |= Q(field_id=field_id, confidence__gte=threshold)
        below |= Q(field_id=field_id, confidence__lt=threshold)
        sensitive_label |= Q(
            field_id=field_id,
            label__in=Label.objects.filter(field_id=field_id, is_sensitive=True).values("code"),
        )
    sensitive = Q(record__collection__is_sensitive=True) | sensitive_label
    rows = (
        Prediction.objects.filter(
            field_id__in=list(thresholds),
            status__in=[Prediction.Status.QUEUED, Prediction.Status.APPLIED],
            flagged=False,
        )
        .values("field_id")
        .annotate(
            would_apply=Count("id", filter=at_or_above & ~sensitive),
            held_by_safety=Count("id", filter=at_or_above & sensitive),
            would_queue=Count("id", filter=below),
        )
        .order_by()
    )
    counts = {
        row["field_id"]: (row["would_apply"], row["would_queue"], row["held_by_safety"])
        for row in rows
    }
    previews = {}
    for field_id, threshold in thresholds.items():
        found = metrics.get(field_id)
        would_apply, would_queue, held_by_safety = counts.get(field_id, (0, 0, 0))
        previews[field_id] = ThresholdPreview(
            threshold=threshold,
            estimate=held_out_estimate(metrics=found, threshold=threshold) if found else None,
            would_apply=would_apply,
            would_queue=would_queue,
            held_by_safety=held_by_safety,
        )
    return previews


@dataclass
class FieldDashboard:
    field: Field
    policy: DecisionPolicy
    changes: list[PolicyChange]
    preview: ThresholdPreview
    status_counts: list[tuple[str, str, int]]
    versions: list[ModelVersion]
    active_version: ModelVersion | None
    runs: list[TrainingRun]
    # Spot checks of what the active version applied: the live side of the held-out estimate.
    live_precision: Proportion | None = None
    # Each collection's live calibration of the field's confidence, and its evidence.
    calibrations: list[CalibrationRow] | None = None
    # Re-routes and re-predictions running now or lately finished, newest first.
    jobs: list[FieldJob] = dc_field(default_factory=list)

    @property
    def conservative_reads(self) -> list[tuple[float, float]]:
        return conservative_reads()

    def _active(self, kind: str) -> bool:
        return any(job.kind == kind and job.is_active for job in self.jobs)

    @property
    def rerouting(self) -> bool:
        return self._active(FieldJob.Kind.REROUTE)

    @property
    def repredicting(self) -> bool:
        return self._active(FieldJob.Kind.REPREDICT)

    @property
    def training(self) -> bool:
        return any(run.status in ACTIVE_RUN for run in self.runs)


def dashboard_fields(
    *, field: Field | None = None, preview_thresholds: dict[int, float] | None = None
) -> list[FieldDashboard]:
    """Per field (or just ``field``): policy, change log, threshold preview, counts, models.

    A fixed number of queries: each kind of row is read for every field at once (the latest
    few per field by a window function), not with one query per field.
    """
    preview_thresholds = preview_thresholds or {}
    # A job that stopped without finishing is failed first, so the page says so and its
    # buttons work again even where no periodic sweep runs (the embedded demo).
    jobs_reap(field_id=field.pk if field is not None else None)
    # Every predicted field gets a policy when it is set up; one without is not ready to manage.
    fields_qs = Field.objects.filter(policy__isnull=False).select_related("policy")
    if field is not None:
        fields_qs = fields_qs.filter(pk=field.pk)
    fields = list(fields_qs.order_by("name"))
    ids = [f.id for f in fields]
    if not ids:
        return []
    by_status = _status_counts(ids)
    live = live_precision_by_field()
    calibrations = calibrations_by_field(field_ids=ids)
    versions = _latest_per_field(
        # The model card and parameters are large JSON the dashboard never shows.
        ModelVersion.objects.filter(field_id__in=ids).defer("card", "params"),
        order=("-version",),
        n=DASHBOARD_VERSIONS,
    )
    actives = {
        f.id: next((v for v in versions[f.id] if v.status == ModelVersion.Status.ACTIVE), None)
        for f in fields
    }
    previews = threshold_previews(
        thresholds={f.id: preview_thresholds.get(f.id, f.policy.threshold) for f in fields},
        metrics={i: v.metrics if v is not None else None for i, v in actives.items()},
    )
    changes, runs, jobs = _recent_history(ids)
    return [
        FieldDashboard(
            field=f,
            policy=f.policy,
            changes=changes[f.id],
            preview=previews[f.id],
            status_counts=[
                (value, label, by_status[f.id].get(value, 0))
                for value, label in Prediction.Status.choices
            ],
            versions=versions[f.id],
            active_version=actives[f.id],
            runs=runs[f.id],
            live_precision=live.get(f.id),
            calibrations=calibrations.get(f.id, []),
            jobs=jobs[f.id],
        )
        for f in fields
    ]


def _status_counts(ids: list[int]) -> defaultdict[int, dict[str, int]]:
    """How many predictions each field has in each status."""
    by_status: defaultdict[int, dict[str, int]] = defaultdict(dict)
    rows = Prediction.objects.filter(field__in=ids).values("field_id", "status")
    for row in rows.annotate(n=Count("id")).order_by():
        by_status[row["field_id"]][row["status"]] = row["n"]
    return by_status


def _recent_history(ids: list[int]) -> tuple[defaultdict[int, list[Any]], ...]:
    """Each field's latest policy changes, training runs and background jobs."""
    changes = _latest_per_field(
        PolicyChange.objects.filter(policy__field_id__in=ids).select_related("changed_by"),
        order=("-changed_at", "-id"),
        n=DASHBOARD_CHANGES,
        by="policy__field_id",
    )
    runs = _latest_per_field(
        _training_runs().filter(field_id__in=ids),
        order=("-created_at", "-id"),
        n=DASHBOARD_RUNS,
    )
    jobs = _latest_per_field(
        _jobs_recent().filter(field_id__in=ids),
        order=("-created_at", "-id"),
        n=DASHBOARD_JOBS,
    )
    return changes, runs, jobs


def _latest_per_field(
    rows: QuerySet[Any], *, order: tuple[str, ...], n: int, by: str = "field_id"
) -> defaultdict[int, list[Any]]:
    """The first ``n`` of ``rows`` in ``order`` for each field (``by`` names the row's field),
    in one query: rows numbered within their field by a window function."""
    numbered = rows.annotate(
        field_key=F(by),
        nth=Window(RowNumber(), partition_by=F(by), order_by=list(order)),
    ).filter(nth__lte=n)
    found: defaultdict[int, list[Any]] = defaultdict(list)
    for row in numbered.order_by(by, *order):
        found[row.field_key].append(row)
    return found


ACTIVE_RUN = (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)
# How long a finished job stays on the dashboard, to say how it ended.
JOB_SHOWN_FOR = timedelta(minutes=30)
DASHBOARD_JOBS = 3


def _jobs_recent() -> QuerySet[FieldJob]:
    """Jobs still running, and those finished in the last half hour, newest first."""
    since = timezone.now() - JOB_SHOWN_FOR
    return (
        FieldJob.objects.filter(Q(status__in=FieldJob.ACTIVE) | Q(finished_at__gte=since))
        .select_related("started_by", "field")
        .order_by("-created_at", "-id")
    )


def _training_runs() -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.select_related("model_version", "started_by", "field")
        .defer(*VERSION_DOCUMENTS)
        .order_by("-created_at", "-id")
    )


def training_run_get(*, pk: int) -> TrainingRun:
    return TrainingRun.objects.select_related("model_version", "started_by", "field").get(pk=pk)
