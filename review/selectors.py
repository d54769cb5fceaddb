"""Reads shared by the review screens, each with the joins its template needs.

Everything here is a read: decisions and policy changes go through ``catalogue.services``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from catalogue.models import (
    Collection,
    DecisionPolicy,
    Field,
    FieldValue,
    Flag,
    Label,
    ModelVersion,
    PolicyChange,
    Prediction,
    TrainingRun,
)

QUEUE_PAGE_SIZE = 25
FLAGS_PAGE_SIZE = 50
DASHBOARD_CHANGES = 10
DASHBOARD_RUNS = 10
DASHBOARD_VERSIONS = 10


def percent(confidence: float | None) -> int | None:
    """``0.876`` -> ``87``: rounded down, so a model never looks surer than it was."""
    if confidence is None:
        return None
    return math.floor(confidence * 100 + 1e-6)


@dataclass(frozen=True)
class LabelChoice:
    code: str
    name: str
    confidence: float | None = None

    @property
    def percent(self) -> int | None:
        return percent(self.confidence)


@dataclass
class QueueItem:
    """A waiting prediction with everything the queue shows beside it, resolved in bulk."""

    prediction: Prediction
    label_name: str
    alternatives: list[LabelChoice]
    current_value: FieldValue | None
    current_name: str
    open_flags: list[Flag]
    # The field's whole vocabulary, shared between the items of a page (not copied).
    field_labels: Sequence[LabelChoice] = dc_field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.prediction.code)

    @property
    def percent(self) -> int | None:
        return percent(self.prediction.confidence)

    @property
    def threshold_percent(self) -> int | None:
        policy = getattr(self.prediction.field, "policy", None)
        return percent(policy.threshold) if policy is not None else None

    @property
    def correct_alternatives(self) -> list[LabelChoice]:
        """The model's other guesses: the likeliest corrections, offered first."""
        return [a for a in self.alternatives if a.code != self.prediction.label]

    @property
    def correct_others(self) -> list[LabelChoice]:
        offered = {a.code for a in self.alternatives}
        return [c for c in self.field_labels if c.code not in offered]


# --- the review queue -------------------------------------------------------------------------


def queue_predictions(
    *, field: Field | None = None, collection: Collection | None = None
) -> QuerySet[Prediction]:
    """Waiting predictions, flagged first, then the least confident first, with the joins the
    queue template needs (slice it, then wrap the slice with ``queue_items``)."""
    qs = _with_queue_joins(Prediction.objects.filter(status=Prediction.Status.QUEUED))
    if field is not None:
        qs = qs.filter(field=field)
    if collection is not None:
        qs = qs.filter(record__collection=collection)
    return qs.order_by("-flagged", "confidence", "id")


def _with_queue_joins(qs: QuerySet[Prediction]) -> QuerySet[Prediction]:
    return qs.select_related(
        "record__collection", "field__policy", "model_version"
    ).prefetch_related(
        Prefetch(
            "record__values",
            queryset=FieldValue.objects.filter(is_current=True).select_related(
                "user", "model_version"
            ),
            to_attr="current_values",
        ),
        Prefetch(
            "record__flags",
            queryset=Flag.objects.filter(status=Flag.Status.OPEN).order_by("created_at", "id"),
            to_attr="open_flags",
        ),
    )


