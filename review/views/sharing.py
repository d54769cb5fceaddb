"""Downloads to share (admins): a model version with its card and metrics, a field's training
data with its datasheet, each under the licence chosen on the model version page."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from catalogue.http import AuthenticatedHttpRequest
from catalogue.services.sharing import (
    SharingError,
    datasheet_markdown,
    training_bundle,
    training_data,
)
from review.access import get_field_for_admin, get_model_version_for_admin
from review.sharing import model_bundle


def _attachment(content: bytes | str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _refused(exc: SharingError) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")


@login_required
@require_safe
def model_download(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    version = get_model_version_for_admin(request, code)
    try:
        content = model_bundle(version=version, licence=request.GET.get("licence", ""))
    except SharingError as exc:
        return _refused(exc)
    name = f"{version.field.key}-v{version.version}.zip"
    return _attachment(content, "application/zip", name)


@login_required
@require_safe
def training_download(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """The training data and datasheet as a zip, or (``format=datasheet``) the datasheet alone."""
    field = get_field_for_admin(request, key)
    fmt = request.GET.get("format", "csv")
    try:
        data = training_data(field=field, licence=request.GET.get("licence", ""))
        if fmt == "datasheet":
            md = datasheet_markdown(data)
            return _attachment(md, "text/markdown; charset=utf-8", f"{key}-datasheet.md")
        content = training_bundle(data, fmt)
    except SharingError as exc:
        return _refused(exc)
    return _attachment(content, "application/zip", f"{key}-training-data.zip")
