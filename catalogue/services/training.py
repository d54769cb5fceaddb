"""Training a new model version for a field from the values people and catalogues trust."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from catalogue.machine import artefact_path, model_dir
from catalogue.models import Field, ModelVersion, TrainingRun
from catalogue.selectors import settled_values
from catalogue.services.labels import labels_ensure
from catalogue.services.predictions import record_text
from glamml.ml.langid import FORMAT_VERSION
from glamml.ml.training import train_language_model

logger = logging.getLogger(__name__)

NOT_SUPPORTED = "Field {field!r} has no trainer yet: only language fields can be trained."


def training_examples(*, field: Field) -> tuple[list[str], list[str]]:
    """Texts and labels from imported values and human decisions, never from model values.

    Rejections carry no positive label (their value is empty) and so are left out here.
    """
    values = settled_values(field=field).select_related("record").order_by("record_id")
    texts, labels = [], []
    for value in values.iterator(chunk_size=2000):
        text = record_text(record=value.record, field=field)
        if text.strip():
            texts.append(text)
            labels.append(value.label)
    return texts, labels


def training_run_create(*, field: Field, started_by: AbstractBaseUser | None = None) -> TrainingRun:
    """Create a queued run and hand it to a training worker once the transaction commits."""
    from catalogue.tasks import train_field

    run = TrainingRun.objects.create(field=field, started_by=started_by)
    train_field.delay_on_commit(run.id)
    return run


def training_run_execute(*, run: TrainingRun) -> TrainingRun:
    """Train, evaluate, store and activate a model version for the run's field.

    Runs only a queued run (the claim makes a second delivery a no-op). Any failure ends in
    status ``failed`` with the reason, and the previously active version stays active.
    """
    claimed = TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now()
    )
    run.refresh_from_db()
    if not claimed:
        return run
    field = run.field
    try:
        if field.kind != Field.Kind.LANGUAGE:
            raise ValueError(NOT_SUPPORTED.format(field=field.key))
        texts, labels = training_examples(field=field)
        result = train_language_model(texts, labels)
        with transaction.atomic():
            number = (field.model_versions.aggregate(n=Max("version"))["n"] or 0) + 1
            path = artefact_path(field=field, version=number)
            path.parent.mkdir(parents=True, exist_ok=True)
            checksum = result.model.save(path)
            ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE).update(
                status=ModelVersion.Status.RETIRED
            )
            version = ModelVersion.objects.create(
                field=field,
                version=number,
                status=ModelVersion.Status.ACTIVE,
                artefact=str(path.relative_to(model_dir())),
                checksum=checksum,
                format_version=FORMAT_VERSION,
                params=result.model.params(),
                training_fingerprint=result.fingerprint,
                n_train=len(texts),
                metrics=result.metrics,
                created_by=run.started_by,
            )
            labels_ensure(field=field, codes=result.model.classes_)
            run.model_version = version
            run.status = TrainingRun.Status.SUCCEEDED
            run.message = (
                f"Trained v{number} on {len(texts)} labelled records; "
                f"held-out accuracy {result.metrics.get('accuracy', 0):.3f}."
            )
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:  # noqa: BLE001 - any failure must end in a visible status
        logger.exception("Training run %s failed", run.pk)
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingRun.Status.FAILED, message=str(exc), finished_at=timezone.now()
        )
        run.refresh_from_db()
    return run