def label_names(*, field_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """``{field_id: {code: name}}`` for the given fields, in one query."""
    names: dict[int, dict[str, str]] = defaultdict(dict)
    for field_id, code, name in Label.objects.filter(field_id__in=set(field_ids)).values_list(
        "field_id", "code", "name"
    ):
        names[field_id][code] = name
    return names


def queue_items(predictions: Iterable[Prediction]) -> list[QueueItem]:
    """Wrap predictions (fetched with the queue's joins) for the template, in one extra query."""
    predictions = list(predictions)
    field_ids = {p.field_id for p in predictions}
    names = label_names(field_ids=field_ids)
    # Offer the labels the catalogue actually uses, not a language field's hundreds of codes:
    # anything else can be typed (code or name) beside the list.
    in_use: dict[int, set[str]] = defaultdict(set)
    for field_id, code in (
        FieldValue.objects.filter(field_id__in=field_ids, is_current=True)
        .exclude(label="")
        .values_list("field_id", "label")
        .distinct()
    ):
        in_use[field_id].add(code)
    vocabularies = {
        field_id: [
            LabelChoice(code, name)
            for code, name in sorted(codes.items())
            if code in in_use[field_id]
        ]
        for field_id, codes in names.items()
    }
    items = []
    for p in predictions:
        field_names = names.get(p.field_id, {})
        current = next((v for v in p.record.current_values if v.field_id == p.field_id), None)
        items.append(
            QueueItem(
                prediction=p,
                label_name=field_names.get(p.label, ""),
                alternatives=[
                    LabelChoice(code, field_names.get(code, ""), float(confidence))
                    for code, confidence in (p.alternatives or [])[:3]
                ],
                current_value=current,
                current_name=field_names.get(current.label, "") if current else "",
                open_flags=[f for f in p.record.open_flags if f.field_id == p.field_id],
                field_labels=vocabularies.get(p.field_id, []),
            )
        )
    return items


def queue_item_get(*, prediction: Prediction) -> QueueItem:
    """One prediction as a queue item (for the item page and the htmx partial)."""
    fetched = _with_queue_joins(Prediction.objects.filter(pk=prediction.pk)).get()
    return queue_items([fetched])[0]


@dataclass(frozen=True)
class FieldCount:
    field: Field
    waiting: int


def queue_counts_by_field() -> list[FieldCount]:
    """How many predictions wait for review, per field (fields with none included)."""
    fields = Field.objects.annotate(
        waiting=Count("predictions", filter=Q(predictions__status=Prediction.Status.QUEUED))
    ).order_by("name")
    return [FieldCount(field=f, waiting=f.waiting) for f in fields]


def record_field_history(*, prediction: Prediction) -> list[FieldValue]:
    """Every value the prediction's record has had for its field, newest first."""
    return list(
        FieldValue.objects.filter(record_id=prediction.record_id, field_id=prediction.field_id)
        .select_related("user", "model_version")
        .order_by("-created_at", "-id")
    )


def record_current_value(*, prediction: Prediction) -> FieldValue | None:
    return (
        FieldValue.objects.filter(
            record_id=prediction.record_id, field_id=prediction.field_id, is_current=True
        )
        .select_related("user")
        .first()
    )


def label_name(*, field: Field, code: str) -> str:
    if not code:
        return ""
    return Label.objects.filter(field=field, code=code).values_list("name", flat=True).first() or ""


# --- flag triage --------------------------------------------------------------------------------


def open_flags(
    *, field: Field | None = None, collection: Collection | None = None
) -> QuerySet[Flag]:
    """Open public flags, newest first."""
    qs = Flag.objects.filter(status=Flag.Status.OPEN).select_related(
        "record__collection", "field", "prediction"
    )
    if field is not None:
        qs = qs.filter(field=field)
    if collection is not None:
        qs = qs.filter(record__collection=collection)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class FlagRow:
    flag: Flag
    flagged_name: str
    proposed_name: str


def flag_rows(flags: Iterable[Flag]) -> list[FlagRow]:
    """Flags with their label names, in one extra query."""
    flags = list(flags)
    names = label_names(field_ids={f.field_id for f in flags})
    return [
        FlagRow(
            flag=f,
            flagged_name=names.get(f.field_id, {}).get(f.flagged_label, ""),
            proposed_name=names.get(f.field_id, {}).get(f.proposed_label, ""),
        )
        for f in flags
    ]


# --- the admin dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOutEstimate:
    """What the active model's held-out evaluation says about a threshold."""

    precision: float | None
    coverage: float
    # (target precision, threshold reaching it, share of items covered) per target.
    suggestions: list[tuple[float, float, float]]

    @property
    def precision_percent(self) -> int | None:
        return percent(self.precision)

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
    thresholds = metrics.get("threshold_at_precision") or {}
    coverages = metrics.get("coverage_at_precision") or {}
    for target, at in sorted(thresholds.items()):
        if at is not None:
            suggestions.append((float(target), float(at), float(coverages.get(target, 0.0))))
    return HeldOutEstimate(precision=precision, coverage=coverage, suggestions=suggestions)


def threshold_preview(
    *, field: Field, threshold: float, metrics: dict[str, Any] | None = None
) -> ThresholdPreview:
    """Count, from Prediction rows, where a threshold would send the field's live predictions.

    Live means waiting or applied by the model, not flagged: what a re-route may move. Items at
    or above the threshold in a sensitive collection or with a sensitive label stay with people.
    ``metrics`` (the active version's) adds the held-out precision expected at that threshold.
    """
    sensitive = Q(record__collection__is_sensitive=True) | Q(
        label__in=Label.objects.filter(field=field, is_sensitive=True).values("code")
    )
    counts = Prediction.objects.filter(
        field=field,
        status__in=[Prediction.Status.QUEUED, Prediction.Status.APPLIED],
        flagged=False,
    ).aggregate(
        would_apply=Count("id", filter=Q(confidence__gte=threshold) & ~sensitive),
        held_by_safety=Count("id", filter=Q(confidence__gte=threshold) & sensitive),
        would_queue=Count("id", filter=Q(confidence__lt=threshold)),
    )
    estimate = held_out_estimate(metrics=metrics, threshold=threshold) if metrics else None
    return ThresholdPreview(threshold=threshold, estimate=estimate, **counts)


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


def dashboard_fields(
    *, field: Field | None = None, preview_thresholds: dict[int, float] | None = None
) -> list[FieldDashboard]:
    """Per field (or just ``field``): policy, change log, threshold preview, counts, models.

    Queries grow with the number of fields (a handful), not with predictions or versions.
    """
    preview_thresholds = preview_thresholds or {}
    # Every predicted field gets a policy when it is set up; one without is not ready to manage.
    fields_qs = Field.objects.filter(policy__isnull=False).select_related("policy")
    if field is not None:
        fields_qs = fields_qs.filter(pk=field.pk)
    fields = list(fields_qs.order_by("name"))
    by_status: dict[int, dict[str, int]] = defaultdict(dict)
    status_rows = Prediction.objects.filter(field__in=[f.id for f in fields])
    for row in status_rows.values("field_id", "status").annotate(n=Count("id")).order_by():
        by_status[row["field_id"]][row["status"]] = row["n"]
    sections = []
    for f in fields:
        policy = f.policy
        versions = list(
            ModelVersion.objects.filter(field=f).order_by("-version")[:DASHBOARD_VERSIONS]
        )
        active = next((v for v in versions if v.status == ModelVersion.Status.ACTIVE), None)
        sections.append(
            FieldDashboard(
                field=f,
                policy=policy,
                changes=policy_changes(policy=policy),
                preview=threshold_preview(
                    field=f,
                    threshold=preview_thresholds.get(f.id, policy.threshold),
                    metrics=active.metrics if active is not None else None,
                ),
                status_counts=[
                    (value, label, by_status[f.id].get(value, 0))
                    for value, label in Prediction.Status.choices
                ],
                versions=versions,
                active_version=active,
                runs=list(training_runs(field=f)[:DASHBOARD_RUNS]),
            )
        )
    return sections


def policy_changes(*, policy: DecisionPolicy) -> list[PolicyChange]:
    return list(
        PolicyChange.objects.filter(policy=policy)
        .select_related("changed_by")
        .order_by("-changed_at", "-id")[:DASHBOARD_CHANGES]
    )


def training_runs(*, field: Field) -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.filter(field=field)
        .select_related("model_version", "started_by", "field")
        .order_by("-created_at", "-id")
    )


def training_run_get(*, pk: int) -> TrainingRun:
    return TrainingRun.objects.select_related("model_version", "started_by", "field").get(pk=pk)
