"""The admin dashboard: per field, its decision policy (with a preview), its models and runs."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from catalogue import dispatch
from catalogue.http import AuthenticatedHttpRequest
from catalogue.models import Field, PolicyChange, TrainingRun
from catalogue.services import policy as policy_service
from catalogue.services.jobs import jobs_reap
from catalogue.services.training import runs
from review.access import (
    get_field_for_admin,
    get_field_job_for_admin,
    get_training_run_for_admin,
    require_admin,
)
from review.forms import PolicyForm, ThresholdPreviewForm
from review.selectors import FieldDashboard, dashboard_fields, training_run_get
from review.selectors.monitoring import open_alerts
from review.views.common import wants_partial

PANEL = "review/dashboard.html#field-panel"
PREVIEW = "review/dashboard.html#threshold-preview"
RUN_ROW = "review/dashboard.html#training-run-row"
JOB = "review/dashboard.html#field-job"

NOTHING_CHANGED = "Nothing changed: the policy already said that."
REROUTING = (
    "Waiting predictions are being re-routed (progress above); decisions people made are not "
    "touched."
)
RUN_STARTED = "Training a new {field} model: the run below shows its progress until it ends."
RUN_SKIPPED = "Not trained: {message}"
RUN_FAILED = "Training failed: {message}"
RUN_DEFERRED = (
    "Saved: the {field} training run is queued and will start when the task queue is back."
)


@dataclass
class FieldPanel:
    """One field's section of the dashboard, with its forms (bound when they had errors)."""

    section: FieldDashboard
    policy_form: PolicyForm
    preview_form: ThresholdPreviewForm
    message: str = ""
    message_level: str = "success"


def _preview_form(field: Field, data: QueryDict | None = None) -> ThresholdPreviewForm:
    return ThresholdPreviewForm(
        data,
        auto_id=f"{field.key}-preview-%s",
        initial={"threshold": field.policy.threshold},
    )


def _panels(
    *,
    field: Field | None = None,
    policy_forms: dict[int, PolicyForm] | None = None,
    preview_forms: dict[int, ThresholdPreviewForm] | None = None,
    previews: dict[int, float] | None = None,
    message: str = "",
    message_level: str = "success",
) -> list[FieldPanel]:
    policy_forms = policy_forms or {}
    preview_forms = preview_forms or {}
    return [
        FieldPanel(
            section=section,
            policy_form=policy_forms.get(section.field.id)
            or PolicyForm.for_policy(section.policy, prefix=section.field.key),
            preview_form=preview_forms.get(section.field.id) or _preview_form(section.field),
            message=message,
            message_level=message_level,
        )
        for section in dashboard_fields(field=field, preview_thresholds=previews)
    ]


def _anchor(field: Field) -> str:
    return f"{reverse('review:dashboard')}#field-{field.key}"


def _describe(changes: list[PolicyChange], follow_ups: dispatch.FollowUps) -> str:
    if not changes:
        return NOTHING_CHANGED
    said = "; ".join(f"{c.attribute} {c.old_value} → {c.new_value}" for c in changes)
    message = f"Saved: {said}."
    if follow_ups.deferred:
        message += " " + dispatch.DEFERRED
    elif {c.attribute for c in changes} & {"mode", "threshold"}:
        message += " " + REROUTING
    return message


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    require_admin(request)
    context = {"panels": _panels(), "open_alerts": open_alerts()}
    return render(request, "review/dashboard.html", context)


