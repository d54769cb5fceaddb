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


QUEUE_ORDERS = {
    "uncertainty": ("confidence", "id"),
    "margin": ("margin", "confidence", "id"),
    "random": ("audit_rank", "id"),
}


def queue_predictions(
    *,
    field: Field | None = None,
    collection: Collection | None = None,
    order: str = "uncertainty",
) -> QuerySet[Prediction]:
    """Waiting predictions, flagged first, then the least confident first, with the joins the
    queue template needs (slice it, then wrap the slice with ``queue_items``)."""
    qs = _with_queue_joins(Prediction.objects.filter(status=Prediction.Status.QUEUED))
    if field is not None:
        qs = qs.filter(field=field)
    if collection is not None:
        qs = qs.filter(record__collection=collection)
    # Flags from the public come first whatever the order: someone is waiting for an answer.
    return qs.order_by("-flagged", *QUEUE_ORDERS.get(order, QUEUE_ORDERS["uncertainty"]))


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


# --- model versions, baselines and the experiment log -------------------------------------------

BASELINES = (
    ("stratified", "Proportional guessing", "labels drawn at random in their training shares"),
    ("majority", "Majority label", "always the commonest label"),
    ("rules", "Rules", "the field's regular expressions, editable by an admin"),
)
CONFUSION_MAX_LABELS = 20


def metric_value(metrics: Any, metric: str) -> float | None:
    """``metrics[metric]`` as a float, or None when it is missing (old or partial metrics)."""
    if not isinstance(metrics, dict):
        return None
    value = metrics.get(metric)
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class Score:
    """One row of a comparison table: the model, a baseline, or the active version."""

    key: str
    name: str
    description: str
    metrics: dict[str, Any]

    @property
    def accuracy(self) -> float | None:
        return metric_value(self.metrics, "accuracy")

    @property
    def macro_f1(self) -> float | None:
        return metric_value(self.metrics, "macro_f1")

    @property
    def ece(self) -> float | None:
        return metric_value(self.metrics, "ece")


@dataclass(frozen=True)
class LabelScore:
    code: str
    name: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int


@dataclass(frozen=True)
class Confusion:
    labels: list[str]
    rows: list[tuple[str, list[int], int]]  # (true label, counts per predicted label, row total)
    hidden: int  # labels left out to keep the table readable

    @property
    def max_count(self) -> int:
        return max((max(counts, default=0) for _, counts, _ in self.rows), default=0)


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float | None
    upper: float | None
    confidence: float
    accuracy: float
    count: int


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    precision: float
    coverage: float


@dataclass
class VersionPage:
    version: ModelVersion
    scores: list[Score]
    active_on_same_split: Score | None
    active_version: ModelVersion | None
    label_scores: list[LabelScore]
    confusion: Confusion | None
    reliability: list[ReliabilityBin]
    precision_coverage: list[CurvePoint]
    run: TrainingRun | None

    @property
    def field(self) -> Field:
        return self.version.field

    @property
    def metric(self) -> str:
        return self.version.field.metric


def version_scores(*, version: ModelVersion) -> list[Score]:
    """The model, then the three baselines measured on the same held-out records."""
    baselines = version.baselines if isinstance(version.baselines, dict) else {}
    scores = [Score("model", f"This model (v{version.version})", "", version.metrics or {})]
    for key, name, description in BASELINES:
        scores.append(Score(key, name, description, baselines.get(key) or {}))
    return scores


def version_label_scores(*, version: ModelVersion, names: dict[str, str]) -> list[LabelScore]:
    """Per-label precision, recall and support, the weakest (lowest F1, then rarest) first."""
    per_label = (version.metrics or {}).get("per_label") or {}
    rows = [
        LabelScore(
            code=code,
            name=names.get(code, ""),
            precision=metric_value(values, "precision"),
            recall=metric_value(values, "recall"),
            f1=metric_value(values, "f1"),
            support=int(values.get("support") or 0),
        )
        for code, values in per_label.items()
        if isinstance(values, dict)
    ]
    return sorted(rows, key=lambda r: (r.f1 if r.f1 is not None else -1.0, r.support, r.code))


def confusion_table(metrics: dict[str, Any]) -> Confusion | None:
    """The confusion matrix as rows, from either ``{labels, matrix}`` or ``{true: {pred: n}}``."""
    raw = metrics.get("confusion") if isinstance(metrics, dict) else None
    if not raw or not isinstance(raw, dict):
        return None
    if "labels" in raw and "matrix" in raw:
        labels = [str(label) for label in raw["labels"]]
        counts = {
            (labels[i], labels[j]): int(n)
            for i, row in enumerate(raw["matrix"])
            for j, n in enumerate(row)
            if i < len(labels) and j < len(labels)
        }
    else:
        counts = {
            (str(true), str(pred)): int(n)
            for true, row in raw.items()
            if isinstance(row, dict)
            for pred, n in row.items()
        }
        labels = sorted({t for t, _ in counts} | {p for _, p in counts})
    if not labels:
        return None
    support: dict[str, int] = defaultdict(int)
    for (true, pred), n in counts.items():
        support[true] += n
        support[pred] += n
    shown = sorted(labels, key=lambda label: (-support[label], label))[:CONFUSION_MAX_LABELS]
    shown = [label for label in labels if label in set(shown)]
    rows = []
    for true in shown:
        row = [counts.get((true, pred), 0) for pred in shown]
        total = sum(n for (t, _), n in counts.items() if t == true)
        rows.append((true, row, total))
    return Confusion(labels=shown, rows=rows, hidden=len(labels) - len(shown))


