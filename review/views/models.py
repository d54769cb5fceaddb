"""A model version: its scores against the baselines, its curves, its card; make it active."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue import dispatch
from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import ModelVersion
from catalogue.services.monitoring.report import monitoring_card_facts
from catalogue.services.training import promotion
from review.access import get_model_version_for_admin
from review.cards import card_document, model_card_markdown, version_card_facts
from review.selectors import version_page
from review.views.common import safe_next_url, wants_partial
from review.views.dashboard import render_field_panel

# One word for promotion and rollback alike: a retired version may be older or newer than the
# active one, so "roll back" would be wrong half the time.
MADE_ACTIVE = (
    "{field} v{version} is now the active model{retired}. Waiting and model-applied values are "
    "being predicted again (progress on the dashboard); values people decided are not touched."
)
ALREADY_ACTIVE = "{field} v{version} is already the active model: nothing changed."
CONFIRM = "yes"


@login_required
def model_version_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    version = get_model_version_for_admin(request, code)
    page = version_page(version=version)
    card = card_document(version_card_facts(version), monitoring_card_facts(version=version))
    return render(request, "review/model_version.html", {"page": page, "card": card})


@login_required
def model_card(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """The version's model card as a Markdown file, to share beside the model."""
    version = get_model_version_for_admin(request, code)
    response = HttpResponse(
        model_card_markdown(version_card_facts(version), monitoring_card_facts(version=version)),
        content_type="text/markdown; charset=utf-8",
    )
    name = f"{version.field.key}-v{version.version}-model-card.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def model_version_promote(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Make this version the active one (a candidate, or a retired one back), once confirmed.

    Without ``confirm=yes`` (a form without JavaScript) it asks first, on a page of its own;
    with htmx the browser asked already.
    """
    version = get_model_version_for_admin(request, code)
    field = version.field
    default = reverse("review:model_version", args=[version.code])
    next_url = safe_next_url(request, request.POST.get("next"), default=default)
    active = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
    if version.status != ModelVersion.Status.ACTIVE and request.POST.get("confirm") != CONFIRM:
        context = {"version": version, "active": active, "next": next_url}
        return render(request, "review/model_version_confirm.html", context)
    level = messages.SUCCESS
    if version.status == ModelVersion.Status.ACTIVE:
        message = ALREADY_ACTIVE.format(field=field.name, version=version.version)
    else:
        with dispatch.watch(background=True) as follow_ups:
            promotion.model_version_promote(version=version, promoted_by=request.user)
        message = MADE_ACTIVE.format(
            field=field.name,
            version=version.version,
            retired=f" (v{active.version} retired)" if active else "",
        )
        if follow_ups.deferred:
            level, message = messages.WARNING, f"{message} {dispatch.DEFERRED}"
    if wants_partial(request):
        return render_field_panel(request, field=field, message=message, level=level)
    messages.add_message(request, level, message)
    return redirect(next_url)
