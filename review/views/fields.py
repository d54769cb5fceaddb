"""Defining a new predicted field (its rules baseline is edited in ``review.views.rules``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalogue.http import AuthenticatedHttpRequest
from catalogue.services import fields as fields_service
from review.access import require_admin
from review.forms import FieldDefinitionForm

FIELD_CREATED = (
    "Defined {name} (“{key}”) with {n} labels, in review mode: nothing is applied until you "
    "change its policy. Next: import records that have a {key} column with "
    "manage.py import_records FILE.csv --collection SLUG --map {key}=COLUMN "
    "(and title=, description= for the text), then train a first version below."
)


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
                collections=list(data["collections"]),
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
