"""Defining a new predicted field, and editing the rules baseline of a field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalogue.http import AuthenticatedHttpRequest
from catalogue.services import fields as fields_service
from catalogue.services import policy as policy_service
from review.access import get_field_for_admin, require_admin
from review.forms import FieldDefinitionForm, RulesForm
from review.selectors import rules_page
from review.views.common import wants_partial

RULES_FORM = "review/field_rules.html#rules-form"
RULES_SAVED = "Saved the rules for {labels}. Their scores change with the next training run."
RULES_UNCHANGED = "Nothing changed: the rules already said that."
FIELD_CREATED = (
    "Defined {name} (“{key}”) with {n} labels, in review mode: nothing is applied until you "
    "change its policy. Next: import records that have a {key} column with "
    "manage.py import_records FILE.csv --collection SLUG --map {key}=COLUMN "
    "(and title=, description= for the text), then train a first version below."
)


@login_required
def field_rules(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """One textarea of regular expressions per label: the rules baseline every model must beat."""
    field = get_field_for_admin(request, key)
    page = rules_page(field=field)
    form = RulesForm(request.POST or None, labels=page.labels)
    message, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            changes = policy_service.label_rules_update(
                field=field, rules=form.rules(), changed_by=request.user
            )
        except policy_service.PolicyError as exc:
            form.add_error(None, str(exc))
        else:
            message = (
                RULES_SAVED.format(
                    labels=", ".join(c.attribute.removeprefix("rules:") for c in changes)
                )
                if changes
                else RULES_UNCHANGED
            )
            if not wants_partial(request):
                messages.success(request, message)
                return redirect(reverse("review:field_rules", args=[field.key]))
            page = rules_page(field=field)
            form = RulesForm(labels=page.labels)
    if form.errors:
        status = 422
    context = {"page": page, "form": form, "message": message}
    template = RULES_FORM if wants_partial(request) else "review/field_rules.html"
    return render(request, template, context, status=status)


@login_required
def field_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Define a single-label text field; it starts in review mode with no model."""
    require_admin(request)
    form = FieldDefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            field = fields_service.field_create(
                key=data["key"],
                name=data["name"],
                labels=data["labels"],
                text_source=data["sources"],
                metric=data["metric"],
                description=data["description"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                FIELD_CREATED.format(name=field.name, key=field.key, n=field.labels.count()),
            )
            return redirect(f"{reverse('review:dashboard')}#field-{field.key}")
    status = 422 if form.errors else 200
    return render(request, "review/field_create.html", {"form": form}, status=status)
