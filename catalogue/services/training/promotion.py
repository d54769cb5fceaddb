"""Which version of a field is live: the promotion gate, promotion and rollback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from catalogue.models import FieldJob, ModelVersion
from catalogue.services.jobs import job_start
from glamml.ml.cards.sections import METRIC_NAMES
from glamml.ml.training import beats_rules, is_better


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
    named = METRIC_NAMES.get(metric, metric)
    if version.baselines and not beats_rules(version.metrics, version.baselines, metric=metric):
        return Gate(False, f"Kept as a candidate: it does not beat the rules baseline on {named}.")
    if active_metrics is not None and not is_better(version.metrics, active_metrics, metric=metric):
        return Gate(
            False,
            f"Kept as a candidate: worse than the active version on {named} "
            f"({version.metrics.get(metric, 0):.3f} < {active_metrics.get(metric, 0):.3f}).",
        )
    return Gate(True, "Promoted: it is now the active version.")


@transaction.atomic
def model_version_promote(*, version: ModelVersion, promoted_by: User | None) -> ModelVersion:
    """Make ``version`` the field's active model (promotion or rollback: the same action).

    Waiting and model-applied values are predicted again by the new version in the
    background; values a person decided, or the source catalogue gave, are never touched.
    """
    list(ModelVersion.objects.select_for_update().filter(field_id=version.field_id))
    ModelVersion.objects.filter(
        field_id=version.field_id, status=ModelVersion.Status.ACTIVE
    ).exclude(pk=version.pk).update(status=ModelVersion.Status.RETIRED)
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.ACTIVE, promoted_at=timezone.now(), promoted_by=promoted_by
    )
    version.refresh_from_db()
    job_start(
        field=version.field,
        kind=FieldJob.Kind.REPREDICT,
        started_by=promoted_by,
        reason=f"v{version.version} was made active",
    )
    return version
