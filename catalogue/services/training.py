"""Training model versions for a field and deciding which one is live.

A run trains a candidate on the training side of the field's frozen split, measures it and the
three baselines on the held-out side, and measures the active version again on the same
held-out records. The candidate goes live only if it beats the rules baseline and is not worse
than the active version on the field's metric (or an admin promotes it).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from catalogue.machine import ModelUnavailable, artefact_path, model_dir, model_load
from catalogue.models import (
    Decision,
    Field,
    FieldValue,
    ModelVersion,
    Record,
    SplitAssignment,
    TrainingRun,
)
from catalogue.selectors import settled_values
from catalogue.services.labels import labels_ensure
from catalogue.services.predictions import record_text
from glamml.ml.languages import is_training_language
from glamml.ml.training import (
    beats_rules,
    evaluate_model,
    is_better,
    train_and_evaluate,
    train_language_model,
    training_fingerprint,
)

logger = logging.getLogger(__name__)

TEST_SHARE = 0.2
NOT_SUPPORTED = "Field {field!r} has an unknown kind {kind!r}."
NO_EXAMPLES = (
    "Field {field!r} has no labelled records yet: import records with values or decide some "
    "in the review queue first."
)
UNCHANGED = "Skipped: the labelled data has not changed since version {version} was trained."
WORKER_LOST = "The training worker stopped before finishing (started {started}); run it again."


@dataclass(frozen=True)
class Example:
    record_id: int
    text: str
    label: str
    source: str


def training_examples(*, field: Field) -> list[Example]:
    """Labelled records from imported values and human decisions, never from model values.

    Rejections carry no positive label (their value is empty): they are negative evidence,
    kept in the decision history, and never become a training label. Neither do the codes a
    catalogue stores that name no single language (``mul``, ``und``, collective codes).
    """
    values = settled_values(field=field).select_related("record").order_by("record_id")
    examples = []
    for value in values.iterator(chunk_size=2000):
        if field.kind == Field.Kind.LANGUAGE and not is_training_language(value.label):
            continue
        text = record_text(record=value.record, field=field)
        if text.strip():
            examples.append(Example(value.record_id, text, value.label, value.source))
    return examples


def _unit_hash(field: Field, record_id: int) -> float:
    digest = hashlib.blake2b(f"{field.key}:{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_assign(*, field: Field, examples: list[Example]) -> dict[int, str]:
    """The frozen split side of every example, assigning sides to records seen the first time.

    The first time a field is trained, the held-out side is a stratified share of everything
    labelled. After that only new human decisions can join the held-out side, so every version
    is compared on the same records and the held-out set grows only with people's answers.
    """
    sides = dict(SplitAssignment.objects.filter(field=field).values_list("record_id", "side"))
    new = [e for e in examples if e.record_id not in sides]
    if not new:
        return sides
    first_time = not sides
    by_label: dict[str, list[Example]] = {}
    for e in new:
        by_label.setdefault(e.label, []).append(e)
    assigned: dict[int, str] = {}
    for items in by_label.values():
        ranked = sorted(items, key=lambda e: _unit_hash(field, e.record_id))
        if first_time:
            n_test = int(len(ranked) * TEST_SHARE) if len(ranked) >= 2 else 0
            for i, e in enumerate(ranked):
                assigned[e.record_id] = "test" if i < n_test else "train"
        else:
            for e in ranked:
                human = e.source == FieldValue.Source.HUMAN
                test = human and _unit_hash(field, e.record_id) < TEST_SHARE
                assigned[e.record_id] = "test" if test else "train"
    SplitAssignment.objects.bulk_create(
        [SplitAssignment(field=field, record_id=rid, side=side) for rid, side in assigned.items()],
        ignore_conflicts=True,
    )
    sides.update(assigned)
    return sides


def field_rules(*, field: Field) -> dict[str, list[str]]:
    """The rules baseline: per-label regular expressions, in label order."""
    return {
        label.code: [line.strip() for line in label.rules.splitlines() if line.strip()]
        for label in field.labels.exclude(rules="").order_by("code")
    }


def training_run_create(
    *,
    field: Field,
    started_by: AbstractBaseUser | None = None,
    trigger: str = TrainingRun.Trigger.MANUAL,
) -> TrainingRun:
    """Create a queued run and hand it to a training worker once the transaction commits."""
    from catalogue.tasks import train_field

    run = TrainingRun.objects.create(field=field, started_by=started_by, trigger=trigger)
    train_field.delay_on_commit(run.id)
    return run


def _progress(run: TrainingRun, percent: int) -> None:
    TrainingRun.objects.filter(pk=run.pk).update(progress=percent)


def _evaluate_version(
    version: ModelVersion, texts: list[str], labels: list[str]
) -> dict[str, Any] | None:
    """The active version measured again on today's held-out records (None if unusable)."""
    if not texts:
        return None
    try:
        model = model_load(version=version)
    except ModelUnavailable:
        return None
    return evaluate_model(model, texts, labels)


