"""Monitoring screens (admins only): fields watched, a field's live figures, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue import dispatch
from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import Alert, Collection, Field
from catalogue.services.monitoring.alerts import (
    AlertAlreadyAcknowledged,
    alert_acknowledge,
    alert_retrain,
)
from catalogue.services.monitoring.policy import (
    MonitoringPolicyError,
    monitoring_policy_get,
    monitoring_policy_update,
)
from catalogue.services.monitoring.report import monitoring_report
from review.access import get_alert_for_admin, get_field_for_admin, require_admin
from review.forms import MonitoringPolicyForm
from review.selectors.monitoring import (
    alert_flags,
    alert_predictions,
    alert_spot_checks,
    watched_fields,
)
from review.selectors.queue import label_names
from review.views.common import safe_next_url, wants_partial

FIELD_PAGE = "review/monitoring_field.html"
SETTINGS_PARTIAL = "review/monitoring_field.html#settings"
ALERT_PARTIAL = "review/_alert.html"
RECORDS_PAGE_SIZE = 50

SAVED = "Monitoring settings saved: {said}."
NOTHING_CHANGED = "Nothing changed: the settings already said that."
UNKNOWN_COLLECTION = "No collection {slug!r} has monitoring figures for this field: showing all."
ACKNOWLEDGED = "Alert acknowledged; it stays in the list of acknowledged alerts."
RETRAINING = "Training run started because of this alert: {status}."


@login_required
def monitoring(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_admin(request)
    return render(request, "review/monitoring.html", {"fields": watched_fields()})


def _collection(request: AuthenticatedHttpRequest, field: Field) -> Collection | None:
    slug = request.GET.get("collection") or ""
    if not slug:
        return None
    collection = Collection.objects.filter(slug=slug).first()
    if collection is None:
        messages.warning(request, UNKNOWN_COLLECTION.format(slug=slug))
    return collection


def _field_page(
    request: AuthenticatedHttpRequest,
    field: Field,
    *,
    form: MonitoringPolicyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    report = monitoring_report(field=field, collection=_collection(request, field))
    form = form or MonitoringPolicyForm.for_policy(report.policy, auto_id="monitoring-%s")
    context = {"report": report, "field": field, "form": form, "next_url": request.get_full_path()}
    return render(request, FIELD_PAGE, context, status=status)


@login_required
def monitoring_field(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    field = get_field_for_admin(request, key)
    return _field_page(request, field)


@login_required
@require_POST
def monitoring_settings(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    field = get_field_for_admin(request, key)
    form = MonitoringPolicyForm(request.POST, auto_id="monitoring-%s")
    if form.is_valid():
        try:
            changes = monitoring_policy_update(
                field=field, changed_by=request.user, **form.changes()
            )
        except MonitoringPolicyError as exc:
            form.add_error(None, str(exc))
        else:
            said = "; ".join(
                f"{c.attribute.split('.', 1)[1]} {c.old_value} → {c.new_value}" for c in changes
            )
            message = SAVED.format(said=said) if changes else NOTHING_CHANGED
            if request.htmx:
                fresh = MonitoringPolicyForm.for_policy(
                    monitoring_policy_get(field=field), auto_id="monitoring-%s"
                )
                context = {"field": field, "form": fresh, "saved": message}
                return render(request, SETTINGS_PARTIAL, context)
            messages.success(request, message)
            return redirect(reverse("review:monitoring_field", args=[field.key]) + "#settings")
    if request.htmx:
        return render(request, SETTINGS_PARTIAL, {"field": field, "form": form}, status=422)
    return _field_page(request, field, form=form, status=422)


@login_required
def monitoring_alert(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    alert = get_alert_for_admin(request, code)
    rows: Sequence[Any] | QuerySet[Any]
    if alert.kind == Alert.Kind.PRECISION:
        rows = alert_spot_checks(alert=alert)
    elif alert.kind == Alert.Kind.FLAGS:
        rows = alert_flags(alert=alert)
    else:
        rows = alert_predictions(alert=alert)
    page = Paginator(rows, RECORDS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "alert": alert,
        "page": page,
        "next_url": request.get_full_path(),
        # Labels by name, with the code once ("Finnish (fin)").
        "names": label_names(field_ids=[alert.field_id]).get(alert.field_id, {}),
    }
    if wants_partial(request):
        return render(request, ALERT_PARTIAL, context)
    return render(request, "review/monitoring_alert.html", context)


@login_required
@require_POST
def monitoring_alert_acknowledge(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    alert = get_alert_for_admin(request, code)
    default = reverse("review:monitoring_field", args=[alert.field.key])
    next_url = safe_next_url(request, request.POST.get("next"), default=default)
    status, level, message = 200, messages.SUCCESS, ACKNOWLEDGED
    try:
        alert_acknowledge(alert=alert, user=request.user)
    except AlertAlreadyAcknowledged as exc:
        status, level, message = 409, messages.WARNING, str(exc)
    if request.htmx:
        context = {"alert": alert, "message": message, "next_url": next_url}
        return render(request, ALERT_PARTIAL, context, status=status)
    messages.add_message(request, level, message)
    return redirect(next_url)


@login_required
@require_POST
def monitoring_alert_retrain(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    alert = get_alert_for_admin(request, code)
    with dispatch.watch(background=True) as follow_ups:
        run = alert_retrain(alert=alert, started_by=request.user)
    run.refresh_from_db()
    message = RETRAINING.format(status=run.get_status_display().lower())
    if follow_ups.deferred:
        messages.warning(request, f"{message} {dispatch.DEFERRED}")
    else:
        messages.success(request, message)
    return redirect("review:training_run", code=run.code)
