"""A model version: its scores against the baselines, its curves, its card; promote or roll back."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import ModelVersion
from catalogue.services.monitoring.report import monitoring_card_facts
from catalogue.services.training import promotion
from review.access import get_model_version_for_admin
from review.cards import card_document, model_card_markdown
from review.selectors import version_page
from review.views.common import safe_next_url, wants_partial
from review.views.dashboard import render_models_section

PROMOTED = (
    "{field} v{version} is now the active model{retired}. Waiting and model-applied values are "
    "being predicted again; values people decided are not touched."
)
ROLLED_BACK = (
    "Rolled back: {field} v{version} is the active model again{retired}. Waiting and "
    "model-applied values are being predicted again; values people decided are not touched."
)
ALREADY_ACTIVE = "{field} v{version} is already the active model: nothing changed."


@login_required
def model_version_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    version = get_model_version_for_admin(request, code)
    page = version_page(version=version)
    card = card_document(version.card, monitoring_card_facts(version=version))
    return render(request, "review/model_version.html", {"page": page, "card": card})


@login_required
def model_card(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """The version's model card as a Markdown file, to share beside the model."""
    version = get_model_version_for_admin(request, code)
    response = HttpResponse(
        model_card_markdown(version.card, monitoring_card_facts(version=version)),
        content_type="text/markdown; charset=utf-8",
    )
    name = f"{version.field.key}-v{version.version}-model-card.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def model_version_promote(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Make this version the active one: promotion of a candidate, or rollback to a retired one."""
    version = get_model_version_for_admin(request, code)
    field = version.field
    if version.status == ModelVersion.Status.ACTIVE:
        message = ALREADY_ACTIVE.format(field=field.name, version=version.version)
    else:
        was = version.status
        previous = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
        promotion.model_version_promote(version=version, promoted_by=request.user)
        template = ROLLED_BACK if was == ModelVersion.Status.RETIRED else PROMOTED
        message = template.format(
            field=field.name,
            version=version.version,
            retired=f" (v{previous.version} retired)" if previous else "",
        )
    if wants_partial(request):
        return render_models_section(request, field=field, message=message)
    messages.success(request, message)
    default = reverse("review:model_version", args=[version.code])
    return redirect(safe_next_url(request, request.POST.get("next"), default=default))
