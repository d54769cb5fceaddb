"""Defining a new predicted field and its model's settings (its rules baseline is edited in
``review.views.rules``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import Field, ModelVersion
from catalogue.services import fields as fields_service
from glamml.ml.textclf import ParamError
from review.access import get_field_for_admin, require_admin
from review.forms import FieldDefinitionForm
from review.params_form import ModelParamsForm

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


PARAMS_SAVED = (
    "Saved the model settings of {name}: {what}. They apply from its next training run; "
    "the active version keeps the settings it was trained with."
)
PARAMS_UNCHANGED = "The model settings of {name} are as they were: nothing was saved."


def _described_params(params: dict[str, object]) -> str:
    described = ", ".join(f"{k} {v}" for k, v in sorted(params.items()))
    return described or "every setting at its default"


@login_required
def field_model_params(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """A label field's classifier settings (admins); they apply from the next training run."""
    field = get_field_for_admin(request, key)
    context: dict[str, object] = {"field": field}
    if field.kind != Field.Kind.LABEL:
        context["not_settable"] = fields_service.NO_MODEL_PARAMS.format(key=field.key)
        status = 400 if request.method == "POST" else 200
        return render(request, "review/field_model_params.html", context, status=status)
    current = fields_service.field_model_params(field)
    form = ModelParamsForm.for_params(current, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = fields_service.field_set_model_params(
                field=field, params=form.cleaned_data["params"], changed_by=request.user
            )
        except ParamError as exc:
            form.add_error(exc.param if exc.param in form.fields else None, str(exc))
        else:
            if changed:
                text = PARAMS_SAVED.format(
                    name=field.name, what=_described_params(field.model_params)
                )
                messages.success(request, text)
            else:
                messages.info(request, PARAMS_UNCHANGED.format(name=field.name))
            return redirect(f"{reverse('review:dashboard')}#field-{field.key}")
    active = _active_version(field)
    trained = ModelParamsForm.written(active.params) if active else None
    context.update(form=form, active=active, rows=form.rows(trained=trained))
    status = 422 if form.errors else 200
    return render(request, "review/field_model_params.html", context, status=status)


def _active_version(field: Field) -> ModelVersion | None:
    """The active version, with the settings it was trained with (``params``)."""
    return (
        field.model_versions.filter(status=ModelVersion.Status.ACTIVE)
        .only("code", "version", "params")
        .first()
    )
