"""The shipped base language model as a field's first version: a fresh deployment predicts.

Right after ``migrate`` no model version exists. The language field does not need one trained
from the catalogue to be useful: the shipped language identifier predicts any record. The first
time a language field with no version at all is asked to predict, its version 1 is made from
the shipped model alone (no catalogue records, measured on the sample shipped with it), through
an ordinary training run, so it has an artefact, metrics and a model card like any version.
A field whose versions were all retired is left alone: a person decided that.
"""

from __future__ import annotations

from django.db import transaction

from catalogue.models import Field, ModelVersion, TrainingRun
from catalogue.services.training.runs import BASE_ONLY, training_run_execute

BASE_REASON = (
    "The shipped base language model, so that a new deployment predicts at once: trained on "
    "no catalogue records, measured on the sample shipped with it."
)


def base_model_ensure(*, field: Field) -> bool:
    """Give a language field with no model version the shipped model; True if one is active.

    Concurrent callers (two workers on a fresh deployment) wait on the field's row lock; the
    second finds the version the first made.
    """
    if field.kind != Field.Kind.LANGUAGE:
        return field.model_versions.filter(status=ModelVersion.Status.ACTIVE).exists()
    with transaction.atomic():
        Field.objects.select_for_update().filter(pk=field.pk).first()
        if field.model_versions.exists():
            return field.model_versions.filter(status=ModelVersion.Status.ACTIVE).exists()
        run = TrainingRun.objects.create(
            field=field,
            trigger=TrainingRun.Trigger.BASE,
            params={BASE_ONLY: True},
            reason=BASE_REASON,
        )
        run = training_run_execute(run=run)
    return run.status == TrainingRun.Status.SUCCEEDED
