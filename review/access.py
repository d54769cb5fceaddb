"""The only way review views get the objects they act on.

Anonymous visitors never get this far (``login_required`` sends them to log in). A logged-in
user without the role gets 403 before anything is looked up, so a 404 never tells them what
exists; for those with the role, an unknown code is a 404.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from catalogue.models import Alert, Field, FieldJob, ModelVersion, Prediction, TrainingRun
from catalogue.roles import is_admin, is_cataloguer

NOT_A_CATALOGUER = "Only cataloguers may work the review queue."
NOT_AN_ADMIN = "Only admins may change policies and train models."


def require_cataloguer(request: HttpRequest) -> None:
    if not is_cataloguer(request.user):
        raise PermissionDenied(NOT_A_CATALOGUER)


def require_admin(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise PermissionDenied(NOT_AN_ADMIN)


def get_prediction_for_reviewer(request: HttpRequest, code: UUID | str) -> Prediction:
    require_cataloguer(request)
    try:
        return Prediction.objects.select_related(
            "record__collection", "field__policy", "model_version"
        ).get(code=code)
    except (Prediction.DoesNotExist, ValueError):
        raise Http404("No such suggestion.") from None


def get_field_for_admin(request: HttpRequest, key: str) -> Field:
    """A field with its decision policy; a field without a policy cannot be managed here."""
    require_admin(request)
    try:
        return Field.objects.select_related("policy").get(key=key, policy__isnull=False)
    except Field.DoesNotExist:
        raise Http404("No such field.") from None


def get_training_run_for_admin(request: HttpRequest, code: UUID | str) -> TrainingRun:
    require_admin(request)
    try:
        runs = TrainingRun.objects.select_related("field__policy", "model_version", "started_by")
        return runs.get(code=code)
    except (TrainingRun.DoesNotExist, ValueError):
        raise Http404("No such training run.") from None


def get_field_job_for_admin(request: HttpRequest, code: UUID | str) -> FieldJob:
    require_admin(request)
    try:
        return FieldJob.objects.select_related("field__policy", "started_by").get(code=code)
    except (FieldJob.DoesNotExist, ValueError):
        raise Http404("No such job.") from None


def get_model_version_for_admin(request: HttpRequest, code: UUID | str) -> ModelVersion:
    """A model version with its field and the people who made and promoted it (admins only)."""
    require_admin(request)
    try:
        return ModelVersion.objects.select_related(
            "field__policy", "created_by", "promoted_by"
        ).get(code=code)
    except (ModelVersion.DoesNotExist, ValueError):
        raise Http404("No such model version.") from None


def get_alert_for_admin(request: HttpRequest, code: UUID | str) -> Alert:
    """A monitoring alert with its field, collection and the people and run it names."""
    require_admin(request)
    try:
        return Alert.objects.select_related(
            "field__policy", "collection", "acknowledged_by", "training_run"
        ).get(code=code)
    except (Alert.DoesNotExist, ValueError):
        raise Http404("No such alert.") from None
