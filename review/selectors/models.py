"""Reads for model versions, their baselines and curves, the experiment log and rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from catalogue.models import (
    Field,
    FieldJob,
    Label,
    ModelVersion,
    PolicyChange,
    TrainingRun,
)
from catalogue.services.jobs import jobs_reap
from catalogue.services.sharing import LICENCES
from glamml.ml.cards.sections import MADE_BY_TRIGGER
from review.selectors.common import DASHBOARD_CHANGES
from review.selectors.queue import label_names

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
    # A re-prediction of the field still running: making another version active waits for it.
    repredicting: bool = False

    @property
    def field(self) -> Field:
        return self.version.field

    @property
    def made_by(self) -> str:
        """Who or what made it, to follow "Created <date>": "by alice", "from the command line"."""
        if self.version.created_by is not None:
            return f"by {self.version.created_by.get_username()}"
        if self.run is not None:
            return MADE_BY_TRIGGER.get(self.run.trigger, "by the system")
        return "by the system"

    @property
    def metric(self) -> str:
        return self.version.field.metric

    @property
    def licences(self) -> list[tuple[str, str]]:
        return list(LICENCES.items())

    @property
    def default_licence(self) -> str:
        # Language models can only be shared alike (review.sharing); labels: public domain.
        return "CC-BY-SA-4.0" if self.field.kind == Field.Kind.LANGUAGE else "CC0-1.0"


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
    """Everything the model version page shows, in four queries after the version itself."""
    active = (
        version
        if version.status == ModelVersion.Status.ACTIVE
        else ModelVersion.objects.filter(
            field_id=version.field_id, status=ModelVersion.Status.ACTIVE
        ).first()
    )
    same_split = (version.metrics or {}).get("active_on_same_split")
    run = TrainingRun.objects.filter(model_version=version).select_related("started_by").first()
    # A re-prediction that stopped without finishing must not keep the promote button off.
    jobs_reap(field_id=version.field_id)
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
        repredicting=FieldJob.objects.filter(
            field_id=version.field_id, kind=FieldJob.Kind.REPREDICT, status__in=FieldJob.ACTIVE
        ).exists(),
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
            return dict(self.version.params)
        return dict(self.run.params or {})

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
