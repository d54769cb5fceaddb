"""Where a field applies: an admin chooses its collections; a cataloguer marks one item
"not applicable"."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue import dispatch
from catalogue.http import AuthenticatedHttpRequest
from catalogue.services.applicability import (
    ApplicabilityError,
    field_set_collections,
    prediction_mark_not_applicable,
    prediction_unmark_not_applicable,
)
from review.access import get_field_for_admin, get_prediction_for_reviewer
from review.forms import collections_field
from review.views.common import safe_next_url

MARKED = "Marked not applicable: {field} will not be asked for {identifier} again."
UNMARKED = "{identifier} waits for a decision on its {field} again."
INVALID_ROUND = "That request could not be read: say which round of review it answers."
SAVED = "{field} now applies to {where}."
SAVED_WITHDRAWN = " {n} suggestion(s) outside them left the queue or were withdrawn."
SAVED_ENQUEUED = (
    " {n} record(s) of the added collections are being predicted: the progress is shown below."
)


class RoundForm(forms.Form):
    review_round = forms.IntegerField(min_value=0)


class CollectionsForm(forms.Form):
    collections = collections_field()


@login_required
@require_POST
def not_applicable(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Mark a waiting item "not applicable": kept, never asked again, not a training label."""
    prediction = get_prediction_for_reviewer(request, code)
    next_url = safe_next_url(request, request.POST.get("next"), default=reverse("review:queue"))
    form = RoundForm(request.POST)
    if not form.is_valid():
        messages.error(request, INVALID_ROUND)
        return redirect(next_url)
    try:
        prediction_mark_not_applicable(
            prediction=prediction,
            reviewer=request.user,
            review_round=form.cleaned_data["review_round"],
        )
    except ApplicabilityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            MARKED.format(
                field=prediction.field.name.lower(), identifier=prediction.record.identifier
            ),
        )
    return redirect(next_url)


@login_required
@require_POST
def not_applicable_undo(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Send an item marked "not applicable" back to the queue."""
    prediction = get_prediction_for_reviewer(request, code)
    try:
        prediction_unmark_not_applicable(prediction=prediction, reviewer=request.user)
    except ApplicabilityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            UNMARKED.format(
                field=prediction.field.name.lower(), identifier=prediction.record.identifier
            ),
        )
    return redirect(reverse("review:item", args=[prediction.code]))


@login_required
def field_collections(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    """Choose the collections a field applies to (admins)."""
    field = get_field_for_admin(request, key)
    form = CollectionsForm(
        request.POST or None, initial={"collections": list(field.collections.all())}
    )
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["collections"])
        with dispatch.watch(background=True) as follow_ups:
            result = field_set_collections(field=field, collections=chosen, changed_by=request.user)
        where = ", ".join(c.name for c in chosen) or "every collection"
        text = SAVED.format(field=field.name, where=where)
        if result.withdrawn:
            text += SAVED_WITHDRAWN.format(n=result.withdrawn)
        if result.enqueued:
            text += SAVED_ENQUEUED.format(n=result.enqueued)
        if follow_ups.deferred:
            messages.warning(request, f"{text} {dispatch.DEFERRED}")
        else:
            messages.success(request, text)
        return redirect(f"{reverse('review:dashboard')}#field-{field.key}")
    return render(request, "review/field_collections.html", {"field": field, "form": form})
