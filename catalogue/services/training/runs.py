"""Training runs: queued by a person, a command or the schedule, executed by a training worker.

A run trains a candidate on the training side of the field's frozen split, measures it and the
baselines on the held-out side, measures the active version again on the same records, stores
the candidate with its artefact and card, and promotes it if the gate allows.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalogue import dispatch
from catalogue.machine import ModelUnavailable, artefact_path, model_dir, model_load
from catalogue.models import Field, ModelVersion, PolicyChange, TrainingRun
from catalogue.services.labels import labels_ensure
from catalogue.services.monitoring.references import drift_reference_store
from catalogue.services.training.cards import card_facts
from catalogue.services.training.examples import field_rules, training_examples
from catalogue.services.training.promotion import model_version_promote, promotion_gate
from catalogue.services.training.splits import Sides, split_assign, split_sides
from glamml.ml.cards.sections import METRIC_NAMES
from glamml.ml.examples import Example
from glamml.ml.training import (
    TrainingReport,
    evaluate_model,
    train_and_evaluate,
    training_fingerprint,
)

logger = logging.getLogger(__name__)

NOT_SUPPORTED = "Field {field!r} has an unknown kind {kind!r}."
NO_EXAMPLES = (
    "Field {field!r} has no labelled records yet: import records with values or decide some "
    "in the review queue first."
)
UNCHANGED = (
    "Skipped: the labelled data has not changed since v{version} was trained, so a new version "
    "would be the same model. Decide or import more records first."
)
# What a running run is doing, shown beside its progress bar.
PREPARING = "Preparing the labelled records."
TRAINING = "Training a candidate on {n} labelled records."
MEASURING = "Measuring it and the baselines on {n} held-out records."
# A run's parameter: train on no catalogue record (the shipped base model alone).
BASE_ONLY = "base_only"
# A run's parameter: train even if the data has not changed (after the model's code changed).
EVEN_IF_UNCHANGED = "even_if_unchanged"


def training_run_create(
    *,
    field: Field,
    started_by: User | None = None,
    trigger: str = TrainingRun.Trigger.MANUAL,
    reason: str = "",
    params: dict[str, Any] | None = None,
) -> TrainingRun:
    """Create a queued run and hand it to a training worker once the transaction commits.

    ``reason`` says why it runs when the trigger alone does not (the alert that asked for it).
    """
    run = TrainingRun.objects.create(
        field=field, started_by=started_by, trigger=trigger, reason=reason, params=params or {}
    )
    dispatch.enqueue(dispatch.TRAIN_FIELD, run.id)
    return run


def training_run_execute(*, run: TrainingRun) -> TrainingRun:
    """Train, measure and store a candidate; promote it if the gate allows.

    Runs only a queued run: a second delivery of the same task finds it claimed and does
    nothing. Any failure ends in status ``failed`` with the reason; the active version stays.
    """
    claimed = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now(), progress=5, message=PREPARING
    )
    run.refresh_from_db()
    if not claimed:
        return run
    field = Field.objects.select_related("policy").get(pk=run.field_id)
    try:
        return _execute(run, field)
    except Exception as exc:  # noqa: BLE001 - any failure must end in a visible status
        logger.exception("Training run %s failed", run.pk)
        return _finish(run, TrainingRun.Status.FAILED, str(exc))


def _execute(run: TrainingRun, field: Field) -> TrainingRun:
    if field.kind not in Field.Kind.values:
        raise ValueError(NOT_SUPPORTED.format(field=field.key, kind=field.kind))
    examples = [] if run.params.get(BASE_ONLY) else training_examples(field=field)
    if not examples and field.kind != Field.Kind.LANGUAGE:
        raise ValueError(NO_EXAMPLES.format(field=field.key))
    with transaction.atomic():
        sides = split_sides(examples=examples, sides=split_assign(field=field, examples=examples))
    fingerprint = training_fingerprint(
        [e.text for e in sides.train], [e.label for e in sides.train]
    )
    latest = field.model_versions.order_by("-version").first()
    if (
        latest is not None
        and not run.params.get(EVEN_IF_UNCHANGED)
        and _same_as(latest, field=field, fingerprint=fingerprint)
    ):
        return _finish(run, TrainingRun.Status.SKIPPED, UNCHANGED.format(version=latest.version))
    _progress(run, 20, TRAINING.format(n=len(sides.train)))
    report = _train(field, sides)
    _progress(run, 70, MEASURING.format(n=len(sides.test)))
    active = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
    active_metrics = _evaluate_version(active, sides.test) if active else None
    with transaction.atomic():
        version = _store_version(
            run=run, field=field, report=report, sides=sides, active_metrics=active_metrics
        )
        drift_reference_store(version=version, sides=sides, model=report.model)
        gate = promotion_gate(version=version, active_metrics=active_metrics)
        if gate.promote:
            model_version_promote(version=version, promoted_by=None)
        metric = field.metric
        message = (
            f"Trained v{version.version} on {len(sides.train)} labelled records; held-out "
            f"{METRIC_NAMES.get(metric, metric)} {report.metrics.get(metric, 0):.3f} "
            f"on {len(sides.test)} records. "
            f"{gate.reason}"
        )
        return _finish(
            run,
            TrainingRun.Status.SUCCEEDED,
            message,
            model_version=version,
            fingerprint=fingerprint,
        )


def _same_as(latest: ModelVersion, *, field: Field, fingerprint: str) -> bool:
    """Whether a run now would remake ``latest``: the same labelled data, no rule changed since,
    and its artefact still loads (whoever asks, an identical version helps nobody)."""
    if latest.training_fingerprint != fingerprint:
        return False
    try:
        model_load(version=latest)
    except ModelUnavailable:
        return False  # its artefact is broken or gone: a new one is worth making
    return not PolicyChange.objects.filter(
        policy__field=field, attribute__startswith="rules:", changed_at__gte=latest.created_at
    ).exists()


def _train(field: Field, sides: Sides) -> TrainingReport:
    train, test = sides.train, sides.test
    # A language field with no held-out records yet is measured on a stand-in (see
    # train_and_evaluate), with no baselines.
    return train_and_evaluate(
        kind=field.kind,
        train_texts=[e.text for e in train],
        train_labels=[e.label for e in train],
        test_texts=[e.text for e in test],
        test_labels=[e.label for e in test],
        rules=field_rules(field=field),
        params=field.model_params if field.kind == Field.Kind.LABEL else None,
    )


def _evaluate_version(version: ModelVersion, test: list[Example[int]]) -> dict[str, Any] | None:
    """The active version measured again on today's held-out records (None if unusable)."""
    if not test:
        return None
    try:
        model = model_load(version=version)
    except ModelUnavailable:
        return None
    return evaluate_model(model, [e.text for e in test], [e.label for e in test])


def _store_version(
    *,
    run: TrainingRun,
    field: Field,
    report: TrainingReport,
    sides: Sides,
    active_metrics: dict[str, Any] | None,
) -> ModelVersion:
    """Write the artefact and the candidate version row (inside the caller's transaction)."""
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
        format_version=report.model.FORMAT_VERSION,
        params={**report.model.params(), "trigger": run.trigger},
        training_fingerprint=report.fingerprint,
        n_train=len(sides.train),
        n_test=len(sides.test),
        size_bytes=path.stat().st_size,
        metrics={**report.metrics, "active_on_same_split": active_metrics},
        baselines=report.baselines,
        card=card_facts(field=field, number=number, run=run, report=report, examples=sides.train),
        created_by=run.started_by,
    )
    labels_ensure(field=field, codes=_labels_seen(report, sides.train))
    return version


def _labels_seen(report: TrainingReport, train: list[Example[int]]) -> set[str]:
    """Label codes worth naming in the vocabulary: trained on, not every code the model knows."""
    return {e.label for e in train} | set(report.metrics.get("per_label", {}))


def _progress(run: TrainingRun, percent: int, stage: str) -> None:
    TrainingRun.objects.filter(pk=run.pk).update(progress=percent, message=stage)


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
