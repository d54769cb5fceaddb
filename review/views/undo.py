"""Taking a decision back: undo it (the item waits again) or change it (a new decision)."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalogue.http import AuthenticatedHttpRequest
from catalogue.services.decisions import AlreadyDecided, decision_change, decision_undo
from review.access import get_prediction_for_reviewer
from review.selectors import queue_item_get
from review.views.common import safe_next_url
from review.views.queue import DECIDED_PARTIAL, decide_with, queue_status, refused

UNDONE = "Undone: {identifier} waits for a decision again."
INVALID_UNDO = "That undo could not be read: say which round of review it takes back."


class UndoForm(forms.Form):
    review_round = forms.IntegerField(min_value=0)


@login_required
@require_POST
def undo(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Take back the decision of the round the person saw; the item is back in the queue."""
    prediction = get_prediction_for_reviewer(request, code)
    form = UndoForm(request.POST)
    next_url = safe_next_url(request, request.POST.get("next"), default=reverse("review:queue"))
    if not form.is_valid():
        return refused(request, prediction, form, next_url, message=INVALID_UNDO, status=400)
    try:
        decision_undo(
            prediction=prediction,
            reviewer=request.user,
            review_round=form.cleaned_data["review_round"],
        )
    except AlreadyDecided as exc:
        return refused(request, prediction, form, next_url, message=str(exc), status=409)
    message = UNDONE.format(identifier=prediction.record.identifier)
    if request.htmx:
        context = {
            "item": queue_item_get(prediction=prediction),
            "undone": message,
            "next_url": next_url,
            **queue_status(request),
        }
        return render(request, DECIDED_PARTIAL, context)
    messages.success(request, message)
    return redirect(next_url)


@login_required
@require_POST
def change(request: AuthenticatedHttpRequest, code: UUID) -> HttpResponse:
    """Replace a standing decision with a new one (from the item page)."""
    prediction = get_prediction_for_reviewer(request, code)
    return decide_with(request, prediction, decision_change)