def _card(
    *, field: Field, number: int, run: TrainingRun, report: Any, examples: list[Example]
) -> dict[str, Any]:
    record_ids = [e.record_id for e in examples]
    collections = (
        Record.objects.filter(id__in=record_ids)
        .values("collection__name", "collection__licence")
        .distinct()
    )
    dates = settled_values(field=field).aggregate(first=Min("created_at"), last=Max("created_at"))
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.label] = counts.get(e.label, 0) + 1
    return {
        "field": {
            "key": field.key,
            "name": field.name,
            "labels": sorted(field.labels.values_list("code", flat=True)),
        },
        "version": number,
        "created_at": timezone.now().isoformat(),
        "created_by": run.started_by.get_username() if run.started_by else run.trigger,
        "intended_use": (
            f"Suggest the {field.name.lower()} of catalogue records from their "
            f"{', '.join(field.text_source or ['title'])}, for a cataloguer to accept or "
            "correct, or to apply on its own where the field's policy allows."
        ),
        "training_data": {
            "sources": sorted({c["collection__name"] for c in collections}),
            "licences": sorted(
                {c["collection__licence"] for c in collections if c["collection__licence"]}
            ),
            "label_counts": dict(sorted(counts.items())),
            "n_train": report.metrics.get("n_train", 0),
            "n_test": report.metrics.get("n_test", report.metrics.get("n", 0)),
            "date_range": (
                [dates["first"].date().isoformat(), dates["last"].date().isoformat()]
                if dates["first"]
                else None
            ),
            "fingerprint": report.fingerprint,
        },
        "params": report.model.params(),
        "metrics": report.metrics,
        "baselines": report.baselines,
        "routing": {"mode": field.policy.mode, "threshold": field.policy.threshold},
        "metric": field.metric,
    }


def _train(field: Field, examples: list[Example], sides: dict[int, str]) -> Any:
    train = [e for e in examples if sides.get(e.record_id) == "train"]
    test = [e for e in examples if sides.get(e.record_id) == "test"]
    if field.kind == Field.Kind.LANGUAGE and not test:
        # Too few labelled records to hold any out: the base model plus what there is,
        # measured on the small held-out sample shipped with it.
        result = train_language_model([e.text for e in train], [e.label for e in train])
        result.baselines = {}
        return result
    return train_and_evaluate(
        kind=field.kind,
        train_texts=[e.text for e in train],
        train_labels=[e.label for e in train],
        test_texts=[e.text for e in test],
        test_labels=[e.label for e in test],
        rules=field_rules(field=field),
    )


def training_run_execute(*, run: TrainingRun) -> TrainingRun:
    """Train, measure and store a candidate; promote it if the gate allows.

    Runs only a queued run: a second delivery of the same task finds it claimed and does
    nothing. Any failure ends in status ``failed`` with the reason; the active version stays.
    """
    claimed = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now(), progress=5
    )
    run.refresh_from_db()
    if not claimed:
        return run
    field = Field.objects.select_related("policy").get(pk=run.field_id)
    try:
        if field.kind not in Field.Kind.values:
            raise ValueError(NOT_SUPPORTED.format(field=field.key, kind=field.kind))
        examples = training_examples(field=field)
        if not examples and field.kind != Field.Kind.LANGUAGE:
            raise ValueError(NO_EXAMPLES.format(field=field.key))
        with transaction.atomic():
            sides = split_assign(field=field, examples=examples)
        train = [e for e in examples if sides.get(e.record_id) == "train"]
        fingerprint = training_fingerprint([e.text for e in train], [e.label for e in train])
        latest = field.model_versions.order_by("-version").first()
        if (
            run.trigger == TrainingRun.Trigger.SCHEDULE
            and latest is not None
            and latest.training_fingerprint == fingerprint
        ):
            return _finish(
                run, TrainingRun.Status.SKIPPED, UNCHANGED.format(version=latest.version)
            )
        _progress(run, 20)
        report = _train(field, examples, sides)
        _progress(run, 70)
        test = [e for e in examples if sides.get(e.record_id) == "test"]
        active = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
        active_metrics = (
            _evaluate_version(active, [e.text for e in test], [e.label for e in test])
            if active
            else None
        )
        with transaction.atomic():
            number = (field.model_versions.aggregate(n=Max("version"))["n"] or 0) + 1
            path = artefact_path(field=field, version=number)
            path.parent.mkdir(parents=True, exist_ok=True)
            checksum = report.model.save(path)
            version = ModelVersion.objects.create(
                field=field,
                version=number,
                status=ModelVersion.Status.CANDIDATE,
                artefact=str(path.relative_to(model_dir())),
                checksum=checksum,
                format_version=_format_version(report.model),
                params={**report.model.params(), "trigger": run.trigger},
                training_fingerprint=report.fingerprint,
                n_train=len(train),
                n_test=len(test),
                size_bytes=path.stat().st_size,
                metrics={**report.metrics, "active_on_same_split": active_metrics},
                baselines=report.baselines,
                card=_card(field=field, number=number, run=run, report=report, examples=train),
                created_by=run.started_by,
            )
            labels_ensure(field=field, codes=_labels_seen(report, train))
            gate = promotion_gate(version=version, active_metrics=active_metrics)
            if gate.promote:
                model_version_promote(version=version, promoted_by=None)
            metric = field.metric
            message = (
                f"Trained v{number} on {len(train)} labelled records; held-out {metric} "
                f"{report.metrics.get(metric, 0):.3f} on {len(test)} records. {gate.reason}"
            )
            return _finish(
                run,
                TrainingRun.Status.SUCCEEDED,
                message,
                model_version=version,
                fingerprint=fingerprint,
            )
    except Exception as exc:  # noqa: BLE001 - any failure must end in a visible status
        logger.exception("Training run %s failed", run.pk)
        return _finish(run, TrainingRun.Status.FAILED, str(exc))


