"""The experiment log: every training run with its parameters, data, metrics and baselines."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from catalogue.http import AuthenticatedHttpRequest
from review.access import require_admin
from review.forms import ExperimentFilterForm
from review.selectors import ExperimentRow, experiment_rows, experiment_runs

UNKNOWN_FIELD = "No field has the key {key!r}: leave it out for every field's runs."


@login_required
def experiments(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The log as a page, or as JSON with ``?format=json``."""
    require_admin(request)
    filters = ExperimentFilterForm(request.GET)
    field = filters.cleaned_data["field"] if filters.is_valid() else None
    if request.GET.get("format") == "json":
        return experiments_json(request)
    rows = experiment_rows(experiment_runs(field=field))
    status = 200 if filters.is_valid() else 422
    return render(
        request,
        "review/experiments.html",
        {"filters": filters, "rows": rows, "field": field},
        status=status,
    )


@login_required
def experiments_json(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The log as JSON (one object per run, full metrics and baselines), to share."""
    require_admin(request)
    filters = ExperimentFilterForm(request.GET)
    if not filters.is_valid():
        # A misspelt field must not look like every field's runs, as the page says too.
        key = request.GET.get("field", "")
        return JsonResponse({"error": UNKNOWN_FIELD.format(key=key)}, status=422)
    field = filters.cleaned_data["field"]
    return _json(
        experiment_rows(experiment_runs(field=field)), field_key=field.key if field else None
    )


def _json(rows: list[ExperimentRow], *, field_key: str | None) -> JsonResponse:
    payload = {
        "exported_at": timezone.now().isoformat(),
        "field": field_key,
        "runs": [row.as_json() for row in rows],
    }
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    name = f"glamml-experiments{'-' + field_key if field_key else ''}.json"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response