def _number(values: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = values.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def reliability_bins(metrics: dict[str, Any]) -> list[ReliabilityBin]:
    """The reliability curve's bins that have a mean confidence and an accuracy."""
    bins = []
    for raw in (metrics or {}).get("reliability") or []:
        if not isinstance(raw, dict):
            continue
        confidence = _number(raw, "confidence", "mean_confidence")
        accuracy = _number(raw, "accuracy")
        if confidence is None or accuracy is None:
            continue
        bins.append(
            ReliabilityBin(
                lower=_number(raw, "lower"),
                upper=_number(raw, "upper"),
                confidence=confidence,
                accuracy=accuracy,
                count=int(_number(raw, "count", "n") or 0),
            )
        )
    return bins


def precision_coverage_points(metrics: dict[str, Any]) -> list[CurvePoint]:
    points = []
    for raw in (metrics or {}).get("precision_coverage") or []:
        if not isinstance(raw, dict):
            continue
        values = [_number(raw, key) for key in ("threshold", "precision", "coverage")]
        if None not in values:
            points.append(CurvePoint(*values))  # type: ignore[arg-type]
    return points


def version_page(*, version: ModelVersion) -> VersionPage:
    """Everything the model version page shows, in three queries after the version itself."""
    active = (
        version
        if version.status == ModelVersion.Status.ACTIVE
        else ModelVersion.objects.filter(
            field_id=version.field_id, status=ModelVersion.Status.ACTIVE
        ).first()
    )
    same_split = (version.metrics or {}).get("active_on_same_split")
    run = TrainingRun.objects.filter(model_version=version).select_related("started_by").first()
    return VersionPage(
        version=version,
        scores=version_scores(version=version),
        active_on_same_split=(
            Score("active", "The version that was active then", "", same_split)
            if isinstance(same_split, dict) and same_split
            else None
        ),
        active_version=active,
        label_scores=version_label_scores(
            version=version, names=label_names(field_ids=[version.field_id])[version.field_id]
        ),
        confusion=confusion_table(version.metrics or {}),
        reliability=reliability_bins(version.metrics or {}),
        precision_coverage=precision_coverage_points(version.metrics or {}),
        run=run,
    )


@dataclass
class ExperimentRow:
    """A training run with what it produced, for the experiment log."""

    run: TrainingRun

    @property
    def version(self) -> ModelVersion | None:
        return self.run.model_version

    @property
    def metric(self) -> str:
        return self.run.field.metric

    @property
    def duration_seconds(self) -> float | None:
        if self.run.started_at and self.run.finished_at:
            return (self.run.finished_at - self.run.started_at).total_seconds()
        return None

    @property
    def params(self) -> dict[str, Any]:
        if self.version is not None and self.version.params:
            return self.version.params
        return self.run.params or {}

    @property
    def fingerprint(self) -> str:
        return self.run.fingerprint or (self.version.training_fingerprint if self.version else "")

    @property
    def score(self) -> float | None:
        return metric_value(self.version.metrics, self.metric) if self.version else None

    @property
    def baseline_scores(self) -> list[tuple[str, str, float | None]]:
        baselines = (self.version.baselines or {}) if self.version else {}
        return [
            (key, name, metric_value(baselines.get(key), self.metric)) for key, name, _ in BASELINES
        ]

    @property
    def went_live(self) -> bool:
        return self.version is not None and self.version.promoted_at is not None

    def as_json(self) -> dict[str, Any]:
        run, version = self.run, self.version
        return {
            "run": str(run.code),
            "field": run.field.key,
            "metric": self.metric,
            "status": run.status,
            "trigger": run.trigger,
            "started_by": run.started_by.get_username() if run.started_by else None,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration_seconds": self.duration_seconds,
            "message": run.message,
            "params": self.params,
            "fingerprint": self.fingerprint,
            "n_train": version.n_train if version else None,
            "n_test": version.n_test if version else None,
            "metrics": version.metrics if version else None,
            "baselines": version.baselines if version else None,
            "model_version": (
                {
                    "code": str(version.code),
                    "version": version.version,
                    "status": version.status,
                    "went_live": self.went_live,
                    "promoted_at": version.promoted_at.isoformat() if version.promoted_at else None,
                    "promoted_by": (
                        version.promoted_by.get_username() if version.promoted_by else None
                    ),
                    "checksum": version.checksum,
                    "format_version": version.format_version,
                    "size_bytes": version.size_bytes,
                }
                if version
                else None
            ),
        }


def experiment_runs(*, field: Field | None = None) -> QuerySet[TrainingRun]:
    """Every training run (of ``field``, or of every field), newest first, with its version."""
    qs = TrainingRun.objects.select_related(
        "field", "started_by", "model_version", "model_version__promoted_by"
    )
    if field is not None:
        qs = qs.filter(field=field)
    return qs.order_by("-created_at", "-id")


def experiment_rows(runs: Iterable[TrainingRun]) -> list[ExperimentRow]:
    return [ExperimentRow(run=run) for run in runs]


@dataclass
class RulesPage:
    field: Field
    labels: list[Label]
    latest: ModelVersion | None
    changes: list[PolicyChange]

    @property
    def scores(self) -> list[Score]:
        return version_scores(version=self.latest) if self.latest is not None else []


def rules_page(*, field: Field) -> RulesPage:
    """The field's labels with their rules, the latest scores of the rules, and their edits."""
    latest = (
        ModelVersion.objects.filter(field=field).exclude(baselines={}).order_by("-version").first()
    )
    changes = list(
        PolicyChange.objects.filter(policy__field=field, attribute__startswith="rules:")
        .select_related("changed_by")
        .order_by("-changed_at", "-id")[:DASHBOARD_CHANGES]
    )
    return RulesPage(
        field=field, labels=list(field.labels.order_by("code")), latest=latest, changes=changes
    )