@login_required
@require_POST
def policy_update(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    field = get_field_for_admin(request, key)
    form = PolicyForm(request.POST, prefix=field.key)
    if form.is_valid():
        try:
            with dispatch.watch(background=True) as follow_ups:
                changes = policy_service.policy_update(
                    policy=field.policy,
                    changed_by=request.user,
                    mode=form.cleaned_data["mode"],
                    threshold=form.cleaned_data["threshold"],
                    show_public=form.cleaned_data["show_public"],
                    auto_promote=form.cleaned_data["auto_promote"],
                    retrain_after_decisions=form.cleaned_data["retrain_after_decisions"],
                )
        except policy_service.PolicyError as exc:
            form.add_error(None, str(exc))
        else:
            message = _describe(changes, follow_ups)
            # A saved change whose follow-up waits for the broker is a warning, not an error.
            level = messages.WARNING if follow_ups.deferred else messages.SUCCESS
            if request.htmx:
                return render_field_panel(request, field=field, message=message, level=level)
            messages.add_message(request, level, f"{field.name}: {message}")
            return redirect(_anchor(field))
    if request.htmx:
        panel = _panels(field=field, policy_forms={field.id: form})[0]
        return render(request, PANEL, {"panel": panel}, status=422)
    panels = _panels(policy_forms={field.id: form})
    return render(request, "review/dashboard.html", {"panels": panels}, status=422)


@login_required
def threshold_preview(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """What a threshold would do, before anyone sets it: a partial for htmx, else the page."""
    field = get_field_for_admin(request, key)
    form = _preview_form(field, request.GET)
    threshold = form.cleaned_data["threshold"] if form.is_valid() else field.policy.threshold
    status = 200 if form.is_valid() else 422
    panels = _panels(
        field=field if wants_partial(request) else None,
        preview_forms={field.id: form},
        previews={field.id: threshold},
    )
    if wants_partial(request):
        return render(request, PREVIEW, {"panel": panels[0]}, status=status)
    return render(request, "review/dashboard.html", {"panels": panels}, status=status)


@login_required
@require_POST
def training_run_create(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    field = get_field_for_admin(request, key)
    with dispatch.watch(background=True) as follow_ups:
        run = runs.training_run_create(field=field, started_by=request.user)
    # Where tasks run inline (tests, a command) the run has ended already; say how.
    run = training_run_get(pk=run.pk)
    level, message = messages.SUCCESS, RUN_STARTED.format(field=field.name.lower())
    if follow_ups.deferred:
        level, message = messages.WARNING, RUN_DEFERRED.format(field=field.name.lower())
    elif run.status == TrainingRun.Status.FAILED:
        level, message = messages.ERROR, RUN_FAILED.format(message=run.message)
    elif run.status == TrainingRun.Status.SKIPPED:
        level, message = messages.INFO, RUN_SKIPPED.format(message=run.message)
    elif run.status == TrainingRun.Status.SUCCEEDED:
        message = run.message
    if request.htmx:
        return render_field_panel(request, field=field, message=message, level=level)
    messages.add_message(request, level, message)
    return redirect(_anchor(field))


@login_required
def training_run_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """A run's status. Polled by its dashboard row while it is queued or running."""
    run = get_training_run_for_admin(request, code)
    if not wants_partial(request):
        return render(request, "review/training_run.html", {"run": run})
    if run.status in (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING):
        return render(request, RUN_ROW, {"run": run})
    # Finished: refresh the field's panel, so the new version (and a re-prediction, if it was
    # promoted) shows beside the run and the train button works again.
    return _panel_in_place(request, field=run.field)


@login_required
def field_job_detail(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """A re-route or re-prediction's progress, polled by the dashboard while it runs."""
    job = get_field_job_for_admin(request, code)
    if not wants_partial(request):
        return redirect(_anchor(job.field))
    if job.is_active and jobs_reap(field_id=job.field_id):
        job.refresh_from_db()
    if job.is_active:
        return render(request, JOB, {"job": job})
    return _panel_in_place(request, field=job.field)


def _panel_in_place(request: AuthenticatedHttpRequest, *, field: Field) -> HttpResponse:
    """The field's whole panel, swapped in for the polling element that asked."""
    response = render(request, PANEL, {"panel": _panels(field=field)[0]})
    return reswap(retarget(response, f"#field-{field.key}"), "outerHTML")


def render_field_panel(
    request: AuthenticatedHttpRequest, *, field: Field, message: str, level: int
) -> HttpResponse:
    """The field's panel with a message at its top, for htmx to swap in after an action."""
    tag = messages.DEFAULT_TAGS[level]
    panel = _panels(field=field, message=message, message_level=tag)[0]
    return render(request, PANEL, {"panel": panel})