def _labels_seen(report: Any, train: list[Example]) -> set[str]:
    """Label codes worth naming in the vocabulary: trained on, not every code the model knows."""
    return {e.label for e in train} | set(report.metrics.get("per_label", {}))


def _format_version(model: Any) -> int:
    return sys.modules[type(model).__module__].FORMAT_VERSION


def _finish(
    run: TrainingRun,
    status: str,
    message: str,
    *,
    model_version: ModelVersion | None = None,
    fingerprint: str = "",
) -> TrainingRun:
    changes: dict[str, Any] = {
        "status": status,
        "message": message,
        "finished_at": timezone.now(),
        "progress": 100,
    }
    if model_version is not None:
        changes.update(model_version=model_version, fingerprint=fingerprint)
    TrainingRun.objects.filter(pk=run.pk).update(**changes)
    run.refresh_from_db()
    return run


@dataclass(frozen=True)
class Gate:
    promote: bool
    reason: str


def promotion_gate(*, version: ModelVersion, active_metrics: dict[str, Any] | None) -> Gate:
    """Whether a new candidate may go live on its own, and why (or why not)."""
    field = version.field
    metric = field.metric
    if not field.policy.auto_promote:
        return Gate(False, "Kept as a candidate: this field's versions are promoted by an admin.")
    if version.baselines and not beats_rules(version.metrics, version.baselines, metric=metric):
        return Gate(False, f"Kept as a candidate: it does not beat the rules baseline on {metric}.")
    if active_metrics is not None and not is_better(version.metrics, active_metrics, metric=metric):
        return Gate(
            False,
            f"Kept as a candidate: worse than the active version on {metric} "
            f"({version.metrics.get(metric, 0):.3f} < {active_metrics.get(metric, 0):.3f}).",
        )
    return Gate(True, "Promoted: it is now the active version.")


NOT_THIS_FIELD = "Version {version} belongs to another field."


@transaction.atomic
def model_version_promote(
    *, version: ModelVersion, promoted_by: AbstractBaseUser | None
) -> ModelVersion:
    """Make ``version`` the field's active model (promotion or rollback: the same action).

    Waiting and model-applied values are predicted again by the new version in the
    background; values a person decided, or the source catalogue gave, are never touched.
    """
    from catalogue.tasks import repredict_field

    list(ModelVersion.objects.select_for_update().filter(field_id=version.field_id))
    ModelVersion.objects.filter(
        field_id=version.field_id, status=ModelVersion.Status.ACTIVE
    ).exclude(pk=version.pk).update(status=ModelVersion.Status.RETIRED)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.ACTIVE, promoted_at=timezone.now(), promoted_by=promoted_by
    )
    version.refresh_from_db()
    repredict_field.delay_on_commit(version.field_id)
    return version


def decisions_since_last_run(*, field: Field) -> int:
    last = (
        field.training_runs.filter(
            status__in=[TrainingRun.Status.SUCCEEDED, TrainingRun.Status.SKIPPED]
        )
        .order_by("-created_at")
        .first()
    )
    decisions = Decision.objects.filter(prediction__field=field)
    if last is not None:
        decisions = decisions.filter(created_at__gt=last.created_at)
    return decisions.count()


def fields_due_for_retraining() -> list[Field]:
    """Fields with enough new human decisions since their last run and no run in progress."""
    due = []
    for field in Field.objects.select_related("policy"):
        busy = field.training_runs.filter(
            status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]
        ).exists()
        needed = field.policy.retrain_after_decisions
        if not busy and decisions_since_last_run(field=field) >= needed:
            due.append(field)
    return due


def training_runs_reap(*, now: Any = None) -> int:
    """Mark runs whose worker died (running far past the time limit) as failed."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.GLAMML_TRAINING_TIME_LIMIT + 300)
    stale = TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, started_at__lt=now - limit
    )
    n = 0
    for run in stale:
        n += TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).update(
            status=TrainingRun.Status.FAILED,
            message=WORKER_LOST.format(started=run.started_at.isoformat(timespec="minutes")),
            finished_at=now,
        )
    return n
